"""Reviews and ratings: the service rules, the API, the admin moderation and the page."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from accounts.tests.factories import StaffUserFactory, UserFactory
from catalog import reviews
from catalog.errors import AlreadyReviewed, InvalidReview, TooManyReviews
from catalog.models import Review, ReviewStatus
from catalog.tests.factories import ProductFactory, VariantFactory
from notifications.models import Notification, NotificationKind

pytestmark = pytest.mark.django_db
BODY = "Sturdy, bright and worth the price."


@pytest.fixture
def product():
    product = ProductFactory(name="Desk lamp", slug="desk-lamp")
    VariantFactory(product=product)
    return product


def submit(product, user=None, rating=4, **kwargs):
    return reviews.submit_review(
        user=user or UserFactory(), product=product, rating=rating, title="", body=BODY, **kwargs
    )


def test_a_moderated_review_waits_and_emails_staff(product, settings):
    settings.SHOP_STAFF_EMAILS = ["mod@example.com"]
    review = submit(product)
    assert review.status == ReviewStatus.PENDING
    product.refresh_from_db()
    assert product.rating_count == 0
    email = Notification.objects.get(kind=NotificationKind.REVIEW_PENDING)
    assert email.recipient == "mod@example.com"
    assert "Desk lamp" in email.subject


def test_publishing_and_rejecting_update_the_rating(product):
    first, second = submit(product, rating=5), submit(product, rating=2)
    reviews.publish_reviews(review_ids=[first.pk, second.pk])
    product.refresh_from_db()
    assert (product.rating_count, f"{product.rating_average:.1f}") == (2, "3.5")
    reviews.reject_reviews(review_ids=[second.pk], reason="Off topic")
    product.refresh_from_db()
    assert (product.rating_count, product.rating_average) == (1, 5)
    second.refresh_from_db()
    assert second.rejection_reason == "Off topic"
    with pytest.raises(InvalidReview):
        reviews.reject_reviews(review_ids=[first.pk], reason="  ")


def test_without_moderation_a_review_is_published_at_once(product, settings):
    settings.SHOP_REVIEWS_MODERATED = False
    submit(product, rating=3)
    product.refresh_from_db()
    assert product.rating_count == 1
    assert not Notification.objects.filter(kind=NotificationKind.REVIEW_PENDING).exists()


def test_one_review_per_user_and_product(product):
    user = UserFactory()
    submit(product, user=user)
    with pytest.raises(AlreadyReviewed):
        submit(product, user=user)


def test_abuse_limits_length_and_rate(product, settings):
    with pytest.raises(InvalidReview):
        reviews.submit_review(user=UserFactory(), product=product, rating=6, title="", body=BODY)
    with pytest.raises(InvalidReview):
        reviews.submit_review(user=UserFactory(), product=product, rating=5, title="", body="ok")
    settings.SHOP_REVIEWS_PER_HOUR = 2
    user = UserFactory()
    for _ in range(2):
        submit(ProductFactory(), user=user)
    with pytest.raises(TooManyReviews):
        submit(product, user=user)


# ---- API ------------------------------------------------------------------------------


def test_the_api_lists_published_reviews_newest_first(product, api_client):
    old = submit(product, rating=5)
    new = submit(product, rating=1)
    submit(product, rating=3)  # pending: not listed
    reviews.publish_reviews(review_ids=[old.pk, new.pk])
    body = api_client.get("/api/v1/products/desk-lamp/reviews/").json()
    assert [r["id"] for r in body["results"]] == [new.pk, old.pk]
    assert set(body["results"][0]) == {
        "id",
        "rating",
        "title",
        "body",
        "author",
        "verified_buyer",
        "created_at",
    }
    detail = api_client.get("/api/v1/products/desk-lamp/").json()
    assert detail["rating"] == {"average": "3.0", "count": 2}
    listed = api_client.get("/api/v1/products/").json()["results"][0]
    assert listed["rating"] == {"average": "3.0", "count": 2}


def test_posting_a_review_needs_sign_in_and_happens_once(product, api_client):
    payload = {"rating": 5, "title": "Great", "body": BODY}
    assert api_client.post("/api/v1/products/desk-lamp/reviews/", payload).status_code == 401
    api_client.force_authenticate(UserFactory())
    response = api_client.post("/api/v1/products/desk-lamp/reviews/", payload, format="json")
    assert response.status_code == 201
    assert response.json()["status"] == "pending"
    again = api_client.post("/api/v1/products/desk-lamp/reviews/", payload, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "already_reviewed"
    bad = api_client.post(
        "/api/v1/products/desk-lamp/reviews/", {"rating": 9, "body": "x"}, format="json"
    )
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"rating", "body"}
    assert api_client.get("/api/v1/products/nope/reviews/").status_code == 404


def test_sorting_by_rating_puts_unrated_products_last(api_client, settings):
    settings.SHOP_REVIEWS_MODERATED = False
    good, poor = ProductFactory(name="Good"), ProductFactory(name="Poor")
    unrated = ProductFactory(name="Unrated")
    for p in (good, poor, unrated):
        VariantFactory(product=p)
    submit(good, rating=5)
    submit(poor, rating=2)
    body = api_client.get("/api/v1/products/", {"ordering": "-rating"}).json()
    assert [r["name"] for r in body["results"]] == ["Good", "Poor", "Unrated"]


# ---- admin ----------------------------------------------------------------------------


def test_staff_publish_and_reject_with_a_reason_in_admin(product, client):
    client.force_login(StaffUserFactory(is_superuser=True))
    first, second = submit(product, rating=5), submit(product, rating=1)
    url = "/admin/catalog/review/"
    client.post(url, {"action": "publish", ACTION_CHECKBOX_NAME: [first.pk]})
    asked = client.post(url, {"action": "reject", ACTION_CHECKBOX_NAME: [second.pk]})
    assert asked.status_code == 200
    assert b'name="reason"' in asked.content
    client.post(url, {"action": "reject", ACTION_CHECKBOX_NAME: [second.pk], "reason": "Spam"})
    statuses = dict(Review.objects.values_list("pk", "status"))
    assert statuses == {first.pk: "published", second.pk: "rejected"}
    assert Review.objects.get(pk=second.pk).rejection_reason == "Spam"


# ---- HTML -----------------------------------------------------------------------------


def test_the_product_page_shows_reviews_and_takes_a_new_one(product, client, settings):
    settings.SHOP_REVIEWS_MODERATED = False
    submit(product, rating=4)
    page = client.get("/p/desk-lamp/").content.decode()
    assert BODY in page
    assert "Sign in</a> to write a review" in page
    user = UserFactory()
    client.force_login(user)
    assert 'action="/p/desk-lamp/reviews/"' in client.get("/p/desk-lamp/").content.decode()
    invalid = client.post("/p/desk-lamp/reviews/", {"rating": "5", "body": "short"})
    assert invalid.status_code == 400
    response = client.post(
        "/p/desk-lamp/reviews/", {"rating": "5", "title": "Lovely", "body": BODY}, follow=True
    )
    assert "Your review is published" in response.content.decode()
    assert Review.objects.get(user=user).rating == 5
    assert "Thank you for your review" in response.content.decode()


def test_posting_a_review_signed_out_redirects_to_sign_in(product, client):
    response = client.post("/p/desk-lamp/reviews/", {"rating": "5", "body": BODY})
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
