"""Product images in a real headless Chromium, with DEBUG off (pytest-django), as in production.

Uploads go to local disk and the live server serves them through the app's ``/media/`` route;
every image the page shows must load (a broken one has ``naturalWidth`` 0 and shows its alt).
"""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog import services, thumbnails
from catalog.tests.factories import png_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LOADED = "img => img.complete && img.naturalWidth > 0"


@pytest.fixture
def local_media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path), "base_url": "/media/"},
        },
    }
    return tmp_path


@pytest.fixture
def teapot(local_media):
    """A category with a picture, and a teapot with two pictures (blue, then red)."""
    kitchen = services.create_category(name="Kitchen", slug="kitchen")
    kitchen.image.save("kitchen.png", SimpleUploadedFile("kitchen.png", png_bytes()))
    thumbnails.generate_thumbnails(source=kitchen.image.name, target=thumbnails.CATEGORY_IMAGE)
    product = services.create_product(
        name="Blue Teapot",
        slug="blue-teapot",
        category=kitchen,
        variants=[{"sku": "TEA-1", "price": Decimal("30.00"), "on_hand": 5}],
    )
    for n, colour in enumerate([(30, 60, 200), (200, 30, 30)]):
        services.add_product_image(
            product=product,
            image=SimpleUploadedFile(f"teapot-{n}.png", png_bytes(colour=colour)),
            alt=f"Teapot view {n + 1}",
            position=n,
        )
    return product


def assert_every_image_loads(page) -> None:
    images = page.locator("main img")
    assert images.count() > 0
    for i in range(images.count()):
        image = images.nth(i)
        image.scroll_into_view_if_needed()  # lazy images load when they come into view
        page.wait_for_function(LOADED, arg=image.element_handle())
        assert image.evaluate("img => img.currentSrc").endswith(".webp")


def test_the_landing_page_shows_its_images(browser_page, screenshot, teapot):
    page = browser_page
    page.goto("/")

    assert_every_image_loads(page)
    tile = page.locator(".tile-media img")
    assert tile.evaluate("img => [img.naturalWidth, img.naturalHeight]") in ([240, 160], [480, 320])
    screenshot(page, "landing-images")


def test_the_product_gallery_swaps_the_main_image(browser_page, screenshot, teapot):
    page = browser_page
    page.goto("/p/blue-teapot/")
    assert_every_image_loads(page)
    main = page.locator("[data-gallery-main]")
    assert "teapot-0.png" in main.evaluate("img => img.currentSrc")

    page.get_by_role("link", name="Show image 2: Teapot view 2").click()

    page.wait_for_function(
        "img => img.currentSrc.includes('teapot-1.png') && img.complete && img.naturalWidth > 0",
        arg=main.element_handle(),
    )
    assert main.get_attribute("alt") == "Teapot view 2"
    screenshot(page, "gallery-second-image")


def test_the_cart_line_shows_the_product_image(browser_page, teapot):
    page = browser_page
    page.goto("/p/blue-teapot/")
    page.get_by_role("button", name="Add to cart").click()
    page.locator("[data-testid=add-confirmation]").wait_for()

    page.goto("/cart/")

    assert_every_image_loads(page)
    assert page.locator(".line-item-media img").count() == 1
