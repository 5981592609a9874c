"""Thumbnails: made once, at the sizes the pages show (1x and 2x), rendered with ``srcset``.

Uploads go to the test settings' in-memory storage unless a test asks for ``local_media``.
"""

import io
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from accounts.tests.factories import UserFactory
from catalog import services, thumbnails
from catalog.errors import InvalidImage
from catalog.models import Category, ProductImage
from catalog.tests.factories import (
    CategoryFactory,
    ProductFactory,
    ProductImageFactory,
    make_variant,
    png_bytes,
    uploaded_png,
)
from catalog.thumbnails import CATEGORY_IMAGE, PRODUCT_IMAGE, Thumbnail, ThumbnailError

pytestmark = pytest.mark.django_db

#: The box of each alias, as the pages lay them out (static/css/shop.css).
PRODUCT_SIZES = {"card": (300, 300), "main": (600, 600), "gallery": (96, 96), "line": (72, 72)}


def stored_png(name: str, **size) -> str:
    return default_storage.save(name, ContentFile(png_bytes(**size)))


def picture(name: str) -> Image.Image:
    with default_storage.open(name) as file:
        image = Image.open(io.BytesIO(file.read()))
        image.load()
    return image


def names_of(source: str, target: str = PRODUCT_IMAGE) -> list[str]:
    return [
        thumbnails.thumbnail_name(source=source, target=target, alias=alias, scale=scale)
        for alias in thumbnails.target_aliases(target=target)
        for scale in thumbnails.SCALES
    ]


class ImgParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images: list[dict[str, str]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))


def images_in(response) -> list[dict[str, str]]:
    parser = ImgParser()
    parser.feed(response.content.decode())
    return parser.images


# ---------------------------------------------------------------- making them


def test_each_product_alias_is_made_in_webp_at_1x_and_2x():
    source = stored_png("products/mug.png")

    written = thumbnails.generate_thumbnails(source=source, target=PRODUCT_IMAGE)

    for alias, (width, height) in PRODUCT_SIZES.items():
        for scale in thumbnails.SCALES:
            name = thumbnails.thumbnail_name(
                source=source, target=PRODUCT_IMAGE, alias=alias, scale=scale
            )
            assert name in written
            image = picture(name)
            assert image.format == "WEBP"
            assert image.size == (width * scale, height * scale), name
    # The card at 2x and the product page at 1x are one 600 x 600 file.
    assert len(written) == 7


def test_category_tiles_are_made_at_three_by_two():
    source = stored_png("categories/kitchen.png")

    thumbnails.generate_thumbnails(source=source, target=CATEGORY_IMAGE)

    tile = [
        picture(
            thumbnails.thumbnail_name(source=source, target=CATEGORY_IMAGE, alias="tile", scale=s)
        )
        for s in thumbnails.SCALES
    ]
    assert [image.size for image in tile] == [(240, 160), (480, 320)]


def test_a_small_source_is_never_upscaled():
    source = stored_png("products/tiny.png", width=200, height=200)

    thumbnails.generate_thumbnails(source=source, target=PRODUCT_IMAGE)

    name = thumbnails.thumbnail_name(source=source, target=PRODUCT_IMAGE, alias="main", scale=2)
    assert picture(name).size == (200, 200)


def test_thumbnails_are_made_once_unless_forced(local_media):
    source = stored_png("products/lamp.png")
    first = thumbnails.generate_thumbnails(source=source, target=PRODUCT_IMAGE)

    assert thumbnails.generate_thumbnails(source=source, target=PRODUCT_IMAGE) == []
    assert sorted(
        thumbnails.generate_thumbnails(source=source, target=PRODUCT_IMAGE, force=True)
    ) == (sorted(first))
    # Remade under the same names: no "_a1b2c3" copies next to them.
    _, files = default_storage.listdir("thumbs/products")
    assert sorted(files) == sorted(name.rsplit("/", 1)[1] for name in first)


def test_a_missing_or_broken_source_raises_thumbnail_error():
    with pytest.raises(ThumbnailError, match="not in the storage"):
        thumbnails.generate_thumbnails(source="products/missing.png", target=PRODUCT_IMAGE)

    default_storage.save("products/notes.png", ContentFile(b"not a picture"))
    with pytest.raises(ThumbnailError, match="not an image"):
        thumbnails.generate_thumbnails(source="products/notes.png", target=PRODUCT_IMAGE)


def test_rendering_a_thumbnail_asks_neither_the_database_nor_the_storage(
    django_assert_num_queries,
):
    # Nothing is stored under this name: the URLs are derived, not looked up.
    with django_assert_num_queries(0):
        thumb = thumbnails.thumbnail(source="products/a b.png", target=PRODUCT_IMAGE, alias="card")

    base = "/media/thumbs/products/a%20b.png"
    assert thumb == Thumbnail(
        src=f"{base}.300x300_q85_crop-smart.webp",
        srcset=f"{base}.300x300_q85_crop-smart.webp 1x, {base}.600x600_q85_crop-smart.webp 2x",
        width=300,
        height=300,
    )
    assert thumbnails.thumbnail(source="", target=PRODUCT_IMAGE, alias="card") is None


# ---------------------------------------------------------------- uploads


def test_add_product_image_stores_the_upload_and_then_its_thumbnails(
    django_capture_on_commit_callbacks,
):
    product = ProductFactory()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        image = services.add_product_image(
            product=product, image=uploaded_png("mug.png"), alt="A mug", position=2
        )

    assert len(callbacks) == 1  # made after the row is committed
    image.refresh_from_db()
    assert (image.product, image.alt, image.position) == (product, "A mug", 2)
    assert image.image.name == "products/mug.png"
    assert picture(image.image.name).size == (1600, 1200)
    assert all(default_storage.exists(name) for name in names_of(image.image.name))


def test_two_uploads_with_the_same_file_name_keep_both(local_media):
    product = ProductFactory()

    first = services.add_product_image(product=product, image=uploaded_png("photo.png"))
    second = services.add_product_image(
        product=product, image=uploaded_png("photo.png", colour=(200, 30, 30))
    )

    assert first.image.name != second.image.name
    assert picture(first.image.name).getpixel((800, 600)) == (40, 90, 160)


def test_add_product_image_refuses_a_file_that_is_no_picture():
    with pytest.raises(InvalidImage):
        services.add_product_image(
            product=ProductFactory(), image=SimpleUploadedFile("evil.png", b"<script>")
        )
    assert not ProductImage.objects.exists()


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_superuser(email="root@example.com", password="x")
    client.force_login(user)
    return client


def test_an_image_uploaded_in_the_admin_gets_its_thumbnails(
    staff_client, django_capture_on_commit_callbacks
):
    product = ProductFactory()
    data = {
        "name": product.name,
        "slug": product.slug,
        "description": "",
        "category": product.category_id,
        "attributes": "{}",
        "status": "active",
        "variants-TOTAL_FORMS": "0",
        "variants-INITIAL_FORMS": "0",
        "images-TOTAL_FORMS": "1",
        "images-INITIAL_FORMS": "0",
        "images-0-image": uploaded_png("lamp.png"),
        "images-0-alt": "A lamp",
        "images-0-position": "0",
    }

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:catalog_product_change", args=[product.pk]), data
        )

    assert response.status_code == 302, response.content[:2000]
    image = ProductImage.objects.get(product=product)
    assert all(default_storage.exists(name) for name in names_of(image.image.name))


def test_a_category_image_uploaded_in_the_admin_gets_its_tile(
    staff_client, django_capture_on_commit_callbacks
):
    data = {
        "name": "Kitchen",
        "slug": "kitchen",
        "description": "",
        "position": "0",
        "image": uploaded_png("kitchen.png"),
    }

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(reverse("admin:catalog_category_add"), data)

    assert response.status_code == 302, response.content[:2000]
    source = Category.objects.get(slug="kitchen").image.name
    assert all(default_storage.exists(name) for name in names_of(source, CATEGORY_IMAGE))


def test_generate_thumbnails_backfills_images_stored_before(capsys):
    ProductImageFactory(image=stored_png("products/old.png"))
    CategoryFactory(image=stored_png("categories/old.png"))

    call_command("generate_thumbnails")
    call_command("generate_thumbnails")

    assert all(default_storage.exists(name) for name in names_of("products/old.png"))
    assert all(
        default_storage.exists(name) for name in names_of("categories/old.png", CATEGORY_IMAGE)
    )
    out = capsys.readouterr().out.splitlines()
    assert out == ["Made 9 thumbnail(s) of 2 image(s).", "Made 0 thumbnail(s) of 2 image(s)."]


def test_generate_thumbnails_fails_naming_the_images_it_could_not_read():
    ProductImageFactory(image="products/gone.png")

    with pytest.raises(CommandError, match="products/gone.png"):
        call_command("generate_thumbnails")


def test_seed_shop_makes_the_thumbnails_of_its_images():
    call_command("seed_shop", "--products", "3")

    sources = set(ProductImage.objects.values_list("image", flat=True))
    assert sources
    assert all(default_storage.exists(name) for s in sources for name in names_of(s))


# ---------------------------------------------------------------- pages


def _assert_thumbnail(img: dict[str, str], source: str, alias: str, target=PRODUCT_IMAGE):
    thumb = thumbnails.thumbnail(source=source, target=target, alias=alias)
    assert img["src"] == thumb.src
    assert img["srcset"] == thumb.srcset
    assert img["srcset"].endswith(" 2x")
    assert " 1x, " in img["srcset"]
    assert (int(img["width"]), int(img["height"])) == (thumb.width, thumb.height)


def test_the_landing_page_shows_category_tiles_and_product_cards_as_thumbnails(client):
    category = CategoryFactory(name="Kitchen", image="categories/kitchen.png")
    variant = make_variant(product__category=category, on_hand=3)
    ProductImageFactory(product=variant.product, image="products/pot.png", alt="A pot")

    images = images_in(client.get("/"))

    tile, card = images
    _assert_thumbnail(tile, "categories/kitchen.png", "tile", CATEGORY_IMAGE)
    _assert_thumbnail(card, "products/pot.png", "card")
    assert card["alt"] == "A pot"
    assert (tile["width"], tile["height"]) == ("240", "160")


def test_the_product_page_shows_the_main_image_and_gallery_thumbnails(client):
    variant = make_variant(on_hand=3)
    for n in range(2):
        ProductImageFactory(product=variant.product, image=f"products/side-{n}.png", position=n)

    response = client.get(f"/p/{variant.product.slug}/")

    main, *gallery = images_in(response)
    _assert_thumbnail(main, "products/side-0.png", "main")
    assert [img["src"] for img in gallery] == [
        thumbnails.thumbnail(
            source=f"products/side-{n}.png", target=PRODUCT_IMAGE, alias="gallery"
        ).src
        for n in range(2)
    ]
    _assert_thumbnail(gallery[1], "products/side-1.png", "gallery")
    # Picking a gallery image swaps in its main-size thumbnail (static/js/shop.js).
    large = thumbnails.thumbnail(source="products/side-1.png", target=PRODUCT_IMAGE, alias="main")
    body = response.content.decode()
    assert f'data-src="{large.src}" data-srcset="{large.srcset}"' in body


def _cart_with_products(client, count: int) -> None:
    for n in range(count):
        variant = make_variant(sku=f"LINE-{count}-{n}", on_hand=5, price=Decimal("4.00"))
        ProductImageFactory(product=variant.product, image=f"products/line-{count}-{n}.png")
        assert client.post("/cart/add/", {"sku": variant.sku, "quantity": 1}).status_code in (
            200,
            302,
        )


def test_cart_lines_show_the_line_thumbnail(client):
    _cart_with_products(client, 1)

    (img,) = images_in(client.get("/cart/"))

    _assert_thumbnail(img, "products/line-1-0.png", "line")


def test_checkout_lines_show_the_line_thumbnail(client):
    client.force_login(UserFactory())
    _cart_with_products(client, 1)

    (img,) = images_in(client.get("/checkout/"))

    _assert_thumbnail(img, "products/line-1-0.png", "line")


def test_the_cart_page_query_count_does_not_grow_with_its_images(client):
    counts = []
    for lines in (1, 4):
        client.cookies.clear()
        _cart_with_products(client, lines)
        with CaptureQueriesContext(connection) as queries:
            assert len(images_in(client.get("/cart/"))) == lines
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_thumbnail_names_are_memoized_and_follow_setting_changes(settings):
    from catalog.thumbnails import PRODUCT_IMAGE, _thumbnail_name, thumbnail_name

    _thumbnail_name.cache_clear()
    first = thumbnail_name(source="products/mug.png", target=PRODUCT_IMAGE, alias="card")
    again = thumbnail_name(source="products/mug.png", target=PRODUCT_IMAGE, alias="card")
    assert again == first
    assert _thumbnail_name.cache_info().hits == 1
    # A settings change (tests, reconfiguration) never serves a name derived before it.
    settings.THUMBNAIL_BASEDIR = "other-thumbs"
    moved = thumbnail_name(source="products/mug.png", target=PRODUCT_IMAGE, alias="card")
    assert moved != first
    assert moved.startswith("other-thumbs/")
