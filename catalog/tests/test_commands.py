import json
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db.models import Sum

from catalog.models import Category, Product, ProductImage, Variant
from catalog.tests.factories import CategoryFactory, make_variant
from inventory.models import StockItem, StockMovement

pytestmark = pytest.mark.django_db

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "products.json"


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


# ---- seed_shop -----------------------------------------------------------------------


def test_seed_shop_builds_the_demo_shop_and_is_idempotent(settings):
    settings.DEBUG = True  # the demo admin is made only in development (test_seed_admin.py)
    run("seed_shop", "--products", "30")
    admin = get_user_model().objects.get(email="admin@shop.com")
    assert admin.is_staff
    assert admin.is_superuser
    assert admin.must_change_password
    assert admin.check_password("admin123")
    assert Category.objects.filter(parent=None).count() == 8
    assert Category.objects.exclude(parent=None).exists()
    assert Product.objects.count() == 30
    counts = [p.variants.count() for p in Product.objects.prefetch_related("variants")]
    assert min(counts) >= 1
    assert max(counts) <= 4
    assert StockItem.objects.count() == Variant.objects.count()
    assert (
        StockItem.objects.aggregate(s=Sum("on_hand"))["s"]
        == (StockMovement.objects.aggregate(s=Sum("delta"))["s"])
    )
    image = ProductImage.objects.first()
    assert default_storage.exists(image.image.name)
    assert default_storage.open(image.image.name).read(8) == b"\x89PNG\r\n\x1a\n"

    snapshot = list(Variant.objects.order_by("sku").values_list("sku", "price"))
    run("seed_shop", "--products", "30")
    assert get_user_model().objects.filter(email__iexact="admin@shop.com").count() == 1
    assert Product.objects.count() == 30
    assert list(Variant.objects.order_by("sku").values_list("sku", "price")) == snapshot
    assert ProductImage.objects.count() == 30


def test_seed_shop_grows_a_catalog_and_shares_images_for_big_ones():
    run("seed_shop", "--products", "10")
    first = set(Product.objects.values_list("slug", flat=True))
    run("seed_shop", "--products", "250")
    assert Product.objects.count() == 250
    assert first <= set(Product.objects.values_list("slug", flat=True))
    shared = ProductImage.objects.filter(image__startswith="products/seed/").values("image")
    assert shared.distinct().count() < 30


def test_seed_shop_includes_low_and_out_of_stock_variants():
    run("seed_shop", "--products", "100")
    assert StockItem.objects.filter(on_hand=0).exists()
    assert StockItem.objects.filter(on_hand__gt=0, on_hand__lte=5).exists()


# ---- import_products -----------------------------------------------------------------


@pytest.fixture
def sample_categories():
    for slug in ("running", "cookware", "books"):
        CategoryFactory(slug=slug)


def write(tmp_path, rows) -> str:
    path = tmp_path / "products.json"
    path.write_text(rows if isinstance(rows, str) else json.dumps(rows, indent=2))
    return str(path)


def test_import_sample_file_creates_products_variants_and_stock(sample_categories):
    out = run("import_products", str(SAMPLE))
    assert "3 product(s): 3 new" in out
    kettle = Product.objects.get(slug="harbor-enamel-kettle")
    assert kettle.attributes["brand"] == "Harbor"
    white = Variant.objects.get(sku="HEK-WHT")
    assert (white.price, white.stock.on_hand) == (Decimal("54.00"), 20)
    assert Variant.objects.get(sku="STR-42").stock.low_stock_threshold == 4
    assert StockMovement.objects.filter(variant=white, delta=20).exists()


def test_import_updates_existing_products_and_stock_levels(sample_categories, tmp_path):
    run("import_products", str(SAMPLE))
    rows = json.loads(SAMPLE.read_text())
    rows[0]["name"] = "Summit Trail Runner 2"
    rows[0]["variants"][0].update(price="79.90", on_hand=5)
    rows[0]["variants"].append({"sku": "STR-43", "price": "89.90", "on_hand": 2})
    out = run("import_products", write(tmp_path, rows))
    assert "0 new, 3 updated" in out
    assert Product.objects.get(slug="summit-trail-runner").name == "Summit Trail Runner 2"
    variant = Variant.objects.get(sku="STR-40")
    assert (variant.price, variant.stock.on_hand) == (Decimal("79.90"), 5)
    assert StockMovement.objects.filter(variant=variant, delta=-7, reason="correction").exists()
    assert Variant.objects.get(sku="STR-43").product.slug == "summit-trail-runner"


def test_import_reports_every_bad_row_with_line_and_imports_nothing(sample_categories, tmp_path):
    make_variant(sku="TAKEN-1", product__slug="other")
    rows = json.loads(SAMPLE.read_text())
    rows[1]["variants"][0]["price"] = "-3"
    rows[2]["category"] = "nope"
    rows.append(
        {"name": "Thief", "category": "books", "variants": [{"sku": "taken-1", "price": 1}]}
    )
    rows.append("not an object")
    path = write(tmp_path, rows)
    err = StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_products", path, stdout=StringIO(), stderr=err)
    report = err.getvalue()
    text = Path(path).read_text().splitlines()
    kettle_line = next(i for i, t in enumerate(text, 1) if "Harbor Enamel Kettle" in t) - 1
    assert f"row 1 (line {kettle_line}): variants.0.price:" in report
    assert "row 2 (line" in report
    assert "category" in report
    assert "row 3 (line" in report
    assert "belongs to product 'other'" in report
    assert "row 4 (line" in report
    assert "expected an object" in report
    assert not Product.objects.exclude(slug="other").exists()


def test_import_rejects_duplicate_skus_across_rows(sample_categories, tmp_path):
    rows = [
        {"name": "A", "category": "books", "variants": [{"sku": "DUP", "price": 1}]},
        {"name": "B", "category": "books", "variants": [{"sku": "dup", "price": 1}]},
    ]
    with pytest.raises(CommandError):
        call_command("import_products", write(tmp_path, rows), stdout=StringIO(), stderr=StringIO())
    assert not Product.objects.exists()


def test_import_rolls_back_when_a_stock_level_is_below_allocations(sample_categories, tmp_path):
    run("import_products", str(SAMPLE))
    StockItem.objects.filter(variant__sku="STR-40").update(allocated=10)
    rows = json.loads(SAMPLE.read_text())
    rows[0]["name"] = "Renamed"
    rows[0]["variants"][0]["on_hand"] = 2
    with pytest.raises(CommandError, match=r"row 0 \(line 2\)"):
        call_command("import_products", write(tmp_path, rows), stdout=StringIO())
    assert Product.objects.get(slug="summit-trail-runner").name == "Summit Trail Runner"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"name": "x"}', "JSON array"),
        ('[{"name": "x",}]', "line 1"),
        ("[\n  {}\n  {}\n]", "line 3"),
    ],
)
def test_import_reports_malformed_json(tmp_path, content, message):
    with pytest.raises(CommandError, match=message):
        call_command("import_products", write(tmp_path, content), stdout=StringIO())


def test_import_of_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_products", str(tmp_path / "nope.json"))


def test_import_help_documents_the_format():
    from catalog.management.commands.import_products import Command

    assert '"variants"' in Command.help
    assert "catalog/samples/products.json" in Command.help
