"""Staff roles on the catalogue: Catalog managers write it, other staff do not (API and admin)."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.tests.factories import StaffUserFactory
from catalog.models import Product, ProductStatus
from catalog.tests.factories import CategoryFactory, ProductFactory, make_variant

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/products/"
VARIANTS = "/api/v1/variants/"


def api_as(*roles) -> APIClient:
    client = APIClient()
    client.force_authenticate(StaffUserFactory(roles=list(roles)))
    return client


def new_product(**overrides) -> dict:
    variants = [{"sku": "TR-40", "name": "EU 40", "price": "89.90", "on_hand": 7}]
    return {"name": "Trail Runner", "category": CategoryFactory().slug, "variants": variants}


def assert_denied(response) -> None:
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")


def staff_writes(client: APIClient, slug: str, sku: str) -> list:
    """Make every catalogue write the API has; return the responses."""
    return [
        client.post(PRODUCTS, new_product(), format="json"),
        client.patch(f"{PRODUCTS}{slug}/", {"name": "Renamed"}, format="json"),
        client.post(
            f"{PRODUCTS}{slug}/variants/",
            {"sku": "NEW-1", "name": "New", "price": "10.00"},
            format="json",
        ),
        client.patch(f"{VARIANTS}{sku}/", {"price": "1.00"}, format="json"),
        client.delete(f"{PRODUCTS}{slug}/"),
    ]


def test_catalog_managers_write_the_catalogue():
    variant = make_variant(sku="OLD-1")
    responses = staff_writes(api_as("Catalog managers"), variant.product.slug, "OLD-1")
    assert [r.status_code for r in responses] == [201, 200, 201, 200, 204]


@pytest.mark.parametrize("roles", [["Fulfilment"], ["Customer service"], ["Finance"], []])
def test_other_staff_get_403_on_every_catalogue_write(roles):
    variant = make_variant(sku="OLD-1")
    for response in staff_writes(api_as(*roles), variant.product.slug, "OLD-1"):
        assert_denied(response)
    assert Product.objects.count() == 1
    variant.product.refresh_from_db()
    assert variant.product.status == ProductStatus.ACTIVE


def test_only_staff_with_the_view_permission_see_drafts():
    draft = ProductFactory(status=ProductStatus.DRAFT)
    assert api_as("Catalog managers").get(f"{PRODUCTS}{draft.slug}/").status_code == 200
    assert api_as("Finance").get(f"{PRODUCTS}{draft.slug}/").status_code == 404


def test_archive_action_needs_the_change_permission(client):
    product = make_variant().product
    url = reverse("admin:catalog_product_changelist")
    client.force_login(StaffUserFactory(roles=["Fulfilment"]))
    assert b'value="archive_selected"' not in client.get(url).content
    client.post(url, {"action": "archive_selected", "_selected_action": [product.pk]})
    product.refresh_from_db()
    assert product.status == ProductStatus.ACTIVE
    client.force_login(StaffUserFactory(roles=["Catalog managers"]))
    assert b'value="archive_selected"' in client.get(url).content
    client.post(url, {"action": "archive_selected", "_selected_action": [product.pk]})
    product.refresh_from_db()
    assert product.status == ProductStatus.ARCHIVED
