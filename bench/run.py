#!/usr/bin/env python
"""`make bench`: serve a 10,000-product shop with gunicorn as in production and measure it.

Steps: recreate the PostgreSQL database `shop_bench`, migrate, `seed_shop --products N`,
collectstatic, start gunicorn (gunicorn.conf.py, DEBUG off, the production middleware), wait
for /api/health/, then drive one scenario at a time from a separate load process for a fixed
time at a fixed concurrency: wrk for the read-only GETs (locust when wrk is missing or
BENCH_TOOL=locust) and locust for checkout. Prints requests/s, p50 and p95 latency per
scenario and its throughput as a ratio of the trivial JSON view (/api/ping/: the framework's
ceiling on this machine). Numbers are printed, never asserted. Scenarios whose endpoint does not
answer (404, 5xx) print "not available" instead of failing the run.

Options (flags or environment variables):
  --products / BENCH_PRODUCTS      catalog size to seed (10000)
  --duration / BENCH_DURATION      seconds per scenario (20)
  --users / BENCH_USERS            concurrent connections / users (20)
  --workers / BENCH_WORKERS        gunicorn workers (default from gunicorn.conf.py)
  --tool / BENCH_TOOL              wrk | locust for the GET scenarios (wrk when installed)
  --only NAME[,NAME]               run only these scenario keys (ping, health, list, ...)
  --reuse-db                       keep the existing database (skip drop/migrate/seed)
  BENCH_DATABASE_URL               postgres://postgres@127.0.0.1:5432/shop_bench
  BENCH_PORT                       8099
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
    parser.add_argument("--products", type=int, default=int(env("BENCH_PRODUCTS", "10000")))
    parser.add_argument("--duration", type=int, default=int(env("BENCH_DURATION", "20")))
    parser.add_argument("--users", type=int, default=int(env("BENCH_USERS", "20")))
    parser.add_argument("--workers", type=int, default=int(env("BENCH_WORKERS", "0")) or None)
    parser.add_argument("--tool", choices=["wrk", "locust"], default=env("BENCH_TOOL") or None)
    parser.add_argument("--only", default=env("BENCH_ONLY", ""))
    parser.add_argument("--reuse-db", action="store_true")
    parser.add_argument(
        "--database-url",
        default=env("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/shop_bench"),
    )
    parser.add_argument("--port", type=int, default=int(env("BENCH_PORT", "8099")))
    args = parser.parse_args()
    if args.tool is None:
        args.tool = "wrk" if shutil.which("wrk") else "locust"
    args.only = {name.strip() for name in args.only.split(",") if name.strip()}
    return args


def server_env(args: argparse.Namespace) -> dict[str, str]:
    """Production settings, minus HTTPS (plain HTTP on loopback) and with limits out of reach."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "GUNICORN_"))}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(
        DJANGO_SETTINGS_MODULE="shop.settings",
        DATABASE_URL=args.database_url,
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        SECURE_HSTS_SECONDS="0",
        CONN_MAX_AGE="60",
        THROTTLE_ANON_RATE="100000000/min",
        THROTTLE_USER_RATE="100000000/min",
        LOGIN_MAX_FAILURES="100000000",
        EMAIL_URL="dummymail://",
        TASKS_BACKEND="django_tasks_db.DatabaseBackend",
        # The benchmark checks out with the mock gateway's test cards (shop/checks.py).
        SHOP_ALLOW_TEST_PAYMENTS="true",
        JWT_ACCESS_MINUTES="240",
        MEDIA_ROOT=str(RESULTS / "media"),
        GUNICORN_BIND=f"127.0.0.1:{args.port}",
        # Steady state: no worker recycling (and its re-import cost) in the middle of a run.
        GUNICORN_MAX_REQUESTS="0",
        PYTHONUNBUFFERED="1",
    )
    if args.workers:
        env["WEB_CONCURRENCY"] = str(args.workers)
    return env


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
    rps: float | None = None
    p50_ms: float | None = None
    p95_ms: float | None = None
    requests: int = 0
    errors: int = 0
    note: str = ""


def run_wrk(args, result: Result, paths: list[str], base: str) -> None:
    paths_file = RESULTS / f"{result.key}.paths"
    paths_file.write_text("\n".join(paths) + "\n")
    threads = max(1, min(args.users, os.cpu_count() or 1))
    command = ["wrk", f"-t{threads}", f"-c{args.users}", "--timeout", "10s"]
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
    (RESULTS / f"{result.key}.wrk.txt").write_text(completed.stdout + completed.stderr)
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


def run_locust(args, result: Result, user_class: str, base: str, env: dict, stat: str) -> None:
    prefix = RESULTS / result.key
    command = [
        str(BIN / "locust"),
        "-f",
        str(BENCH_DIR / "locustfile.py"),
        "--headless",
        "--only-summary",
        "--users",
        str(args.users),
        "--spawn-rate",
        str(args.users),
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
    (RESULTS / f"{result.key}.locust.txt").write_text(completed.stdout + completed.stderr)
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
    if failures:
        failures_file = Path(f"{prefix}_failures.csv")
        if failures_file.exists():
            with failures_file.open() as handle:
                reasons = [f"{r['Occurrences']}x {r['Error'][:80]}" for r in csv.DictReader(handle)]
            result.note = "; ".join(reasons[:3])


# --- Scenarios ----------------------------------------------------------------------------------


def get_scenarios(catalog: Catalog) -> list[tuple[str, str, list[str]]]:
    """(key, label, paths). A scenario with no paths could not be set up."""
    pages = range(1, 6)
    cat = catalog.category
    products = catalog.products[:200]
    return [
        ("ping", "ceiling: GET /api/ping/ (no DB)", ["/api/ping/"]),
        ("health", "GET /api/health/ (SELECT 1)", ["/api/health/"]),
        (
            "list",
            "product list API, page_size=24",
            [f"/api/v1/products/?page_size=24&page={n}" for n in pages],
        ),
        (
            "list_category",
            f"product list API, category={cat}",
            [f"/api/v1/products/?page_size=24&category={cat}&page={n}" for n in pages]
            if cat
            else [],
        ),
        (
            "detail",
            "product detail API",
            [f"/api/v1/products/{slug}/" for slug in products],
        ),
        (
            "category_page",
            "category page /c/<slug>/",
            [f"/c/{slug}/" for slug in catalog.categories[:8]],
        ),
        ("product_page", "product page /p/<slug>/", [f"/p/{slug}/" for slug in products]),
        ("search_page", "search page /search/?q= (words and typos)", search_paths(catalog)),
        (
            "search_api",
            "product list API, search= (words and typos)",
            [
                path.replace("/search/?q=", "/api/v1/products/?page_size=24&search=")
                for path in search_paths(catalog)
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


def print_table(args, results: list[Result], ceiling: Result | None) -> None:
    print()
    print(
        f"Shop benchmark: {args.products} products, {args.users} concurrent clients, "
        f"{args.duration}s per scenario, load from {args.tool} (checkout: locust), "
        f"gunicorn workers: {args.workers}, CPUs: {os.cpu_count()}"
    )
    header = (
        f"{'endpoint':<44} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'ceiling':>8} {'errors':>7}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        if r.rps is None:
            print(f"{r.label:<44} {r.note}")
            continue
        ratio = f"{r.rps / ceiling.rps:.2f}" if ceiling and ceiling.rps else "n/a"
        print(
            f"{r.label:<44} {r.rps:>9.1f} {r.p50_ms:>8.1f} {r.p95_ms:>8.1f} {ratio:>8} "
            f"{r.errors:>7}" + (f"  {r.note}" if r.note else "")
        )
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

    server = Server(env, args.port)

    def interrupted(signum, frame):
        raise SystemExit(f"interrupted by signal {signum}")

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupted)
    results: list[Result] = []
    try:
        server.start()
        catalog = discover(server.base)
        for key, label, paths in get_scenarios(catalog):
            if args.only and key not in args.only:
                continue
            result = Result(key=key, label=label)
            result.note = availability(server.base, paths[0]) if paths else "not available"
            if not result.note:
                log(f"running {label}")
                if args.tool == "wrk":
                    run_wrk(args, result, paths, server.base)
                else:
                    paths_file = RESULTS / f"{key}.paths"
                    paths_file.write_text("\n".join(paths) + "\n")
                    run_locust(
                        args,
                        result,
                        "PathsUser",
                        server.base,
                        {"BENCH_PATHS_FILE": str(paths_file)},
                        stat=f"GET {key}",
                    )
            results.append(result)
        if not args.only or "checkout" in args.only:
            result = Result(key="checkout", label="checkout: POST /api/v1/orders/ (orders/s)")
            result.note = checkout_availability(server.base, catalog)
            if not result.note:
                top_up_stock(env, catalog.skus)
                tokens = prepare_buyers(server.base, args.users)
                if not tokens:
                    result.note = "not available (could not register/sign in buyers)"
            if not result.note:
                log(f"running {result.label}")
                setup_file = RESULTS / "checkout_setup.json"
                setup_file.write_text(json.dumps({"skus": catalog.skus, "tokens": tokens}))
                run_locust(
                    args,
                    result,
                    "CheckoutUser",
                    server.base,
                    {"BENCH_CHECKOUT_FILE": str(setup_file)},
                    stat="POST /api/v1/orders/",
                )
            results.append(result)
    finally:
        server.stop()

    ceiling = next((r for r in results if r.key == "ping" and r.rps), None)
    if ceiling is None:
        ceiling = next((r for r in results if r.key == "health" and r.rps), None)
        if ceiling:
            log("/api/ping/ unavailable: ratios are relative to /api/health/")
    print_table(args, results, ceiling)
    summary = {
        "products": args.products,
        "users": args.users,
        "duration_s": args.duration,
        "tool": args.tool,
        "cpus": os.cpu_count(),
        "gunicorn_workers": args.workers,
        "results": [asdict(r) for r in results],
    }
    (RESULTS / "latest.json").write_text(json.dumps(summary, indent=2))
    log(f"results in {RESULTS}/latest.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
