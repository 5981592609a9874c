"""Products and variants from CSV/XLSX in the admin: a previewed import that writes nothing
until every row is right, through catalog.services; the export round-trips."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from accounts.roles import CATALOG_MANAGERS, FULFILMENT
from accounts.tests.factories import StaffUserFactory
from catalog.models import Product, ProductStatus, Variant
from catalog.tests.factories import CategoryFactory, make_variant
from inventory.models import MovementReason, StockItem, StockMovement

pytestmark = pytest.mark.django_db

IMPORT = "admin:catalog_variant_import"
PROCESS = "admin:catalog_variant_process_import"
HEADER = "sku,product,product_slug,category,status,variant_name,price,attributes,is_active,stock"


@pytest.fixture
def manager(client):
    client.force_login(StaffUserFactory(roles=[CATALOG_MANAGERS]))
    return client


@pytest.fixture
def lamps():
    return CategoryFactory(slug="lamps", name="Lamps")


def csv_file(*rows: str) -> SimpleUploadedFile:
    body = "\n".join([HEADER, *rows]) + "\n"
    return SimpleUploadedFile("products.csv", body.encode(), content_type="text/csv")


def preview(client, upload, fmt: str = "0"):
    return client.post(reverse(IMPORT), {"resource": "0", "format": fmt, "import_file": upload})


def confirm(client, response):
    form = response.context["confirm_form"]
    return client.post(reverse(PROCESS), {**form.initial, "resource": "0"}, follow=True)


def test_preview_writes_nothing_and_confirm_creates_drafts_with_stock(manager, lamps):
    response = preview(
        manager,
        csv_file(
            "LAMP-S,Fjell Summit Lamp,,lamps,,S,99.72,Size=S; Colour=Red,1,12",
            "LAMP-M,Fjell Summit Lamp,,lamps,,M,109.00,Size=M,1,0",
        ),
    )
    assert response.status_code == 200
    assert response.context["result"].totals["new"] == 2
    assert not Variant.objects.exists()
    assert not Product.objects.exists()
    done = confirm(manager, response)
    assert done.status_code == 200
    product = Product.objects.get(slug="fjell-summit-lamp")
    assert product.status == ProductStatus.DRAFT
    small = Variant.objects.get(sku="LAMP-S")
    assert (small.product, small.price, small.attributes) == (
        product,
        Decimal("99.72"),
        {"Size": "S", "Colour": "Red"},
    )
    assert StockItem.objects.get(variant=small).on_hand == 12
    assert StockMovement.objects.get(variant=small).reason == MovementReason.RESTOCK
    assert StockItem.objects.get(variant__sku="LAMP-M").on_hand == 0


def test_one_bad_row_is_shown_and_nothing_can_be_imported(manager, lamps):
    response = preview(
        manager,
        csv_file(
            "LAMP-S,Fjell Summit Lamp,,lamps,,S,99.72,,1,5",
            "LAMP-M,Fjell Summit Lamp,,lamps,,M,-4,,1,5",
            "LAMP-L,Fjell Summit Lamp,,no-such-category-x,,L,10,,1,5",
        ),
    )
    page = response.content.decode()
    result = response.context["result"]
    assert result.has_validation_errors()
    assert "The price must be greater than zero." in page
    assert "confirm_form" not in response.context or response.context["confirm_form"] is None
    assert not Variant.objects.exists()
    assert not Product.objects.exists()


def test_a_sku_taken_or_repeated_is_a_row_error(manager, lamps):
    make_variant(sku="TAKEN-1")
    response = preview(
        manager,
        csv_file(
            "taken-1,Other,,lamps,,,5,,1,0",
            "NEW-1,Other,,lamps,,,5,,1,0",
            "new-1,Other,,lamps,,,5,,1,0",
        ),
    )
    page = response.content.decode()
    assert response.context["result"].has_validation_errors()
    assert "new-1 is repeated in this file." in page
    assert Variant.objects.count() == 1


def test_existing_variants_are_updated_but_their_stock_is_not(manager, lamps):
    variant = make_variant(sku="KEEP-1", price=Decimal("10.00"), on_hand=7)
    slug = variant.product.slug
    response = preview(manager, csv_file(f"keep-1,,{slug},,,Big,12.50,,1,999"))
    assert response.context["result"].totals["update"] == 1
    confirm(manager, response)
    variant.refresh_from_db()
    assert (variant.name, variant.price) == ("Big", Decimal("12.50"))
    assert StockItem.objects.get(variant=variant).on_hand == 7


def test_xlsx_imports_too(manager, lamps):
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    sheet.append(["XL-1", "Sheet Lamp", "", "lamps", "active", "", "20", "", "1", "3"])
    data = io.BytesIO()
    book.save(data)
    upload = SimpleUploadedFile("products.xlsx", data.getvalue())
    response = preview(manager, upload, fmt="1")
    assert response.context["result"].totals["new"] == 1
    confirm(manager, response)
    assert Product.objects.get(slug="sheet-lamp").status == ProductStatus.ACTIVE
    assert StockItem.objects.get(variant__sku="XL-1").on_hand == 3


def test_export_round_trips_the_columns(manager):
    variant = make_variant(sku="EXP-1", price=Decimal("9.50"), on_hand=4)
    variant.attributes = {"Size": "L"}
    variant.save()
    response = manager.post(
        reverse("admin:catalog_variant_export"),
        {
            "format": "0",
            "resource": "0",
            **{f"variantresource_{c}": "on" for c in HEADER.split(",")},
        },
    )
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows[0]["sku"] == "EXP-1"
    assert rows[0]["price"] == "9.50"
    assert rows[0]["attributes"] == "Size=L"
    assert rows[0]["stock"] == "4"
    assert rows[0]["product_slug"] == variant.product.slug


def test_fulfilment_may_export_but_not_import_products(client):
    client.force_login(StaffUserFactory(roles=[FULFILMENT]))
    assert client.get(reverse(IMPORT)).status_code == 403
    assert client.get(reverse("admin:catalog_variant_export")).status_code == 200


def test_the_product_list_links_to_import_and_export(manager):
    page = manager.get(reverse("admin:catalog_product_changelist")).content.decode()
    assert reverse(IMPORT) in page
    assert reverse("admin:catalog_variant_export") in page
