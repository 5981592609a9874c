"""Uploaded images in production: the storage chosen by environment, and ``/media/`` served
by the app from local storage with ``DEBUG=false`` (``shop.media``).

The test settings run with ``DEBUG=false`` (pytest-django), like production.
"""

import http.client
import io
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from catalog.tests.factories import png_bytes
from shop.tests.test_deploy import BASE_DIR, _free_port, production_env, run

PNG = png_bytes(width=64, height=48)

pytestmark = pytest.mark.django_db  # the 404 page outside /media/ shows the category menu


@pytest.fixture
def local_media(settings, tmp_path):
    """Uploads on local disk under ``tmp_path/media``, next to a secret file outside it."""
    root = tmp_path / "media"
    (root / "products").mkdir(parents=True)
    (root / "products" / "mug.png").write_bytes(PNG)
    (tmp_path / "secret.txt").write_text("database password")
    settings.MEDIA_ROOT = root
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root), "base_url": "/media/"},
        },
    }
    return root


def test_an_uploaded_image_is_served_with_its_type_and_cache_headers(client, local_media):
    response = client.get("/media/products/mug.png")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Length"] == str(len(PNG))
    assert "public" in response["Cache-Control"]
    assert "max-age=86400" in response["Cache-Control"]
    assert response["ETag"]
    assert response["Last-Modified"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert "Set-Cookie" not in response
    image = Image.open(io.BytesIO(b"".join(response.streaming_content)))
    assert (image.format, image.size) == ("PNG", (64, 48))


def test_a_revalidation_of_an_unchanged_image_is_a_304(client, local_media):
    etag = client.get("/media/products/mug.png")["ETag"]

    response = client.get("/media/products/mug.png", HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304
    assert response["ETag"] == etag


def test_head_answers_without_a_body_and_other_methods_are_refused(client, local_media):
    assert client.head("/media/products/mug.png").status_code == 200
    assert client.post("/media/products/mug.png").status_code == 405


def test_an_upload_saved_through_the_storage_is_served_at_its_url(client, local_media):
    name = default_storage.save("products/new photo.webp", ContentFile(png_bytes()))
    url = default_storage.url(name)
    assert url == "/media/products/new%20photo.webp"

    response = client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"


def test_a_file_that_is_not_an_image_is_a_download(client, local_media):
    (local_media / "products" / "page.html").write_text("<script>alert(1)</script>")

    response = client.get("/media/products/page.html")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")


@pytest.mark.parametrize(
    "path",
    [
        "/media/products/missing.png",
        "/media/products/",
        "/media/products",
        "/media/",
        "/media/../secret.txt",
        "/media/products/../../secret.txt",
        "/media/%2e%2e/secret.txt",
        "/media/..%2fsecret.txt",
        "/media/products/..%2f..%2fsecret.txt",
        "/media//etc/passwd",
        "/media/%2Fetc/passwd",
        "/media/..%5csecret.txt",
        "/media/products/./mug.png",
        "/media/.hidden.png",
    ],
)
def test_missing_files_and_paths_out_of_the_media_folder_are_404(client, local_media, path):
    (local_media / ".hidden.png").write_bytes(PNG)

    response = client.get(path)

    assert response.status_code == 404
    assert b"database password" not in response.content
    if path.startswith("/media/") and path != "/media/":
        # An image tag gets a few bytes, not a page (no query to render a 404 page).
        assert response["Content-Type"] == "text/plain; charset=utf-8"


def test_a_symlink_leading_out_of_the_media_folder_is_404(client, local_media):
    (local_media / "products" / "link.png").symlink_to(local_media.parent / "secret.txt")

    assert client.get("/media/products/link.png").status_code == 404


def test_the_route_serves_nothing_when_media_are_in_object_storage(client, settings):
    # The test settings' in-memory storage stands for any storage that is not local disk.
    default_storage.save("products/mug.png", ContentFile(PNG))

    assert client.get("/media/products/mug.png").status_code == 404


# --- the storage chosen by environment ------------------------------------------------------


def _settings_in(env: dict[str, str]) -> dict:
    script = (
        "import json; from django.conf import settings as s; "
        "print(json.dumps({'storage': s.STORAGES['default'], "
        "'csp': s.CONTENT_SECURITY_POLICY}))"
    )
    result = run(["-c", script], env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _without_storage_variables(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if not k.startswith(("AWS_", "STORAGE_"))}


@pytest.mark.parametrize(
    "variables",
    [{}, {"STORAGE_BACKEND": "", "AWS_STORAGE_BUCKET_NAME": ""}],  # unset; empty (compose)
)
def test_uploads_go_to_local_disk_by_default(variables):
    values = _settings_in(_without_storage_variables(production_env()) | variables)

    assert values["storage"] == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    assert "img-src 'self' data:;" in values["csp"]


def test_a_bucket_name_chooses_s3_configured_from_the_environment():
    env = _without_storage_variables(production_env()) | {
        "AWS_STORAGE_BUCKET_NAME": "shop-media",
        "AWS_S3_ENDPOINT_URL": "https://s3.example.net",
        "AWS_S3_REGION_NAME": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "s3cr3t",
        "AWS_S3_ADDRESSING_STYLE": "path",
        "AWS_QUERYSTRING_AUTH": "false",
        "AWS_QUERYSTRING_EXPIRE": "600",
    }

    values = _settings_in(env)

    assert values["storage"]["BACKEND"] == "storages.backends.s3.S3Storage"
    options = values["storage"]["OPTIONS"]
    assert {
        key: options[key]
        for key in (
            "bucket_name",
            "endpoint_url",
            "region_name",
            "access_key",
            "secret_key",
            "addressing_style",
            "querystring_auth",
            "querystring_expire",
            "file_overwrite",
            "custom_domain",
        )
    } == {
        "bucket_name": "shop-media",
        "endpoint_url": "https://s3.example.net",
        "region_name": "eu-west-1",
        "access_key": "AKIAEXAMPLE",
        "secret_key": "s3cr3t",
        "addressing_style": "path",
        "querystring_auth": False,
        "querystring_expire": 600,
        "file_overwrite": False,
        "custom_domain": None,
    }
    # Pages load the images from the bucket: the CSP lets them.
    assert "https://s3.example.net" in values["csp"].split("img-src")[1].split(";")[0]


def test_a_custom_domain_is_what_the_csp_allows_images_from():
    env = _without_storage_variables(production_env()) | {
        "STORAGE_BACKEND": "s3",
        "AWS_STORAGE_BUCKET_NAME": "shop-media",
        "AWS_S3_CUSTOM_DOMAIN": "cdn.example.com",
    }

    values = _settings_in(env)

    assert values["storage"]["OPTIONS"]["custom_domain"] == "cdn.example.com"
    assert values["storage"]["OPTIONS"]["querystring_auth"] is True
    assert "img-src 'self' data: https://cdn.example.com;" in values["csp"]


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"STORAGE_BACKEND": "s3"}, "STORAGE_BACKEND=s3 needs AWS_STORAGE_BUCKET_NAME"),
        ({"STORAGE_BACKEND": "ftp"}, "STORAGE_BACKEND must be local or s3"),
    ],
)
def test_an_incomplete_storage_configuration_refuses_to_start(variables, message):
    env = _without_storage_variables(production_env()) | variables

    result = run(["manage.py", "check"], env)

    assert result.returncode != 0
    assert message in result.stderr


# --- the real server under production settings ----------------------------------------------

SEED = """
from django.core.files.uploadedfile import SimpleUploadedFile
from catalog import services, thumbnails
from catalog.tests.factories import png_bytes

kitchen = services.create_category(name="Kitchen", slug="kitchen")
kitchen.image.save("kitchen.png", SimpleUploadedFile("kitchen.png", png_bytes()))
thumbnails.generate_thumbnails(source=kitchen.image.name, target=thumbnails.CATEGORY_IMAGE)
teapot = services.create_product(
    name="Blue Teapot",
    category=kitchen,
    variants=[{"sku": "TEA-1", "price": "30.00", "on_hand": 5}],
)
services.add_product_image(
    product=teapot, image=SimpleUploadedFile("teapot.png", png_bytes()), alt="A blue teapot"
)
print("seeded")
"""


class ImgParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images: list[dict[str, str]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))


def _raw_get(port: int, path: str) -> tuple[int, bytes]:
    """GET ``path`` exactly as written (no client-side ``..`` normalisation)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={"Host": "127.0.0.1"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_the_landing_page_images_answer_200_with_image_content_under_gunicorn(tmp_path):
    """DEBUG=false, gunicorn, local storage: what a compose deployment runs."""
    media = tmp_path / "media"
    media.mkdir()
    (tmp_path / "secret.txt").write_text("database password")
    # Production settings, but static files unhashed: `collectstatic` (the Docker build's
    # step) takes minutes here and the static files are not what this test is about.
    (tmp_path / "production_settings.py").write_text(
        "from shop.settings.base import *  # noqa\n"
        "STORAGES = {**STORAGES, 'staticfiles': "
        "{'BACKEND': 'django.contrib.staticfiles.storage.StaticFilesStorage'}}\n"
    )
    port = _free_port()
    env = _without_storage_variables(production_env()) | {
        "DJANGO_SETTINGS_MODULE": "production_settings",
        "PYTHONPATH": f"{tmp_path}{os.pathsep}{BASE_DIR}",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'shop.sqlite3'}",
        "MEDIA_ROOT": str(media),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        # gunicorn runs the fail-closed checks before serving (gunicorn.conf.py); this test
        # is about media, so it opts into SQLite explicitly (test payments: production_env).
        "SHOP_ALLOW_SQLITE": "true",
    }
    result = run(["manage.py", "migrate", "--noinput", "--skip-checks"], env)
    assert result.returncode == 0, result.stderr
    result = run(["manage.py", "shell", "-c", SEED], env)  # shell runs no system checks
    assert result.returncode == 0, result.stderr
    assert "seeded" in result.stdout

    log_path = tmp_path / "gunicorn.log"
    gunicorn = Path(sys.executable).with_name("gunicorn")
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(gunicorn), "-c", "gunicorn.conf.py", "shop.wsgi"],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        page = None
        while page is None:
            assert process.poll() is None, log_path.read_text()
            try:
                page = urllib.request.urlopen(f"{base}/", timeout=5)  # noqa: S310
            except urllib.error.HTTPError as exc:
                pytest.fail(f"GET / answered {exc.code}:\n{log_path.read_text()}")
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert page.status == 200
        parser = ImgParser()
        parser.feed(page.read().decode())
        assert len(parser.images) == 2, parser.images  # the category tile, the product card
        card = next(img for img in parser.images if img["alt"] == "A blue teapot")
        assert (card["width"], card["height"]) == ("300", "300")

        for img in parser.images:
            srcset = dict(reversed(entry.rsplit(" ", 1)) for entry in img["srcset"].split(", "))
            assert srcset["1x"] == img["src"]
            box = (int(img["width"]), int(img["height"]))
            for density, url in srcset.items():
                with urllib.request.urlopen(f"{base}{url}", timeout=5) as response:  # noqa: S310
                    assert response.status == 200
                    assert response.headers["Content-Type"] == "image/webp"
                    picture = Image.open(io.BytesIO(response.read()))
                    picture.load()
                scale = int(density[0])
                assert picture.size == (box[0] * scale, box[1] * scale), url

        # The original upload too; nothing outside the media folder.
        status, body = _raw_get(port, "/media/products/teapot.png")
        assert status == 200
        assert Image.open(io.BytesIO(body)).size == (1600, 1200)
        for path in (
            "/media/../secret.txt",
            "/media/%2e%2e/secret.txt",
            "/media/..%2fsecret.txt",
            "/media/products/..%2F..%2Fsecret.txt",
            "/media/products/nothing.png",
        ):
            status, body = _raw_get(port, path)
            assert status == 404, path
            assert b"database password" not in body
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert os.path.exists(media / "thumbs" / "products")
