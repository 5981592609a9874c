"""Optimistic concurrency (ETag / If-Match → 412) and the staff category writes."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import StaffUserFactory, UserFactory
from catalog import services
from catalog.concurrency import NO_VERSION, version_from_if_match
from catalog.errors import StaleVersion
from catalog.models import Category, Product, Variant
from catalog.tests.factories import CategoryFactory, make_variant

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(api_client):
    api_client.force_authenticate(StaffUserFactory(roles=["Catalog managers"]))
    return api_client


def test_if_match_parsing():
    assert version_from_if_match(None) is None
    assert version_from_if_match("*") is None
    assert version_from_if_match('"7"') == 7
    assert version_from_if_match('W/"7"') == 7
    assert version_from_if_match('"x", "3"') == 3
    assert version_from_if_match("garbage") == NO_VERSION


def test_every_service_write_raises_the_version_and_a_stale_one_is_refused():
    variant = make_variant()
    product = variant.product
    assert product.version == 1
    services.update_product(product=product, name="A", expected_version=1)
    assert Product.objects.get(pk=product.pk).version == 2
    with pytest.raises(StaleVersion) as exc:
        services.update_product(product=product, name="B", expected_version=1)
    assert exc.value.current_version == 2
    assert Product.objects.get(pk=product.pk).name == "A"
    services.update_variant(variant=variant, price=Decimal("9.99"))
    assert Variant.objects.get(pk=variant.pk).version == 2
    services.archive_product(product=product)
    assert Product.objects.get(pk=product.pk).version == 3


def test_a_product_patch_with_a_stale_etag_answers_412_and_changes_nothing(staff):
    product = make_variant().product
    url = f"/api/v1/products/{product.slug}/"
    etag = staff.get(url).headers["ETag"]
    assert etag == '"1"'
    first = staff.patch(url, {"name": "First"}, HTTP_IF_MATCH=etag)
    assert first.status_code == 200
    assert first.headers["ETag"] == '"2"'
    second = staff.patch(url, {"name": "Second"}, HTTP_IF_MATCH=etag)
    assert second.status_code == 412
    assert second.json()["code"] == "precondition_failed"
    assert Product.objects.get(pk=product.pk).name == "First"
    assert staff.patch(url, {"name": "Third"}).status_code == 200  # no If-Match: as before


def test_a_variant_patch_with_a_stale_etag_answers_412(staff):
    variant = make_variant()
    url = f"/api/v1/variants/{variant.sku}/"
    etag = staff.get(url).headers["ETag"]
    assert staff.patch(url, {"price": "5.00"}, HTTP_IF_MATCH=etag).status_code == 200
    stale = staff.patch(url, {"price": "6.00"}, HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert stale.json()["code"] == "precondition_failed"
    assert Variant.objects.get(pk=variant.pk).price == Decimal("5.00")
    assert staff.patch(url, {"price": "6.00"}, HTTP_IF_MATCH="nonsense").status_code == 412


def test_staff_create_rename_and_move_categories(staff):
    response = staff.post("/api/v1/categories/", {"name": "Lamps", "description": "Light"})
    assert response.status_code == 201
    assert response.json()["slug"] == "lamps"
    outdoor = staff.post("/api/v1/categories/", {"name": "Outdoor", "slug": "outdoor"}).json()
    url = "/api/v1/categories/lamps/"
    etag = staff.get(url).headers["ETag"]
    moved = staff.patch(url, {"name": "Lanterns", "parent": "outdoor"}, HTTP_IF_MATCH=etag)
    assert moved.status_code == 200
    assert moved.json()["parent"] == "outdoor"
    assert moved.json()["ancestors"][0]["slug"] == outdoor["slug"]
    assert staff.patch(url, {"name": "Again"}, HTTP_IF_MATCH=etag).status_code == 412
    assert staff.patch(url, {"parent": None}).json()["parent"] is None


def test_moving_a_category_into_its_own_subtree_is_a_validation_error(staff):
    root = CategoryFactory(slug="root")
    child = CategoryFactory(slug="child", parent=root)
    response = staff.patch("/api/v1/categories/root/", {"parent": child.slug})
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "parent" in response.json()["errors"]
    assert staff.patch("/api/v1/categories/root/", {"parent": "root"}).status_code == 400
    assert Category.objects.get(pk=root.pk).parent is None


def test_only_an_empty_category_can_be_deleted(staff):
    variant = make_variant()
    category = variant.product.category
    child = CategoryFactory(parent=CategoryFactory(slug="parent"))
    refused = staff.delete(f"/api/v1/categories/{category.slug}/")
    assert refused.status_code == 409
    assert refused.json()["code"] == "category_not_empty"
    assert staff.delete("/api/v1/categories/parent/").status_code == 409
    assert staff.delete(f"/api/v1/categories/{child.slug}/").status_code == 204
    assert staff.delete("/api/v1/categories/parent/").status_code == 204


def test_category_writes_need_the_permission(api_client):
    assert api_client.post("/api/v1/categories/", {"name": "X"}).status_code == 401
    api_client.force_authenticate(UserFactory())
    assert api_client.post("/api/v1/categories/", {"name": "X"}).status_code == 403
    api_client.force_authenticate(StaffUserFactory(roles=["Fulfilment"]))
    assert api_client.post("/api/v1/categories/", {"name": "X"}).status_code == 403
    assert not Category.objects.filter(name="X").exists()


def test_the_admin_refuses_a_stale_product_save_and_says_what_changed(client):
    product = make_variant().product
    client.force_login(StaffUserFactory(roles=[], is_superuser=True))
    url = reverse("admin:catalog_product_change", args=[product.pk])
    page = client.get(url)
    assert b'name="edit_version"' in page.content
    form = page.context["adminform"].form
    data = {
        name: (form[name].value() if form[name].value() is not None else "") for name in form.fields
    }
    data.update(
        {
            "name": "Mine",
            "variants-TOTAL_FORMS": "0",
            "variants-INITIAL_FORMS": "0",
            "images-TOTAL_FORMS": "0",
            "images-INITIAL_FORMS": "0",
        }
    )
    services.update_product(product=product, name="Theirs")  # someone else saves meanwhile
    response = client.post(url, data)
    assert response.status_code == 200
    assert b"Someone else saved this product" in response.content
    assert b"Theirs" in response.content
    assert Product.objects.get(pk=product.pk).name == "Theirs"
    data["edit_version"] = str(Product.objects.get(pk=product.pk).version)
    assert client.post(url, data).status_code == 302
    saved = Product.objects.get(pk=product.pk)
    assert saved.name == "Mine"
    assert saved.version == 3
