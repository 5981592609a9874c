"""The wishlist of signed-in shoppers: every write to ``WishlistItem`` and its reads."""

from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, OuterRef, QuerySet, Subquery

from accounts.models import User
from catalog.models import Product, WishlistItem
from catalog.selectors import product_listing


def add_to_wishlist(*, user: User, product: Product) -> tuple[WishlistItem, bool]:
    """Save ``product`` in ``user``'s wishlist; return ``(item, created)``.

    Idempotent: adding it again returns the existing item (a unique constraint, so two
    concurrent adds make one row).
    """
    try:
        with transaction.atomic():
            return WishlistItem.objects.create(user=user, product=product), True
    except IntegrityError:
        return WishlistItem.objects.get(user=user, product=product), False


def remove_from_wishlist(*, user: User, product: Product) -> bool:
    """Remove ``product`` from ``user``'s wishlist; return whether it was there."""
    deleted, _ = WishlistItem.objects.filter(user=user, product=product).delete()
    return bool(deleted)


def toggle_wishlist(*, user: User, product: Product) -> bool:
    """Add ``product`` if it is not in the wishlist, else remove it; return whether it is now."""
    if remove_from_wishlist(user=user, product=product):
        return False
    add_to_wishlist(user=user, product=product)
    return True


def wishlist_product_ids(*, user: User) -> set[int]:
    """Return the ids of the products in ``user``'s wishlist (one query)."""
    return set(WishlistItem.objects.filter(user=user).values_list("product_id", flat=True))


def wishlist_products(*, user: User) -> QuerySet[Product]:
    """Return the wishlist's products as listing rows (``product_listing``), newest first.

    Each carries ``added_at``. Products no longer for sale (archived, nothing active) are not
    listed. One query (per page).
    """
    added = WishlistItem.objects.filter(user=user, product_id=OuterRef("pk")).values("added_at")
    return (
        product_listing()
        .filter(wishlisted__user=user)
        .annotate(added_at=Subquery(added[:1], output_field=DateTimeField()))
        .order_by("-added_at", "-id")
    )
