"""Crash safety end to end (API.md, "Orders and checkout", Idempotency-Key).

A real gunicorn (gunicorn.conf.py, sync workers, production settings) serves the test
database. Many shoppers check out at once from threads, each with their own account, cart and
Idempotency-Key, while web workers are SIGKILLed under them (gunicorn starts new ones). Each
client retries its key, same body, until it gets a final answer, as a client would. Then:

- every key ends in exactly one order (201) or a clean refusal (declined, out of stock);
- no shopper has an order that no answer reported, and every reported order exists;
- after the recovery job, no stock stays allocated without a live order, no cart is left in
  checkout, and every charge without an order was refunded.
"""

import http.client
import io
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import UserFactory
from cart.models import Cart
from catalog.tests.factories import make_variant
from inventory.models import StockItem
from orders.models import Order, OrderLine, OrderStatus, Payment, PaymentKind, PaymentResult
from orders.tests.factories import ADDRESS, cart_with

pytestmark = pytest.mark.postgres

BASE_DIR = Path(__file__).resolve().parents[2]
SHOPPERS = 24
WORKERS = 4
LEASE_SECONDS = 6
# A worker stuck longer than this is recycled by gunicorn: shorter than the lease, so a key is
# only ever taken over from a request that is really gone (as in production: 30 s vs 120 s).
WORKER_TIMEOUT = 5
KILL_FOR_SECONDS = 6.0
DEADLINE_SECONDS = 45.0
FINAL_REFUSALS = {(402, "payment_declined"), (409, "insufficient_stock")}
LIVE = [OrderStatus.RECEIVED, OrderStatus.PROCESSING, OrderStatus.FULFILLED]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """gunicorn on a free port against the test database, in its own process group."""

    def __init__(self, log_path: Path, *, workers: int = WORKERS):
        self.port = free_port()
        self.worker_count = workers
        self.log_path = log_path
        db = connection.settings_dict
        credentials = db["USER"] or "postgres"
        if db["PASSWORD"]:
            credentials += f":{db['PASSWORD']}"
        database_url = (
            f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/"
            f"{db['NAME']}"
        )
        from django.conf import settings

        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "GUNICORN_"))},
            "DJANGO_SETTINGS_MODULE": "shop.settings",
            "DATABASE_URL": database_url,
            "DEBUG": "false",
            # The tokens are minted here, so the server must sign with the same key.
            "SECRET_KEY": settings.SECRET_KEY,
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "SHOP_ALLOW_TEST_PAYMENTS": "true",
            # tok_transient waits this long between charge attempts: a window, between the
            # stock allocation and the order, for the kills to land in.
            "SHOP_PAYMENT_RETRY_BASE_DELAY": "0.2",
            "SHOP_IDEMPOTENCY_LEASE_SECONDS": str(LEASE_SECONDS),
            "THROTTLE_ANON_RATE": "100000/min",
            "THROTTLE_USER_RATE": "100000/min",
            "EMAIL_URL": "dummymail://",
            "TASKS_BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "WEB_CONCURRENCY": str(workers),
            "GUNICORN_TIMEOUT": str(WORKER_TIMEOUT),
            "GUNICORN_ACCESSLOG": "",
            "PYTHONUNBUFFERED": "1",
        }
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        gunicorn = Path(sys.executable).parent / "gunicorn"
        with self.log_path.open("w") as log:
            # --preload of the fully imported app: a killed worker's replacement is a fork
            # away from serving, rather than a fresh Django start-up.
            self.process = subprocess.Popen(
                [str(gunicorn), "-c", "gunicorn.conf.py", "--preload", "shop.tests.warm_wsgi"],
                cwd=BASE_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log_path.read_text()[-3000:]
            if (
                len(self.workers()) == self.worker_count
                and request(self.port, "GET", "/api/ping/")[0]
            ):
                return
            time.sleep(0.1)
        raise AssertionError("gunicorn did not come up:\n" + self.log_path.read_text()[-3000:])

    def workers(self) -> list[int]:
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except FileNotFoundError:
            return []

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def request(port: int, method: str, path: str, *, body=None, headers=None):
    """Return (status, JSON body or None); status 0 when the connection broke."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        payload = json.dumps(body) if body is not None else None
        conn.request(
            method,
            path,
            body=payload,
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        response = conn.getresponse()
        raw = response.read()
        replayed = response.getheader("Idempotent-Replayed")
    except (OSError, http.client.HTTPException):
        return 0, None, None
    finally:
        conn.close()
    try:
        return response.status, json.loads(raw), replayed
    except ValueError:
        return response.status, None, replayed


@dataclass
class Shopper:
    user_id: int
    token: str
    key: str
    body: dict
    answers: list = field(default_factory=list)
    final: tuple | None = None


def check_out_until_final(port: int, shopper: Shopper, deadline: float) -> None:
    """POST the checkout with the shopper's key, retrying (same key, same body) until a final
    answer: 201, or a refusal that retrying cannot change."""
    headers = {"Authorization": f"Bearer {shopper.token}", "Idempotency-Key": shopper.key}
    while time.monotonic() < deadline:
        status, body, replayed = request(
            port, "POST", "/api/v1/orders/", body=shopper.body, headers=headers
        )
        code = (body or {}).get("code")
        shopper.answers.append((status, code, replayed))
        if status == 201 or (status, code) in FINAL_REFUSALS:
            shopper.final = (status, body)
            return
        # Broken connection (killed worker), 409 in use (a dead request's lease), 5xx: retry.
        time.sleep(random.uniform(0.05, 0.3))


@pytest.fixture
def gunicorn(transactional_db, tmp_path):
    server = Gunicorn(tmp_path / "gunicorn.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_killed_workers_never_lose_or_duplicate_an_order(gunicorn):
    variants = [make_variant(on_hand=7, price=Decimal("12.50")) for _ in range(3)]
    shoppers = []
    for i in range(SHOPPERS):
        user = UserFactory()
        cart_with(user, (variants[i % 3], 1))
        token = "tok_declined" if i % 5 == 0 else ("tok_transient" if i % 5 < 3 else "tok_success")
        shoppers.append(
            Shopper(
                user_id=user.pk,
                token=str(RefreshToken.for_user(user).access_token),
                key=f"crash-{i}-{random.getrandbits(32)}",
                body={"shipping_address": ADDRESS, "payment_token": token},
            )
        )

    started = time.monotonic()
    deadline = started + DEADLINE_SECONDS
    clients = [
        threading.Thread(target=check_out_until_final, args=(gunicorn.port, s, deadline))
        for s in shoppers
    ]
    for client in clients:
        client.start()
    kills = 0
    while time.monotonic() < started + KILL_FOR_SECONDS and any(c.is_alive() for c in clients):
        workers = gunicorn.workers()
        if workers:
            try:
                os.kill(random.choice(workers), signal.SIGKILL)
                kills += 1
            except ProcessLookupError:
                pass
        time.sleep(random.uniform(0.2, 0.6))
    for client in clients:
        client.join(timeout=max(1.0, deadline - time.monotonic() + 5))
    assert not any(c.is_alive() for c in clients)
    gunicorn.stop()

    answers = Counter(a[:2] for s in shoppers for a in s.answers)
    assert kills >= 5
    assert answers[(0, None)] > 0, f"no request was cut short by a kill: {answers}"
    unfinished = [s.answers for s in shoppers if s.final is None]
    assert not unfinished, (
        f"keys without a final answer: {unfinished}\n{gunicorn.log_path.read_text()[-3000:]}"
    )

    # Exactly one order per key that answered 201, none for a refusal, none unreported.
    for shopper in shoppers:
        status, body = shopper.final
        orders = list(
            Order.objects.filter(user_id=shopper.user_id).values_list("number", flat=True)
        )
        if status == 201:
            assert orders == [body["number"]], (shopper.answers, orders)
        else:
            assert orders == [], (shopper.answers, orders)
    declined = [s for s in shoppers if s.body["payment_token"] == "tok_declined"]
    assert all(s.final[0] in {402, 409} for s in declined)
    placed = [s for s in shoppers if s.final[0] == 201]
    assert len(placed) == Order.objects.count() <= 21

    call_command("recover_checkouts", "--older-than", "0", stdout=io.StringIO())

    assert not Cart.objects.exclude(checkout_order_number="").exists()
    for variant in variants:
        item = StockItem.objects.get(variant=variant)
        live = OrderLine.objects.filter(variant=variant, order__status__in=LIVE).aggregate(
            total=Sum("quantity")
        )["total"]
        assert item.allocated == (live or 0), (variant.sku, item.allocated, live)
    orphan_charges = Payment.objects.filter(
        kind=PaymentKind.CHARGE, result=PaymentResult.SUCCEEDED, order__isnull=True
    )
    for charge in orphan_charges:
        assert Payment.objects.filter(
            kind=PaymentKind.REFUND,
            result=PaymentResult.SUCCEEDED,
            reference=f"{charge.reference}-void",
        ).exists(), charge.reference
    assert time.monotonic() - started < 55
