"""Reviews and ratings: every write to ``Review`` and the product's rating summary.

A signed-in shopper reviews a product once (``submit_review``). "Verified buyer" is asked of
the orders app through a hook it registers (``register_purchase_check``: the catalogue may
not import orders). With ``SHOP_REVIEWS_MODERATED`` (default true) a review waits for staff
(``publish_reviews`` / ``reject_reviews``, admin actions) and staff are emailed
(``catalog.signals.review_submitted``); otherwise it is published at once. Only published
reviews count in ``Product.rating_average`` / ``rating_count``, recomputed by
``refresh_ratings`` whenever a review is published, rejected or deleted.
"""

from collections.abc import Iterable
from datetime import timedelta
from typing import Protocol

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from catalog.cache import bump_catalog_version
from catalog.errors import AlreadyReviewed, InvalidReview, TooManyReviews
from catalog.models import Product, Review, ReviewStatus
from catalog.signals import review_submitted

TITLE_MAX_LENGTH = 120
BODY_MIN_LENGTH = 10
BODY_MAX_LENGTH = 5000


class PurchaseCheck(Protocol):
    def __call__(self, *, user: User, product: Product) -> bool: ...


_purchase_check: PurchaseCheck | None = None


def register_purchase_check(*, check: PurchaseCheck | None) -> None:
    """Set how to tell whether a user bought a product (the orders app, in ``ready()``)."""
    global _purchase_check
    _purchase_check = check


def has_bought(*, user: User, product: Product) -> bool:
    """Return whether ``user`` bought ``product`` (False when no check is registered)."""
    return bool(_purchase_check and _purchase_check(user=user, product=product))


def reviews_per_hour() -> int:
    return int(getattr(settings, "SHOP_REVIEWS_PER_HOUR", 5))


def validate_review(*, rating: int, title: str, body: str) -> dict[str, list[str]]:
    """Return the problems of a review's fields by field name (empty when it is fine)."""
    errors: dict[str, list[str]] = {}
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        errors["rating"] = ["Give a rating from 1 to 5 stars."]
    if len(title) > TITLE_MAX_LENGTH:
        errors["title"] = [f"The title is at most {TITLE_MAX_LENGTH} characters."]
    if not BODY_MIN_LENGTH <= len(body.strip()) <= BODY_MAX_LENGTH:
        errors["body"] = [
            f"Write between {BODY_MIN_LENGTH} and {BODY_MAX_LENGTH} characters of review."
        ]
    return errors


def submit_review(*, user: User, product: Product, rating: int, title: str, body: str) -> Review:
    """Record ``user``'s review of ``product``; return it (pending or published).

    One transaction. Raises ``InvalidReview`` (field problems in ``errors``),
    ``TooManyReviews`` after ``SHOP_REVIEWS_PER_HOUR`` reviews by the user in the last hour,
    ``AlreadyReviewed`` when the user reviewed the product before (a unique constraint, so
    two concurrent submissions make one review). A pending review sends
    ``review_submitted`` in the transaction; a published one updates the product's rating.
    """
    title, body = title.strip(), body.strip()
    errors = validate_review(rating=rating, title=title, body=body)
    if errors:
        raise InvalidReview(next(iter(errors.values()))[0], errors=errors)
    since = timezone.now() - timedelta(hours=1)
    if Review.objects.filter(user=user, created_at__gte=since).count() >= reviews_per_hour():
        raise TooManyReviews()
    moderated = bool(getattr(settings, "SHOP_REVIEWS_MODERATED", True))
    with transaction.atomic():
        try:
            with transaction.atomic():
                review = Review.objects.create(
                    product=product,
                    user=user,
                    rating=rating,
                    title=title,
                    body=body,
                    verified_buyer=has_bought(user=user, product=product),
                    status=ReviewStatus.PENDING if moderated else ReviewStatus.PUBLISHED,
                )
        except IntegrityError as exc:
            raise AlreadyReviewed() from exc
        if moderated:
            review_submitted.send(sender=Review, review_id=review.pk)
        else:
            refresh_ratings(product_ids=[product.pk])
    return review


def _moderate(review_ids: Iterable[int], **changes) -> int:
    with transaction.atomic():
        reviews = Review.objects.filter(pk__in=list(review_ids))
        product_ids = set(reviews.values_list("product_id", flat=True))
        count = reviews.update(moderated_at=timezone.now(), **changes)
        refresh_ratings(product_ids=product_ids)
    return count


def publish_reviews(*, review_ids: Iterable[int]) -> int:
    """Publish the given reviews and update their products' ratings; return how many."""
    return _moderate(review_ids, status=ReviewStatus.PUBLISHED, rejection_reason="")


def reject_reviews(*, review_ids: Iterable[int], reason: str) -> int:
    """Reject the given reviews with ``reason`` (kept for staff); return how many.

    A rejected review no longer counts in its product's rating. Raises ``InvalidReview``
    without a reason.
    """
    reason = reason.strip()
    if not reason:
        raise InvalidReview("Say why the review is rejected.")
    return _moderate(review_ids, status=ReviewStatus.REJECTED, rejection_reason=reason[:300])


def delete_review(*, review: Review) -> None:
    """Delete a review and update its product's rating (one transaction)."""
    with transaction.atomic():
        product_id = review.product_id
        review.delete()
        refresh_ratings(product_ids=[product_id])


def refresh_ratings(*, product_ids: Iterable[int]) -> None:
    """Recompute ``rating_average`` / ``rating_count`` of the products from published reviews.

    One UPDATE; the catalogue cache is invalidated after commit.
    """
    ids = list(product_ids)
    if not ids:
        return
    published = Review.objects.filter(product_id=OuterRef("pk"), status=ReviewStatus.PUBLISHED)
    Product.objects.filter(pk__in=ids).update(
        rating_average=Subquery(
            published.order_by().values("product_id").annotate(a=Avg("rating")).values("a")[:1]
        ),
        rating_count=Coalesce(
            Subquery(
                published.order_by().values("product_id").annotate(c=Count("pk")).values("c")[:1]
            ),
            Value(0),
        ),
    )
    bump_catalog_version()


def published_reviews(*, product: Product) -> QuerySet[Review]:
    """Return the product's published reviews, newest first, with their authors."""
    return (
        Review.objects.filter(product=product, status=ReviewStatus.PUBLISHED)
        .select_related("user")
        .order_by("-created_at", "-id")
    )


def author_name(*, review: Review) -> str:
    """Return how a review is signed: the author's first name and initial, or "A shopper"."""
    user = review.user
    first = (user.first_name or "").strip()
    last = (user.last_name or "").strip()
    if first:
        return f"{first} {last[:1]}." if last else first
    return "A shopper"
