"""What the shop answers to oversized or malformed URLs (README, "Request limits").

Found by fuzzing the API (schemathesis, `.ci/fuzz-api`): a 5.8 KB query string got gunicorn's
HTML "Request Line is too large" page, a query string with more parameters than Django parses
(and a body larger than it accepts) answered 500, and the 400 for a NUL character was not in
the schema of the endpoints that give it.
"""

import http.client
import os
import runpy
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def test_a_long_query_string_answers_the_json_error_shape(api_client):
    response = api_client.get("/api/v1/products/?search=" + "a" * 5800)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "validation_error"


def test_more_query_parameters_than_django_parses_answer_400_json_not_500(api_client):
    too_many = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1
    query = "&".join(f"p{i}=1" for i in range(too_many))
    for path in ("/api/v1/products/", "/api/v1/orders/", "/api/health/"):
        response = api_client.get(f"{path}?{query}")
        assert response.status_code == 400, path
        assert response.json() == {
            "code": "bad_request",
            "detail": f"The query string has more than {too_many - 1} parameters.",
        }


def test_as_many_query_parameters_as_django_parses_are_fine(api_client):
    query = "&".join(f"p{i}=1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS))
    assert api_client.get(f"/api/v1/products/?{query}").status_code == 200


def test_a_body_larger_than_django_accepts_answers_400_json_not_500(api_client):
    body = '{"email": "' + "a" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE + '", "password": "x"}'
    response = api_client.post("/api/v1/auth/register/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {
        "code": "bad_request",
        "detail": "The request body is larger than the server accepts.",
    }


def test_too_many_query_parameters_on_a_page_answer_a_plain_400(client):
    query = "&".join(f"p{i}=1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    response = client.get(f"/search/?{query}")
    assert response.status_code == 400


def test_every_operation_documents_the_400_of_the_url_guard(api_client):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            assert "400" in operation["responses"], (method, path)
    invoice = schema["paths"]["/api/v1/orders/{number}/invoice/"]["get"]["responses"]["400"]
    assert invoice["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }


def test_gunicorn_accepts_request_lines_up_to_its_maximum():
    config = runpy.run_path(str(BASE_DIR / "gunicorn.conf.py"))
    assert config["limit_request_line"] == 8190
    assert config["limit_request_field_size"] == 8190


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port: int, path: str) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status, response.getheader("Content-Type", "")
    finally:
        conn.close()


@pytest.fixture
def gunicorn_port(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "GUNICORN_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="shop.settings.test",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="1",
        GUNICORN_ACCESSLOG="",
    )
    log = tmp_path / "gunicorn.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", "shop.wsgi"],
            cwd=BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()[-2000:]
            try:
                if _get(port, "/api/ping/")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.1)
        yield port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def test_gunicorn_hands_a_58_kb_query_string_to_the_app(gunicorn_port):
    status, content_type = _get(gunicorn_port, "/api/ping/?search=" + "a" * 5800)
    assert (status, content_type) == (200, "application/json")
