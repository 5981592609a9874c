"""Product images in S3-compatible object storage (django-storages), against a real S3 server.

moto's server speaks the S3 HTTP protocol on a local port: the upload, the thumbnails and the
signed URLs the pages render go through boto3 and django-storages exactly as in production.
"""

import io
import json
import os
import socket
import subprocess
import sys
import urllib.request
from html.parser import HTMLParser

import boto3
import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from PIL import Image

from catalog import services, thumbnails
from catalog.tests.factories import make_variant, uploaded_png

pytestmark = pytest.mark.django_db

BUCKET = "shop-media"
CREDENTIALS = {"access_key": "test-key", "secret_key": "test-secret"}  # moto accepts any


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def s3_storage_setting(s3_endpoint) -> dict:
    """Return ``STORAGES["default"]`` as the settings build it from a deployment's variables."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "STORAGE_")) and key != "DJANGO_SETTINGS_MODULE"
    }
    env.update(
        DJANGO_SETTINGS_MODULE="shop.settings",
        PYTHONPATH=str(settings.BASE_DIR),
        AWS_STORAGE_BUCKET_NAME=BUCKET,
        AWS_S3_ENDPOINT_URL=s3_endpoint,
        AWS_S3_REGION_NAME="us-east-1",
        AWS_ACCESS_KEY_ID=CREDENTIALS["access_key"],
        AWS_SECRET_ACCESS_KEY=CREDENTIALS["secret_key"],
    )
    script = "import json; from django.conf import settings as s; print(json.dumps(s.STORAGES))"
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])["default"]


@pytest.fixture
def s3_bucket(s3_endpoint, s3_storage_setting, settings):
    """An empty bucket, and the default storage configured for it as the environment says."""
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id=CREDENTIALS["access_key"],
        aws_secret_access_key=CREDENTIALS["secret_key"],
    )
    client.create_bucket(Bucket=BUCKET)
    assert s3_storage_setting["BACKEND"] == "storages.backends.s3.S3Storage"
    settings.STORAGES = {**settings.STORAGES, "default": s3_storage_setting}
    yield client
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    for key in keys:
        client.delete_object(Bucket=BUCKET, Key=key)
    client.delete_bucket(Bucket=BUCKET)


class ImgParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images: list[dict[str, str]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))


def fetch_image(url: str) -> Image.Image:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - a local server
        assert response.status == 200
        data = response.read()
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_an_uploaded_image_and_its_thumbnails_are_served_from_the_bucket(
    s3_bucket, s3_endpoint, client, django_capture_on_commit_callbacks
):
    variant = make_variant(on_hand=3)

    with django_capture_on_commit_callbacks(execute=True):
        image = services.add_product_image(
            product=variant.product, image=uploaded_png("boot.png"), alt="A boot"
        )

    keys = {o["Key"] for o in s3_bucket.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert image.image.name == "products/boot.png"
    assert {
        "products/boot.png",
        "thumbs/products/boot.png.600x600_q85_crop-smart.webp",
        "thumbs/products/boot.png.1200x1200_q85_crop-smart.webp",
    } <= keys
    head = s3_bucket.head_object(Bucket=BUCKET, Key="products/boot.png")
    assert head["CacheControl"] == "public, max-age=86400"

    # The product page links the bucket (signed URLs); a browser gets the pictures there.
    parser = ImgParser()
    parser.feed(client.get(f"/p/{variant.product.slug}/").content.decode())
    (main,) = parser.images
    assert main["src"].startswith(f"{s3_endpoint}/{BUCKET}/thumbs/products/boot.png.600x600")
    assert "X-Amz-Signature=" in main["src"]  # SigV4
    one_x, two_x = (entry.rsplit(" ", 1)[0] for entry in main["srcset"].split(", "))
    assert fetch_image(main["src"]).size == (600, 600)
    assert fetch_image(one_x).format == "WEBP"
    assert fetch_image(two_x).size == (1200, 1200)
    # The upload itself, as the API lists it.
    assert fetch_image(default_storage.url(image.image.name)).size == (1600, 1200)


def test_thumbnails_in_the_bucket_are_made_once(s3_bucket):
    stored = default_storage.save("products/cup.png", uploaded_png("cup.png"))
    first = thumbnails.generate_thumbnails(source=stored, target=thumbnails.PRODUCT_IMAGE)

    assert len(first) == 7
    assert thumbnails.generate_thumbnails(source=stored, target=thumbnails.PRODUCT_IMAGE) == []
