"""Production readiness: settings under a production environment, gunicorn, compose, env docs.

Settings are module-level code evaluated from the environment, so every production check runs
in a fresh interpreter with a production-like environment.
"""

import json
import os
import re
import runpy
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

BASE_DIR = Path(__file__).resolve().parents[2]
SETTINGS_FILE = BASE_DIR / "shop" / "settings" / "base.py"

# Variables a developer's shell (or a CI job) might carry that would change production defaults.
_STRIPPED = {
    "DJANGO_SETTINGS_MODULE",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
    "CONTENT_SECURITY_POLICY",
}


def production_env(**overrides: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in _STRIPPED and not key.startswith(("OTEL_", "GUNICORN_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="shop.settings",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="shop.example.com",
        CSRF_TRUSTED_ORIGINS="https://shop.example.com",
        PYTHONPATH=str(BASE_DIR),
    )
    env.update(overrides)
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


# --- Django settings in production ---------------------------------------------------------


def test_check_deploy_reports_nothing_under_production_settings():
    result = run(
        [
            "-c",
            "import django; django.setup(); from django.core.management import call_command; "
            "call_command('check', deploy=True, fail_level='WARNING')",
        ],
        production_env(),
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output
    assert "WARNINGS" not in output
    assert "ERRORS" not in output


def test_production_refuses_to_start_without_a_secret_key():
    # An explicitly empty value also beats any SECRET_KEY a local .env file might hold.
    result = run(["manage.py", "check"], production_env(SECRET_KEY=""))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY must be set when DEBUG is false" in result.stderr


def test_production_defaults_are_hardened():
    script = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({'debug': s.DEBUG, 'ssl_redirect': s.SECURE_SSL_REDIRECT, "
        "'session_secure': s.SESSION_COOKIE_SECURE, 'csrf_secure': s.CSRF_COOKIE_SECURE, "
        "'hsts': s.SECURE_HSTS_SECONDS, 'proxy_ssl': list(s.SECURE_PROXY_SSL_HEADER), "
        "'static': s.STORAGES['staticfiles']['BACKEND'], "
        "'renderers': s.REST_FRAMEWORK['DEFAULT_RENDERER_CLASSES']}))"
    )
    result = run(["-c", script], production_env())
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["debug"] is False
    assert values["ssl_redirect"] is True
    assert values["session_secure"] is True
    assert values["csrf_secure"] is True
    assert values["hsts"] >= 31536000
    assert values["proxy_ssl"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["static"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert values["renderers"] == ["rest_framework.renderers.JSONRenderer"]


# --- gunicorn ------------------------------------------------------------------------------


def _gunicorn_config(monkeypatch, **env: str) -> dict:
    for key in list(os.environ):
        if key.startswith("GUNICORN_") or key in {"PORT", "WEB_CONCURRENCY"}:
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return runpy.run_path(str(BASE_DIR / "gunicorn.conf.py"))


def test_gunicorn_defaults(monkeypatch):
    config = _gunicorn_config(monkeypatch)
    assert config["bind"] == "0.0.0.0:8000"
    assert config["workers"] == 2 * len(os.sched_getaffinity(0)) + 1
    assert config["threads"] == 1
    assert config["timeout"] == 30
    assert config["graceful_timeout"] > 0
    assert config["keepalive"] > 0
    assert config["max_requests"] > 0
    assert 0 < config["max_requests_jitter"] < config["max_requests"]
    assert config["accesslog"] == "-"
    assert "%({x-request-id}o)s" in config["access_log_format"]


def test_gunicorn_reads_its_knobs_from_the_environment(monkeypatch):
    config = _gunicorn_config(
        monkeypatch, PORT="9123", WEB_CONCURRENCY="3", GUNICORN_THREADS="4", GUNICORN_TIMEOUT="20"
    )
    assert config["bind"] == "0.0.0.0:9123"
    assert (config["workers"], config["threads"], config["timeout"]) == (3, 4, 20)
    config = _gunicorn_config(monkeypatch, PORT="9123", GUNICORN_BIND="127.0.0.1:7000")
    assert config["bind"] == "127.0.0.1:7000"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_gunicorn_serves_production_settings_and_logs_the_request_id(tmp_path):
    port = _free_port()
    log_path = tmp_path / "gunicorn.log"
    env = production_env(
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="1",
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
    )
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
        url = f"http://127.0.0.1:{port}/api/ping/"
        request = urllib.request.Request(url, headers={"X-Request-ID": "gunicorn-req-7"})
        deadline = time.monotonic() + 60
        response = None
        while response is None:
            assert process.poll() is None, log_path.read_text()
            try:
                response = urllib.request.urlopen(request, timeout=5)
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert response.status == 200
        assert response.headers["X-Request-ID"] == "gunicorn-req-7"
        assert json.loads(response.read()) == {"status": "ok"}

        def access_line():
            return [
                line
                for line in log_path.read_text().splitlines()
                if '"GET /api/ping/ HTTP/1.1" 200' in line
            ]

        deadline = time.monotonic() + 15
        while not access_line() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert access_line(), log_path.read_text()
        assert "request_id=gunicorn-req-7" in access_line()[0]
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- docker-compose and documented configuration -------------------------------------------


def _settings_env_vars() -> set[str]:
    source = SETTINGS_FILE.read_text()
    return set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]*)"', source))


def test_the_settings_scan_finds_the_variables():
    names = _settings_env_vars()
    assert {"DATABASE_URL", "SECRET_KEY", "TASKS_BACKEND", "CONTENT_SECURITY_POLICY"} <= names


def test_env_example_documents_every_setting_variable():
    text = (BASE_DIR / ".env.example").read_text()
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))
    missing = _settings_env_vars() - documented
    assert not missing, f".env.example lacks: {sorted(missing)}"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())


def test_compose_has_the_services(compose):
    assert {"web", "worker", "db", "mailpit", "otel", "migrate"} <= set(compose["services"])
    assert compose["services"]["db"]["image"].startswith("postgres:16")
    assert "pg_isready" in " ".join(compose["services"]["db"]["healthcheck"]["test"])
    assert any(
        v.endswith(":/var/lib/postgresql/data") for v in compose["services"]["db"]["volumes"]
    )


@pytest.mark.parametrize("service", ["web", "worker", "migrate"])
def test_compose_wires_the_app_by_environment(compose, service):
    spec = compose["services"][service]
    env = spec["environment"]
    assert env["DEBUG"] == "false"
    assert env["DATABASE_URL"].startswith("postgres://")
    assert env["EMAIL_URL"] == "smtp://mailpit:1025"
    assert env["TASKS_BACKEND"] == "django_tasks_db.DatabaseBackend"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel:18890"
    assert env["SECRET_KEY"]
    assert spec["depends_on"]["db"]["condition"] == "service_healthy"
    unknown = (
        set(env)
        - _settings_env_vars()
        - {
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "OTEL_EXPORTER_OTLP_PROTOCOL",
            "OTEL_SERVICE_NAME",
            "WEB_CONCURRENCY",
            "FORWARDED_ALLOW_IPS",
        }
    )
    assert not unknown, f"compose sets variables nothing reads: {sorted(unknown)}"


def test_compose_runs_gunicorn_the_worker_and_migrations_once(compose):
    services = compose["services"]
    assert services["web"]["command"] == ["gunicorn", "-c", "gunicorn.conf.py", "shop.wsgi"]
    worker = services["worker"]["command"]
    assert worker[:3] == ["python", "manage.py", "db_worker"]
    assert worker[worker.index("--queue-name") + 1] == "*"
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    for name in ("web", "worker"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"


def test_dockerfile_builds_a_non_root_gunicorn_image():
    dockerfile = (BASE_DIR / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim", dockerfile, flags=re.MULTILINE)
    assert re.search(r"^USER (?!root)\w+", dockerfile, flags=re.MULTILINE)
    assert "collectstatic --noinput" in dockerfile
    assert "/api/health/" in dockerfile
    assert "EXPOSE 8000" in dockerfile
    assert 'CMD ["gunicorn", "-c", "gunicorn.conf.py", "shop.wsgi"]' in dockerfile
    assert "pip install -e" not in dockerfile
    assert "[dev]" not in dockerfile
