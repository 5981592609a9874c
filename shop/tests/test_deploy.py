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
    "DATABASE_URL",
    "SHOP_PAYMENT_GATEWAY",
    "SHOP_ALLOW_TEST_PAYMENTS",
    "SHOP_ALLOW_SQLITE",
    "SHOP_SEED_ADMIN_PASSWORD",
    "FORWARDED_ALLOW_IPS",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
    "CONTENT_SECURITY_POLICY",
}


# PostgreSQL, as production has it; `check` and the pages these tests fetch never connect.
PRODUCTION_DATABASE_URL = "postgres://shop@127.0.0.1:5432/shop_never_connected"


def production_env(*, drop: tuple[str, ...] = (), **overrides: str) -> dict[str, str]:
    """What a real deployment sets (as .ci/run's deploy check does), plus ``overrides``.

    SHOP_ALLOW_TEST_PAYMENTS=true because the shop has no real payment gateway adapter yet.
    ``drop`` removes variables to see the default at work.
    """
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
        DATABASE_URL=PRODUCTION_DATABASE_URL,
        SHOP_ALLOW_TEST_PAYMENTS="true",
        PYTHONPATH=str(BASE_DIR),
    )
    env.update(overrides)
    for key in drop:
        env.pop(key, None)
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


def test_production_keeps_database_connections():
    script = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "d = s.DATABASES['default']; "
        "print(json.dumps([d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS']]))"
    )
    result = run(["-c", script], production_env(drop=("CONN_MAX_AGE",)))
    assert result.returncode == 0, result.stderr
    # A connection per request cost more than a cached page (README, "Benchmark").
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [60, False]
    result = run(["-c", script], production_env(CONN_MAX_AGE="0", CONN_HEALTH_CHECKS="true"))
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [0, True]


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


def _dot_env_sets(name: str) -> bool:
    dot_env = BASE_DIR / ".env"
    return dot_env.exists() and re.search(rf"^\s*{name}=", dot_env.read_text(), re.M) is not None


def test_debug_defaults_to_false():
    if _dot_env_sets("DEBUG"):
        pytest.skip("a local .env sets DEBUG")
    script = (
        "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    )
    result = run(["-c", script], production_env(drop=("DEBUG",)))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_an_unset_debug_without_a_secret_key_refuses_to_start():
    if _dot_env_sets("DEBUG"):
        pytest.skip("a local .env sets DEBUG")
    result = run(["manage.py", "check"], production_env(drop=("DEBUG",), SECRET_KEY=""))
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is false" in result.stderr
    assert "DEBUG=true" in result.stderr  # and how to develop locally instead


def test_check_deploy_refuses_the_default_mock_gateway():
    """DEBUG=false with the default gateway fails check --deploy, saying what to set."""
    env = production_env(drop=("SHOP_ALLOW_TEST_PAYMENTS",))
    result = run(["manage.py", "check", "--deploy"], env)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "ERRORS" in output
    assert "(shop.E001)" in output
    assert "SHOP_PAYMENT_GATEWAY" in output
    assert "SHOP_ALLOW_TEST_PAYMENTS=true" in output


def test_check_deploy_refuses_compose_s_former_public_secret_key():
    # The other published and weak keys: shop/tests/test_checks.py.
    key = "compose-local-only-secret-key-override-me-in-dot-env-0123456789abcdef"
    result = run(["manage.py", "check", "--deploy"], production_env(SECRET_KEY=key))
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "(shop.E003)" in output
    assert "SECRET_KEY" in output
    assert "secrets.token_urlsafe(50)" in output


def test_check_deploy_refuses_the_default_sqlite_unless_allowed():
    result = run(["manage.py", "check", "--deploy"], production_env(drop=("DATABASE_URL",)))
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "(shop.E005)" in output
    assert "DATABASE_URL=postgres://" in output
    assert "SHOP_ALLOW_SQLITE=true" in output

    sqlite = "sqlite:////tmp/shop-prod-check.sqlite3"  # never opened by `check`
    allowed = production_env(DATABASE_URL=sqlite, SHOP_ALLOW_SQLITE="true")
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], allowed)
    assert result.returncode == 0, result.stdout + result.stderr


# --- gunicorn ------------------------------------------------------------------------------


def _gunicorn_config(monkeypatch, **env: str) -> dict:
    for key in list(os.environ):
        if key.startswith("GUNICORN_") or key in {"PORT", "WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS"}:
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
    # Forwarded headers are trusted from a proxy on this host only, never from anyone.
    assert config["forwarded_allow_ips"] == "127.0.0.1,::1"
    assert callable(config["post_worker_init"])
    # Workers fork from a master that imported the app: recycling one costs no re-import.
    assert config["preload_app"] is True
    assert callable(config["when_ready"])


def test_gunicorn_preload_can_be_turned_off(monkeypatch):
    assert _gunicorn_config(monkeypatch, GUNICORN_PRELOAD="false")["preload_app"] is False
    assert _gunicorn_config(monkeypatch, GUNICORN_PRELOAD="0")["preload_app"] is False
    assert _gunicorn_config(monkeypatch, GUNICORN_PRELOAD="true")["preload_app"] is True


def test_gunicorn_trusts_only_the_configured_proxies(monkeypatch):
    config = _gunicorn_config(monkeypatch, FORWARDED_ALLOW_IPS="10.0.0.5")
    assert config["forwarded_allow_ips"] == "10.0.0.5"
    config = _gunicorn_config(monkeypatch, FORWARDED_ALLOW_IPS="")
    assert config["forwarded_allow_ips"] == "127.0.0.1,::1"


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


def test_gunicorn_refuses_to_serve_the_mock_gateway_in_production(tmp_path):
    port = _free_port()
    env = production_env(
        drop=("SHOP_ALLOW_TEST_PAYMENTS",),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="1",
    )
    gunicorn = Path(sys.executable).with_name("gunicorn")
    try:
        result = subprocess.run(
            [str(gunicorn), "-c", "gunicorn.conf.py", "shop.wsgi"],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:  # still serving: the refusal did not happen
        pytest.fail(f"gunicorn kept running: {exc.stderr}")
    assert result.returncode != 0
    assert "Refusing to start" in result.stderr
    assert "(shop.E001)" in result.stderr
    assert "SHOP_ALLOW_TEST_PAYMENTS" in result.stderr


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


_INTERPOLATION = re.compile(
    r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
)
_SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|(?<![A-Z])KEY$")


class MissingVariable(Exception):
    pass


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:-default}, ${NAME:?error} (and $$) against ``env``."""

    def replace(match: re.Match) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        present = env.get(name)
        unset = present is None or (op or "").startswith(":") and present == ""
        if not unset:
            return present
        if op in (":?", "?"):
            raise MissingVariable(f"{name}: {arg}")
        return arg if op in (":-", "-") else ""

    return _INTERPOLATION.sub(replace, value.replace("$$", "\0")).replace("\0", "$")


def compose_environment(compose: dict, service: str, dot_env: dict[str, str]) -> dict[str, str]:
    env = compose["services"][service]["environment"]
    return {key: interpolate(str(value), dot_env) for key, value in env.items()}


def test_the_interpolation_helper_follows_compose():
    assert interpolate("${A:-x}/${B-y}/${B:-z}/${C}/$$HOME", {"B": ""}) == "x//z//$HOME"
    with pytest.raises(MissingVariable, match="set it"):
        interpolate("${A:?set it}", {"A": ""})


def _interpolations(compose: dict):
    """Every ${...} of the app services' environment: (service, variable, name, op, default)."""
    for service_name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            for match in _INTERPOLATION.finditer(str(value)):
                yield service_name, key, match["name"], match["op"], match["arg"]


def test_compose_has_no_fallback_secrets(compose):
    secrets_seen = set()
    for service, key, name, op, default in _interpolations(compose):
        if _SECRET_NAME.search(name):
            secrets_seen.add(name)
            assert op in (":?", "?") or not default, (
                f"{service}.{key}: ${{{name}}} falls back to a secret in the compose file"
            )
    assert {"SECRET_KEY", "POSTGRES_PASSWORD"} <= secrets_seen
    app = compose["services"]["web"]["environment"]
    assert app["SECRET_KEY"].startswith("${SECRET_KEY:?")
    assert ":?" in app["DATABASE_URL"]
    assert compose["services"]["db"]["environment"]["POSTGRES_PASSWORD"].startswith(
        "${POSTGRES_PASSWORD:?"
    )
    # No literal secret anywhere either: every secret-named variable is interpolated.
    for service_name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if _SECRET_NAME.search(key):
                assert str(value).startswith("${"), f"{service_name}.{key} is a literal"


def test_compose_refuses_to_start_without_the_secrets(compose):
    with pytest.raises(MissingVariable, match="SECRET_KEY"):
        compose_environment(compose, "web", {"POSTGRES_PASSWORD": "pw"})
    with pytest.raises(MissingVariable, match="POSTGRES_PASSWORD"):
        compose_environment(compose, "web", {"SECRET_KEY": secrets.token_urlsafe(50)})


def test_compose_admin_uis_answer_on_this_machine_only(compose):
    for name in ("mailpit", "otel"):
        ports = compose["services"][name]["ports"]
        assert ports
        for port in ports:
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} to the network"
    # Nothing but the shop itself is published to the network.
    for name, service in compose["services"].items():
        if name == "web":
            continue
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} to the network"


def test_compose_gunicorn_does_not_trust_every_forwarded_header(compose):
    web = compose["services"]["web"]
    assert web["ports"], "the web port is published"
    trusted = compose_environment(
        compose, "web", {"SECRET_KEY": "k" * 60, "POSTGRES_PASSWORD": "pw"}
    )["FORWARDED_ALLOW_IPS"]
    assert "*" not in trusted
    assert trusted == "127.0.0.1"


def test_compose_scheduler_prunes_finished_task_results(compose):
    script = " ".join(compose["services"]["scheduler"]["command"])
    assert "prune_db_task_results --queue-name '*'" in script
    from django.core.management import get_commands

    assert get_commands()["prune_db_task_results"] == "django_tasks_db"


@pytest.mark.parametrize("service", ["web", "worker", "migrate", "scheduler"])
def test_compose_environment_passes_the_production_checks(compose, service):
    """With the secrets in .env and test payments allowed (a demo), compose passes the checks;
    without the opt-in it refuses the mock gateway."""
    dot_env = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "POSTGRES_PASSWORD": secrets.token_urlsafe(16),
        "SHOP_ALLOW_TEST_PAYMENTS": "true",
    }
    env = compose_environment(compose, service, dot_env)
    assert env["DEBUG"] == "false"
    assert env["DATABASE_URL"].startswith("postgres://")
    if service != "web":
        return  # same anchor: one subprocess run is enough
    script = [
        "-c",
        "import django; django.setup(); from django.core.management import call_command; "
        "call_command('check', deploy=True, fail_level='ERROR')",
    ]
    result = run(script, production_env(**env))
    assert result.returncode == 0, result.stdout + result.stderr

    del dot_env["SHOP_ALLOW_TEST_PAYMENTS"]
    env = compose_environment(compose, service, dot_env)
    assert env["SHOP_ALLOW_TEST_PAYMENTS"] == "false"
    result = run(script, production_env(**env))
    assert result.returncode != 0
    assert "(shop.E001)" in result.stderr


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


# --- Reproducible installs: requirements/*.lock (`make lock`) -------------------------------

LOCKS = BASE_DIR / "requirements"
_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(lock: str) -> dict[str, str]:
    pins: dict[str, str] = {}
    lines = (LOCKS / lock).read_text().splitlines()
    for index, line in enumerate(lines):
        match = _PIN.match(line)
        if not match:
            continue
        # Every pinned distribution carries its hashes (the next line at least).
        assert "--hash=sha256:" in " ".join(lines[index : index + 2]), f"{lock}: {line}"
        pins[_canonical(match["name"])] = match["version"]
    return pins


def _pyproject_requirements(*, dev: bool):
    import tomllib

    from packaging.requirements import Requirement

    project = tomllib.loads((BASE_DIR / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    if dev:
        specs += project["optional-dependencies"]["dev"]
    return [Requirement(spec) for spec in specs]


@pytest.mark.parametrize(("lock", "dev"), [("prod.lock", False), ("dev.lock", True)])
def test_lock_file_is_in_step_with_pyproject(lock, dev):
    """Every dependency of pyproject.toml is pinned, within its range; else run `make lock`."""
    pins = _pins(lock)
    out_of_step = []
    for requirement in _pyproject_requirements(dev=dev):
        version = pins.get(_canonical(requirement.name))
        if version is None or not requirement.specifier.contains(version, prereleases=True):
            out_of_step.append(f"{requirement} (locked: {version})")
    assert not out_of_step, f"requirements/{lock} is out of step, run `make lock`: {out_of_step}"


def test_the_production_lock_ships_what_the_tests_ran():
    prod, dev = _pins("prod.lock"), _pins("dev.lock")
    assert {name: dev.get(name) for name in prod} == prod
    tools = {"pytest", "pytest-django", "ruff", "playwright", "locust", "mypy", "uv"}
    assert tools <= set(dev)
    assert not tools & set(prod), "dev tools in the production lock"


def test_the_locks_pin_the_majors_issue_12_asked_for():
    prod = _pins("prod.lock")
    from packaging.version import Version

    assert Version(prod["djangorestframework-simplejwt"]) >= Version("5.5")  # records rotations
    assert Version(prod["gunicorn"]).major >= 23
    assert "psycopg-binary" in prod


def test_installs_use_the_locks_with_hashes():
    dockerfile = (BASE_DIR / "Dockerfile").read_text()
    assert "pip install --require-hashes -r requirements/prod.lock" in dockerfile
    assert "pip install --no-deps ." in dockerfile
    assert "requirements" not in (BASE_DIR / ".dockerignore").read_text()
    makefile = (BASE_DIR / "Makefile").read_text()
    assert "pip install --quiet --require-hashes -r requirements/dev.lock" in makefile
    assert "pip install --quiet --no-deps -e ." in makefile
    assert re.search(r"^lock:", makefile, flags=re.MULTILINE)
