"""The wishlist: service, API, the heart button (HTMX and plain form) and the page."""

import pytest

from accounts.tests.factories import UserFactory
from catalog import wishlist
from catalog.models import WishlistItem
from catalog.tests.factories import ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/wishlist/"


@pytest.fixture
def lamp():
    product = ProductFactory(name="Desk lamp", slug="desk-lamp")
    VariantFactory(product=product)
    return product


def test_adding_twice_keeps_one_entry_and_toggling_removes_it(lamp):
    user = UserFactory()
    assert wishlist.add_to_wishlist(user=user, product=lamp)[1] is True
    assert wishlist.add_to_wishlist(user=user, product=lamp)[1] is False
    assert WishlistItem.objects.count() == 1
    assert wishlist.toggle_wishlist(user=user, product=lamp) is False
    assert not WishlistItem.objects.exists()


def test_the_api_adds_lists_and_removes(lamp, api_client, django_assert_max_num_queries):
    assert api_client.get(URL).status_code == 401
    user = UserFactory()
    api_client.force_authenticate(user)
    assert api_client.post(URL, {"product": "desk-lamp"}, format="json").status_code == 201
    again = api_client.post(URL, {"product": "desk-lamp"}, format="json")
    assert again.status_code == 200
    assert again.json()["product"]["slug"] == "desk-lamp"
    for _ in range(4):
        other = ProductFactory()
        VariantFactory(product=other)
        wishlist.add_to_wishlist(user=user, product=other)
    with django_assert_max_num_queries(4):
        body = api_client.get(URL).json()
    assert body["count"] == 5
    assert set(body["results"][-1]) == {"product", "added_at"}
    assert body["results"][-1]["product"]["slug"] == "desk-lamp"
    bad = api_client.post(URL, {"product": "nope"}, format="json")
    assert bad.status_code == 400
    assert bad.json()["code"] == "validation_error"
    assert api_client.delete(f"{URL}desk-lamp/").status_code == 204
    assert api_client.delete(f"{URL}desk-lamp/").status_code == 404


def test_another_users_wishlist_is_not_visible(lamp, api_client):
    wishlist.add_to_wishlist(user=UserFactory(), product=lamp)
    api_client.force_authenticate(UserFactory())
    assert api_client.get(URL).json()["count"] == 0
    assert api_client.delete(f"{URL}desk-lamp/").status_code == 404


def test_the_heart_toggles_with_htmx_and_without_javascript(lamp, client):
    user = UserFactory()
    client.force_login(user)
    page = client.get("/p/desk-lamp/").content.decode()
    assert 'aria-pressed="false"' in page
    fragment = client.post("/wishlist/desk-lamp/toggle/", headers={"HX-Request": "true"})
    assert 'aria-pressed="true"' in fragment.content.decode()
    assert "<html" not in fragment.content.decode()
    plain = client.post("/wishlist/desk-lamp/toggle/", {"next": "/search/"})
    assert plain.status_code == 302
    assert plain["Location"] == "/search/"
    assert not WishlistItem.objects.exists()
    unsafe = client.post("/wishlist/desk-lamp/toggle/", {"next": "https://evil.example/"})
    assert unsafe["Location"] == "/p/desk-lamp/"


def test_the_wishlist_page_lists_saved_products(lamp, client):
    assert client.get("/wishlist/").status_code == 302
    user = UserFactory()
    wishlist.add_to_wishlist(user=user, product=lamp)
    client.force_login(user)
    page = client.get("/wishlist/").content.decode()
    assert "Desk lamp" in page
    assert 'aria-pressed="true"' in page


def test_signed_out_shoppers_get_a_sign_in_link_instead_of_the_heart(lamp, client):
    page = client.get("/p/desk-lamp/").content.decode()
    assert "Sign in to save this to your wishlist" in page
    assert client.post("/wishlist/desk-lamp/toggle/").status_code == 302


@pytest.mark.parametrize("slug", ["desk\x00lamp", 42, ["desk-lamp"], "x" * 300])
def test_a_product_that_cannot_be_a_slug_is_a_400_not_a_server_error(lamp, api_client, slug):
    api_client.force_authenticate(UserFactory())
    response = api_client.post(URL, {"product": slug}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert not WishlistItem.objects.exists()
