#!/usr/bin/env python
"""`make bench`: serve the shop with gunicorn as in production and measure it.

Steps: recreate the PostgreSQL database `shop_bench`, migrate, `seed_shop --products N`,
collectstatic, start gunicorn (gunicorn.conf.py, DEBUG off, the production middleware;
DJANGO_SETTINGS_MODULE=bench.settings, which only adds the ceiling page /bench/ceiling/), wait
for /api/health/, then drive one scenario at a time from a separate load process for a fixed
time at a fixed concurrency: wrk for the read-only GETs (locust when wrk is missing or
BENCH_TOOL=locust) and locust for checkout.

Two phases, each with its own server: "cold" (catalogue cache off: every catalogue read goes
to the database) and "warm" (the cache as in production). Each phase measures its own
ceilings: `ceiling` (bare Django: a plain template rendering 20 product rows from one query)
and `ping` (a trivial JSON view), and prints every scenario's req/s as a ratio of them, with
p50/p95/p99 and the queries one request runs (bench/probe.py). Checkout runs in the warm
phase with the database task backend and one `db_worker` running, then bench/probe.py
verifies that stock, orders, payments and notifications add up. Numbers are printed, never
asserted. Scenarios whose endpoint does not answer (404, 5xx) print "not available".

Scenarios live in SCENARIOS (see `Scenario`); add one with `SCENARIOS.append(Scenario(...))`.

Options (flags or environment variables):
  --quick / BENCH_QUICK=1          a few minutes: 1,000 products, 5 s per scenario
  --products / BENCH_PRODUCTS      catalog size to seed (10000)
  --duration / BENCH_DURATION      seconds per scenario (20)
  --clients / BENCH_CLIENTS        concurrent connections for the pages and API GETs (8)
  --users / BENCH_USERS            concurrent buyers in the checkout scenario (20)
  --workers / BENCH_WORKERS        gunicorn workers (default from gunicorn.conf.py)
  --tool / BENCH_TOOL              wrk | locust for the GET scenarios (wrk when installed)
  --only NAME[,NAME]               run only these scenario keys (ceiling and ping always run)
  --phases cold,warm               which catalogue-cache phases to run (both)
  --reuse-db                       keep the existing database (skip drop/migrate/seed)
  --profile / BENCH_PROFILE=1      sample every gunicorn worker with py-spy (`pip install
                                   py-spy`, not a project dependency) during each
                                   scenario: bench/results/profile-<phase>-<key>.txt (the
                                   hottest functions) and .folded (flame-graph input); the
                                   sampling slows the server, so compare numbers without it
  BENCH_DATABASE_URL               postgres://postgres@127.0.0.1:5432/shop_bench
  BENCH_PORT                       8099
  --cache-url / BENCH_CACHE_URL    the shared cache, as in production (default: a private
                                   redis-server on a free port when installed, else the
                                   per-worker locmem cache)
Results (JSON, CSVs, gunicorn log) go to bench/results/.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
BENCH_DIR = BASE_DIR / "bench"
RESULTS = BENCH_DIR / "results"
PYTHON = sys.executable
BIN = Path(PYTHON).parent


def log(message: str) -> None:
    # Never let a closed stdout (e.g. `| head`) stop the run before gunicorn is stopped.
    with contextlib.suppress(OSError):
        print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- Configuration -----------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", default=env("BENCH_QUICK") == "1")
    parser.add_argument("--products", type=int, default=int(env("BENCH_PRODUCTS", "0")) or None)
    parser.add_argument("--duration", type=int, default=int(env("BENCH_DURATION", "0")) or None)
    parser.add_argument("--clients", type=int, default=int(env("BENCH_CLIENTS", "8")))
    parser.add_argument("--users", type=int, default=int(env("BENCH_USERS", "20")))
    parser.add_argument("--workers", type=int, default=int(env("BENCH_WORKERS", "0")) or None)
    parser.add_argument("--tool", choices=["wrk", "locust"], default=env("BENCH_TOOL") or None)
    parser.add_argument("--only", default=env("BENCH_ONLY", ""))
    parser.add_argument("--phases", default=env("BENCH_PHASES", "cold,warm"))
    parser.add_argument("--reuse-db", action="store_true")
    parser.add_argument("--profile", action="store_true", default=env("BENCH_PROFILE") == "1")
    parser.add_argument(
        "--database-url",
        default=env("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/shop_bench"),
    )
    parser.add_argument("--port", type=int, default=int(env("BENCH_PORT", "8099")))
    parser.add_argument("--cache-url", default=env("BENCH_CACHE_URL", ""))
    args = parser.parse_args()
    if args.products is None:
        args.products = 1000 if args.quick else 10000
    if args.duration is None:
        args.duration = 5 if args.quick else 20
    if args.tool is None:
        args.tool = "wrk" if shutil.which("wrk") else "locust"
    args.only = {name.strip() for name in args.only.split(",") if name.strip()}
    args.phases = [p.strip() for p in args.phases.split(",") if p.strip() in PHASES]
    return args


#: Phase name -> extra server environment. "cold": the catalogue cache is off, so every
#: catalogue read is computed from the database (what a cache miss costs); "warm": as deployed.
PHASES: dict[str, dict[str, str]] = {
    "cold": {"SHOP_CATALOG_CACHE_SECONDS": "0"},
    "warm": {},
}


def server_env(args: argparse.Namespace, phase: str = "warm") -> dict[str, str]:
    """Production settings, minus HTTPS (plain HTTP on loopback) and with limits out of reach."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "GUNICORN_"))}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(
        # Production settings plus the ceiling page (bench/settings.py).
        DJANGO_SETTINGS_MODULE="bench.settings",
        DATABASE_URL=args.database_url,
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        SECURE_HSTS_SECONDS="0",
        THROTTLE_ANON_RATE="100000000/min",
        THROTTLE_USER_RATE="100000000/min",
        LOGIN_MAX_FAILURES="100000000",
        # Per-client rate limits (shared through the cache): the buyers all come from
        # 127.0.0.1 and each buys several times a second.
        RATELIMIT_LOGIN="100000000/m",
        RATELIMIT_REGISTER="100000000/m",
        RATELIMIT_ADD_TO_CART="100000000/m",
        EMAIL_URL="dummymail://",
        TASKS_BACKEND="django_tasks_db.DatabaseBackend",
        # The benchmark checks out with the mock gateway's test cards (shop/checks.py).
        SHOP_ALLOW_TEST_PAYMENTS="true",
        JWT_ACCESS_MINUTES="240",
        MEDIA_ROOT=str(RESULTS / "media"),
        GUNICORN_BIND=f"127.0.0.1:{args.port}",
        PYTHONUNBUFFERED="1",
    )
    if args.cache_url:
        env["CACHE_URL"] = args.cache_url
    env.update(PHASES[phase])
    if args.workers:
        env["WEB_CONCURRENCY"] = str(args.workers)
    return env


def start_redis(args: argparse.Namespace) -> subprocess.Popen | None:
    """A private redis-server for the run (production shares the cache between workers)."""
    if args.cache_url or not shutil.which("redis-server"):
        return None
    import socket

    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        port = probe_socket.getsockname()[1]
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        + ["--appendonly", "no", "--maxmemory", "256mb", "--maxmemory-policy", "allkeys-lru"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    args.cache_url = f"redis://127.0.0.1:{port}/0"
    log(f"redis-server pid {process.pid} on {args.cache_url}")
    time.sleep(0.5)
    return process


def gunicorn_workers(env: dict[str, str]) -> int:
    """The worker count gunicorn.conf.py resolves to under `env`."""
    import runpy

    saved = dict(os.environ)
    try:
        os.environ.update(env)
        return runpy.run_path(str(BASE_DIR / "gunicorn.conf.py"))["workers"]
    finally:
        os.environ.clear()
        os.environ.update(saved)


# --- Database and app preparation ---------------------------------------------------------------


def recreate_database(url: str) -> None:
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    if not name.replace("_", "").isalnum():
        raise SystemExit(f"refusing odd database name {name!r}")
    admin_url = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    log(f"fresh database {name}")


def manage(env: dict[str, str], *args: str) -> None:
    started = time.monotonic()
    log("manage.py " + " ".join(args))
    result = subprocess.run([PYTHON, "manage.py", *args], cwd=BASE_DIR, env=env, check=False)
    if result.returncode != 0:
        raise SystemExit(f"`manage.py {' '.join(args)}` failed (exit {result.returncode})")
    log(f"  done in {time.monotonic() - started:.1f}s")


def has_command(env: dict[str, str], name: str) -> bool:
    result = subprocess.run(
        [PYTHON, "manage.py", "help", "--commands"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return name in result.stdout.split()


def static_is_current() -> bool:
    manifest = BASE_DIR / "staticfiles" / "staticfiles.json"
    if not manifest.exists():
        return False
    built = manifest.stat().st_mtime
    return all(p.stat().st_mtime < built for p in (BASE_DIR / "static").rglob("*") if p.is_file())


# --- The server ---------------------------------------------------------------------------------


class Server:
    def __init__(self, env: dict[str, str], port: int):
        self.env = env
        self.base = f"http://127.0.0.1:{port}"
        self.log_path = RESULTS / "gunicorn.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log_path.open("w") as handle:
            # Own session (process group) so stop() reaches every worker it forked.
            self.process = subprocess.Popen(
                [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "shop.wsgi"],
                cwd=BASE_DIR,
                env=self.env,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        log(f"gunicorn pid {self.process.pid} on {self.base} (log: {self.log_path})")
        deadline = time.monotonic() + 90
        while True:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited early:\n{self.log_path.read_text()[-3000:]}")
            status, _ = http(self.base, "/api/health/")
            if status == 200:
                log("server healthy")
                return
            if time.monotonic() > deadline:
                raise SystemExit(f"/api/health/ never answered 200 (last: {status})")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        log(f"stopping gunicorn pid {self.process.pid}")
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def http(base: str, path: str, *, method: str = "GET", body: dict | None = None):
    """Return (status, parsed JSON or None); status 0 when the server does not answer."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        base + path, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    except OSError:
        return 0, None
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, None


# --- Discovering real slugs and SKUs ------------------------------------------------------------


@dataclass
class Catalog:
    category: str | None = None
    categories: list[str] = field(default_factory=list)
    products: list[str] = field(default_factory=list)
    skus: list[str] = field(default_factory=list)


def discover(base: str) -> Catalog:
    catalog = Catalog()
    status, page = http(base, "/api/v1/categories/?page_size=100")
    if status == 200 and page:
        roots = [c["slug"] for c in page.get("results", []) if not c.get("parent")]
        catalog.categories = roots or [c["slug"] for c in page.get("results", [])]
        # The busiest top-level category (its listing includes all descendants).
        counts = {}
        for slug in catalog.categories[:12]:
            status, listing = http(base, f"/api/v1/products/?category={slug}&page_size=1")
            if status == 200 and listing:
                counts[slug] = listing.get("count", 0)
        if counts:
            catalog.category = max(counts, key=counts.get)
    for number in (1, 2, 3):
        status, listing = http(base, f"/api/v1/products/?page_size=100&page={number}")
        if status != 200 or not listing:
            break
        catalog.products += [p["slug"] for p in listing.get("results", [])]
    status, listing = http(base, "/api/v1/products/?in_stock=true&page_size=100")
    in_stock = [p["slug"] for p in (listing or {}).get("results", [])] if status == 200 else []
    for slug in in_stock[:60]:
        status, product = http(base, f"/api/v1/products/{slug}/")
        if status == 200 and product:
            catalog.skus += [
                v["sku"]
                for v in product.get("variants", [])
                if v.get("in_stock") and v.get("stock_hint") == "in_stock"
            ]
    log(
        f"catalog: {len(catalog.products)} product slugs, category {catalog.category!r}, "
        f"{len(catalog.skus)} in-stock SKUs for checkout"
    )
    return catalog


def prepare_buyers(base: str, count: int) -> list[str]:
    """Register `count` customers and return their access tokens (done before timing)."""
    from concurrent.futures import ThreadPoolExecutor

    run_id = secrets.token_hex(4)

    def buyer(number: int) -> str | None:
        email = f"bench-{run_id}-{number}@example.com"
        password = f"Bench-{secrets.token_hex(12)}"
        status, _ = http(
            base,
            "/api/v1/auth/register/",
            method="POST",
            body={"email": email, "password": password, "first_name": "Bench"},
        )
        if status != 201:
            return None
        status, tokens = http(
            base, "/api/v1/auth/token/", method="POST", body={"email": email, "password": password}
        )
        return tokens.get("access") if status == 200 and tokens else None

    with ThreadPoolExecutor(max_workers=4) as pool:
        tokens = [t for t in pool.map(buyer, range(count)) if t]
    log(f"{len(tokens)} of {count} buyers registered and signed in")
    return tokens


def top_up_stock(env: dict[str, str], skus: list[str]) -> None:
    """Give the checkout SKUs plenty of stock (through the inventory service) for the run."""
    script = (
        "import json, os\n"
        "from catalog.models import Variant\n"
        "from inventory.services import restock\n"
        "for sku in json.loads(os.environ['BENCH_SKUS']):\n"
        "    restock(variant=Variant.objects.get(sku__iexact=sku), quantity=100000,"
        " note='benchmark')\n"
    )
    result = subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", script],
        cwd=BASE_DIR,
        env={**env, "BENCH_SKUS": json.dumps(skus)},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode == 0:
        log(f"restocked {len(skus)} checkout SKUs")
    else:
        log("could not restock checkout SKUs (orders may run out):\n" + result.stderr[-800:])


# --- Load generators ----------------------------------------------------------------------------


@dataclass
class Result:
    key: str
    label: str
    phase: str = "warm"
    rps: float | None = None
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    requests: int = 0
    errors: int = 0
    queries: int | None = None
    note: str = ""
    checks: dict = field(default_factory=dict)


def run_wrk(args, result: Result, paths: list[str], base: str) -> None:
    paths_file = RESULTS / f"{result.key}.paths"
    paths_file.write_text("\n".join(paths) + "\n")
    result_file = RESULTS / f"{result.phase}-{result.key}.wrk.txt"
    threads = max(1, min(args.clients, os.cpu_count() or 1))
    command = ["wrk", f"-t{threads}", f"-c{args.clients}", "--timeout", "10s"]
    command += ["-s", str(BENCH_DIR / "wrk.lua"), base]
    env = {**os.environ, "BENCH_PATHS_FILE": str(paths_file)}
    # Warm every worker (imports, connections, caches) before measuring.
    subprocess.run([*command[:1], "-d2s", *command[1:]], env=env, capture_output=True, check=False)
    completed = subprocess.run(
        [*command[:1], f"-d{args.duration}s", *command[1:]],
        env=env,
        capture_output=True,
        text=True,
        timeout=args.duration + 60,
        check=False,
    )
    result_file.write_text(completed.stdout + completed.stderr)
    line = next((x for x in completed.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if line is None:
        result.note = "wrk failed: " + (completed.stderr.strip() or completed.stdout)[-200:]
        return
    data = json.loads(line.removeprefix("BENCH_JSON "))
    seconds = data["duration_us"] / 1e6
    result.requests = data["requests"]
    result.errors = data["non_2xx_3xx"] + data["socket_errors"]
    ok = result.requests - data["non_2xx_3xx"]
    result.rps = ok / seconds if seconds else None
    result.p50_ms = data["p50_us"] / 1000
    result.p95_ms = data["p95_us"] / 1000
    result.p99_ms = data["p99_us"] / 1000


def run_locust(
    args, result: Result, user_class: str, base: str, env: dict, stat: str, users: int
) -> None:
    prefix = RESULTS / f"{result.phase}-{result.key}"
    command = [
        str(BIN / "locust"),
        "-f",
        str(BENCH_DIR / "locustfile.py"),
        "--headless",
        "--only-summary",
        "--users",
        str(users),
        "--spawn-rate",
        str(users),
        "--run-time",
        f"{args.duration}s",
        "--stop-timeout",
        "5",
        "--host",
        base,
        "--csv",
        str(prefix),
        "--loglevel",
        "WARNING",
        user_class,
    ]
    completed = subprocess.run(
        command,
        cwd=BASE_DIR,
        env={**os.environ, **env, "BENCH_SCENARIO": stat},
        capture_output=True,
        text=True,
        timeout=args.duration + 120,
        check=False,
    )
    Path(f"{prefix}.locust.txt").write_text(completed.stdout + completed.stderr)
    stats_file = Path(f"{prefix}_stats.csv")
    if not stats_file.exists():
        result.note = "locust failed: " + completed.stderr.strip()[-200:]
        return
    with stats_file.open() as handle:
        row = next((r for r in csv.DictReader(handle) if r["Name"] == stat), None)
    if row is None or int(row["Request Count"]) == 0:
        result.note = f"no {stat} requests completed (see {stats_file.name})"
        return
    count, failures = int(row["Request Count"]), int(row["Failure Count"])
    result.requests, result.errors = count, failures
    result.rps = float(row["Requests/s"]) * (count - failures) / count
    result.p50_ms = float(row["50%"])
    result.p95_ms = float(row["95%"])
    result.p99_ms = float(row["99%"])
    if failures:
        failures_file = Path(f"{prefix}_failures.csv")
        if failures_file.exists():
            with failures_file.open() as handle:
                reasons = [f"{r['Occurrences']}x {r['Error'][:80]}" for r in csv.DictReader(handle)]
            result.note = "; ".join(reasons[:3])


# --- Scenarios ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """One measured endpoint: `paths(catalog)` lists the GET paths it rotates over.

    `page`: a storefront HTML page (its ratio to the `ceiling` page is its score); `cached`:
    it reads the catalogue cache, so it runs in both phases (cold and warm); otherwise it runs
    in the warm phase only. Ceilings (`key` "ceiling", "ping") run in every phase.
    """

    key: str
    label: str
    paths: Callable[[Catalog], list[str]]
    page: bool = False
    cached: bool = True


CEILINGS = ("ceiling", "ping")

SCENARIOS: list[Scenario] = [
    Scenario(
        "ceiling",
        "CEILING bare Django page (20 rows, 1 query)",
        lambda c: ["/bench/ceiling/"],
        page=True,
        cached=False,
    ),
    Scenario("ping", "CEILING GET /api/ping/ (no DB)", lambda c: ["/api/ping/"], cached=False),
    Scenario("health", "GET /api/health/ (SELECT 1)", lambda c: ["/api/health/"], cached=False),
    Scenario("landing_page", "landing page /", lambda c: ["/"], page=True),
    Scenario(
        "category_page",
        "category page /c/<slug>/",
        lambda c: [f"/c/{slug}/" for slug in c.categories[:8]],
        page=True,
    ),
    Scenario(
        "product_page",
        "product page /p/<slug>/",
        lambda c: [f"/p/{slug}/" for slug in c.products[:200]],
        page=True,
    ),
    Scenario(
        "list",
        "product list API, page_size=24",
        lambda c: [f"/api/v1/products/?page_size=24&page={n}" for n in range(1, 6)],
    ),
    Scenario(
        "list_category",
        "product list API, busiest category",
        lambda c: (
            [f"/api/v1/products/?page_size=24&category={c.category}&page={n}" for n in range(1, 6)]
            if c.category
            else []
        ),
    ),
    Scenario(
        "detail",
        "product detail API",
        lambda c: [f"/api/v1/products/{slug}/" for slug in c.products[:200]],
    ),
    Scenario(
        "search_page",
        "search page /search/?q= (words and typos)",
        lambda c: search_paths(c),
        page=True,
    ),
    Scenario(
        "search_api",
        "product list API, search= (words and typos)",
        lambda c: [
            path.replace("/search/?q=", "/api/v1/products/?page_size=24&search=")
            for path in search_paths(c)
        ],
    ),
]


def search_paths(catalog: Catalog, count: int = 60) -> list[str]:
    """Search pages for words of the catalogue's product names, half of them misspelt.

    The words come from the product slugs (``oak-desk-lamp-17``); a typo drops one inner
    letter ("lamp" -> "lmp" is too short, "saucepan" -> "sacepan"), as shoppers mistype.
    """
    words = sorted(
        {
            part
            for slug in catalog.products
            for part in slug.split("-")
            if part.isalpha() and len(part) >= 4
        }
    )
    paths = []
    for index, word in enumerate(words[:count]):
        if index % 2:
            middle = len(word) // 2
            word = word[:middle] + word[middle + 1 :]
        paths.append(f"/search/?q={word}")
    return paths


def availability(base: str, path: str) -> str:
    status, _ = http(base, path)
    if status == 200:
        return ""
    if status == 404:
        return "not available (404: endpoint not built yet?)"
    return f"not available (HTTP {status or 'no answer'})"


def checkout_availability(base: str, catalog: Catalog) -> str:
    if not catalog.skus:
        return "not available (no in-stock SKUs found through the catalog API)"
    for path in ("/api/v1/auth/register/", "/api/v1/cart/items/", "/api/v1/orders/"):
        status, _ = http(base, path, method="POST", body={})
        if status in (0, 404, 405) or status >= 500:
            return f"not available (POST {path} -> {status or 'no answer'})"
    return ""


def probe(env: dict[str, str], *args: str) -> object | None:
    """Run bench/probe.py (in-process checks against the benchmark database); its JSON."""
    completed = subprocess.run(
        [PYTHON, str(BENCH_DIR / "probe.py"), *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        log(f"probe {args[0]} failed:\n{completed.stderr[-1500:]}")
        return None
    return json.loads(completed.stdout.strip().splitlines()[-1])


def count_queries(env: dict[str, str], scenarios: list[tuple[Scenario, list[str]]]) -> dict:
    """Queries per request of each scenario (most over a few of its paths), cold and warm."""
    sample = {s.key: paths[:3] for s, paths in scenarios if paths}
    paths_file = RESULTS / "query_paths.json"
    paths_file.write_text(json.dumps(sample))
    counts = probe(env, "queries", str(paths_file)) or {}
    return counts if isinstance(counts, dict) else {}


class Profiler:
    """py-spy sampling every gunicorn worker (--subprocesses) while a scenario runs."""

    def __init__(self, args, result: Result, server_pid: int | None):
        self.path = RESULTS / f"profile-{result.phase}-{result.key}"
        self.process: subprocess.Popen | None = None
        spy = shutil.which("py-spy") or str(BIN / "py-spy")
        if not args.profile or server_pid is None:
            return
        if not Path(spy).exists():
            log("  --profile needs py-spy (pip install py-spy): not profiling")
            return
        self.process = subprocess.Popen(
            [spy, "record", "--pid", str(server_pid), "--subprocesses", "--nonblocking"]
            + ["--rate", "97", "--format", "raw", "-o", f"{self.path}.folded"]
            + ["--duration", str(args.duration + 2)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def finish(self) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return
        folded = Path(f"{self.path}.folded")
        if folded.exists():
            Path(f"{self.path}.txt").write_text(summarize_profile(folded.read_text()))
            log(f"  profile: {self.path}.txt")


IDLE_CALLS = {"select", "poll", "epoll", "accept"}


def summarize_profile(folded: str, top: int = 40) -> str:
    """The hottest frames of py-spy's folded stacks: inclusive share (self share), idle excluded."""
    inclusive: dict[str, int] = {}
    own: dict[str, int] = {}
    total = 0
    for line in folded.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        frames = stack.split(";")
        # A worker waiting for a request (gunicorn's select/accept) is idle, not cost.
        leaf = frames[-1].split(" ", 1)[0]
        if leaf in IDLE_CALLS and any("gunicorn/" in f for f in frames):
            continue
        count = int(count_text)
        total += count
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + count
        own[frames[-1]] = own.get(frames[-1], 0) + count
    if not total:
        return "no samples\n"
    lines = [f"{total} busy samples; inclusive% self% frame"]
    for frame, count in sorted(inclusive.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"{100 * count / total:6.1f} {100 * own.get(frame, 0) / total:6.1f}  {frame}")
    lines.append("")
    lines.append("hottest self time:")
    for frame, count in sorted(own.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"{100 * count / total:6.1f}  {frame}")
    return "\n".join(lines) + "\n"


def run_get(args, result: Result, paths: list[str], base: str, server_pid=None) -> None:
    profiler = Profiler(args, result, server_pid)
    try:
        _run_get(args, result, paths, base)
    finally:
        profiler.finish()


def _run_get(args, result: Result, paths: list[str], base: str) -> None:
    if args.tool == "wrk":
        run_wrk(args, result, paths, base)
        return
    paths_file = RESULTS / f"{result.key}.paths"
    paths_file.write_text("\n".join(paths) + "\n")
    run_locust(
        args,
        result,
        "PathsUser",
        base,
        {"BENCH_PATHS_FILE": str(paths_file)},
        stat=f"GET {result.key}",
        users=args.clients,
    )


def run_checkout(
    args, env: dict[str, str], base: str, catalog: Catalog, server_pid: int | None = None
) -> Result:
    """Orders/s with `args.users` buyers, one db_worker running; then verify the books."""
    result = Result(key="checkout", label="checkout: POST /api/v1/orders/ (orders/s)")
    result.note = checkout_availability(base, catalog)
    tokens: list[str] = []
    if not result.note:
        top_up_stock(env, catalog.skus)
        tokens = prepare_buyers(base, args.users)
        if len(tokens) < args.users:
            # Buyers sharing an account race for one cart: errors that are not checkout's.
            result.note = f"not available ({len(tokens)} of {args.users} buyers signed in)"
    if result.note:
        return result
    counted = probe(env, "checkout", catalog.skus[0])
    if isinstance(counted, dict):
        result.queries = counted["order"]["queries"]
        result.note = (
            f"per order: {counted['order']['queries']} queries, "
            f"{counted['order']['commits']} transactions; add to cart: "
            f"{counted['add_to_cart']['queries']} queries"
        )
    before = probe(env, "snapshot", json.dumps(catalog.skus))
    worker_log = (RESULTS / "db_worker.log").open("w")
    worker = subprocess.Popen(
        [PYTHON, "manage.py", "db_worker", "--queue-name", "*", "--interval", "0.2"],
        cwd=BASE_DIR,
        env=env,
        stdout=worker_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        log(f"running {result.label} (db_worker pid {worker.pid})")
        setup_file = RESULTS / "checkout_setup.json"
        setup_file.write_text(json.dumps({"skus": catalog.skus, "tokens": tokens}))
        profiler = Profiler(args, result, server_pid)
        run_locust(
            args,
            result,
            "CheckoutUser",
            base,
            {"BENCH_CHECKOUT_FILE": str(setup_file)},
            stat="POST /api/v1/orders/",
            users=args.users,
        )
        profiler.finish()
        if before is not None and result.rps is not None:
            ok = result.requests - result.errors
            checks = probe(
                env,
                "verify",
                json.dumps(before),
                json.dumps(catalog.skus),
                str(ok),
                str(args.users),
                "120",
            )
            result.checks = checks if isinstance(checks, dict) else {}
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        worker_log.close()
    return result


def _fmt(value: float | None, width: int, digits: int = 1) -> str:
    return f"{value:>{width}.{digits}f}" if value is not None else f"{'-':>{width}}"


def print_table(args, results: list[Result]) -> None:
    print()
    print(
        f"Shop benchmark: {args.products} products, {args.clients} concurrent clients for GETs, "
        f"{args.users} buyers for checkout, {args.duration}s per scenario, load from "
        f"{args.tool} (checkout: locust), gunicorn workers: {args.workers}, "
        f"CPUs: {os.cpu_count()}, cache: {args.cache_url or 'locmem (per worker)'}"
    )
    print(
        "x page = req/s / the bare Django page's req/s; x ping = req/s / /api/ping/'s req/s, "
        "both measured in the same phase. queries = per request (cold cache | warm cache)."
    )
    header = (
        f"{'phase':<5} {'endpoint':<44} {'req/s':>8} {'p50':>7} {'p95':>7} {'p99':>7} "
        f"{'x page':>7} {'x ping':>7} {'queries':>8} {'errors':>6}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        if r.rps is None:
            print(f"{r.phase:<5} {r.label:<44} {r.note}")
            continue
        same = {x.key: x for x in results if x.phase == r.phase and x.rps}
        ratios = [
            f"{r.rps / same[k].rps:>7.2f}" if k in same else f"{'n/a':>7}"
            for k in ("ceiling", "ping")
        ]
        queries = "" if r.queries is None else str(r.queries)
        print(
            f"{r.phase:<5} {r.label:<44} {r.rps:>8.1f} {_fmt(r.p50_ms, 7)} {_fmt(r.p95_ms, 7)} "
            f"{_fmt(r.p99_ms, 7)} {ratios[0]} {ratios[1]} {queries:>8} {r.errors:>6}"
            + (f"  {r.note}" if r.note else "")
        )
    for r in results:
        if r.checks:
            failed = [name for name, check in r.checks.items() if not check["ok"]]
            print()
            print(
                f"checkout verification: {'OK' if not failed else 'FAILED: ' + ', '.join(failed)}"
            )
            for name, check in r.checks.items():
                print(f"  [{'ok' if check['ok'] else 'FAIL'}] {name} {check['detail']}")
    print()


def main() -> int:
    args = parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    for stale in RESULTS.glob("*_stats*.csv"):
        stale.unlink()
    env = server_env(args)
    args.workers = gunicorn_workers(env)

    if args.reuse_db:
        log(f"reusing {args.database_url}")
    else:
        recreate_database(args.database_url)
        manage(env, "migrate", "--noinput", "-v", "0")
        if not has_command(env, "seed_shop"):
            raise SystemExit("manage.py seed_shop does not exist yet: cannot seed the catalog")
        manage(env, "seed_shop", "--products", str(args.products))
    if args.reuse_db and static_is_current():
        log("static files are current (collectstatic skipped)")
    else:
        manage(env, "collectstatic", "--noinput", "-v", "0")

    def interrupted(signum, frame):
        raise SystemExit(f"interrupted by signal {signum}")

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupted)
    results: list[Result] = []
    query_counts: dict = {}
    redis = start_redis(args)
    try:
        run_phases(args, results, query_counts)
    finally:
        if redis is not None:
            redis.terminate()
            redis.wait()
    print_table(args, results)
    summary = {
        "products": args.products,
        "clients": args.clients,
        "users": args.users,
        "duration_s": args.duration,
        "tool": args.tool,
        "cpus": os.cpu_count(),
        "gunicorn_workers": args.workers,
        "cache": args.cache_url or "locmem (per worker)",
        "query_counts": query_counts,
        "results": [asdict(r) for r in results],
    }
    (RESULTS / "latest.json").write_text(json.dumps(summary, indent=2))
    log(f"results in {RESULTS}/latest.json")
    return 0


def run_phases(args, results: list[Result], query_counts: dict) -> None:
    """Each phase on its own server: ceilings, the scenarios, checkout (warm phase)."""
    for phase in args.phases:
        phase_env = server_env(args, phase)
        server = Server(phase_env, args.port)
        try:
            server.start()
            catalog = discover(server.base)
            chosen = [
                (s, s.paths(catalog))
                for s in SCENARIOS
                if (s.key in CEILINGS or not args.only or s.key in args.only)
                and (s.cached or phase == "warm" or s.key in CEILINGS)
            ]
            if not query_counts:
                log("counting queries per request")
                # The probe turns the catalogue cache off and on itself (warm settings).
                query_counts.update(count_queries(server_env(args, "warm"), chosen))
            for scenario, paths in chosen:
                result = Result(key=scenario.key, label=scenario.label, phase=phase)
                counts = query_counts.get(scenario.key)
                if counts:
                    result.queries = counts["cold" if phase == "cold" else "warm"]
                result.note = availability(server.base, paths[0]) if paths else "not available"
                if not result.note and phase == "warm" and scenario.cached:
                    # Warm means warm: every path once before the clock (200 product pages
                    # would otherwise be mostly first visits in a short run).
                    for path in paths:
                        http(server.base, path)
                if not result.note:
                    log(f"[{phase}] running {scenario.label}")
                    pid = server.process.pid if server.process else None
                    run_get(args, result, paths, server.base, pid)
                results.append(result)
            if phase == "warm" and (not args.only or "checkout" in args.only):
                pid = server.process.pid if server.process else None
                results.append(run_checkout(args, phase_env, server.base, catalog, pid))
        finally:
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
