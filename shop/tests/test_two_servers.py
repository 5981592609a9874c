"""Scale-out: independent servers on one PostgreSQL and one Redis stay correct (README,
"Scaling out").

Two separate gunicorn servers (each its own master and workers, production settings, as two
Kubernetes web pods are), two ``manage.py db_worker`` processes (two worker pods), one
redis-server as the shared cache and a real SMTP server. Real HTTP clients in threads:

- 40 buyers race for 10 units, spread over both servers: exactly 10 orders, the others
  refused with ``insufficient_stock``, no unit sold twice;
- 12 requests with one Idempotency-Key, spread over both servers at once: one order, and all
  12 answers are that order;
- every email (each order's confirmation, the low-stock alert) reaches the SMTP server exactly
  once, although both workers and a ``send_pending_notifications`` run (the CronJob) deliver.
"""

import random
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path

import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import UserFactory
from catalog.tests.factories import make_variant
from inventory.models import StockItem
from notifications.models import Notification, NotificationStatus
from notifications.tests.conftest import SMTPServer
from orders.models import Order
from orders.tests.factories import ADDRESS, cart_with
from shop.tests.test_crash_safety import Gunicorn, Shopper, check_out_until_final

pytestmark = pytest.mark.postgres

BASE_DIR = Path(__file__).resolve().parents[2]
UNITS = 10
BUYERS = 40
SAME_KEY_REQUESTS = 12
WORKERS_PER_SERVER = 2
STAFF_EMAIL = "stock@shop.test"
DEADLINE_SECONDS = 60.0


def server_environment(*, smtp: SMTPServer, redis_url: str) -> dict[str, str]:
    """What differs from the crash-safety server: the production task queue, SMTP, Redis."""
    return {
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "EMAIL_URL": f"smtp://{smtp.host}:{smtp.port}",
        "EMAIL_TIMEOUT": "5",
        "CACHE_URL": redis_url,
        "SHOP_STAFF_EMAILS": STAFF_EMAIL,
        "SHOP_IDEMPOTENCY_LEASE_SECONDS": "120",
    }


class Worker:
    """``manage.py db_worker`` in its own process, with a server's environment."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = {k: v for k, v in env.items() if not k.startswith(("GUNICORN_", "WEB_"))}
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "manage.py",
                    "db_worker",
                    "--queue-name",
                    "*",
                    "--no-reload",
                    "--no-startup-delay",
                    "--interval",
                    "0.2",
                ],
                cwd=BASE_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def stop(self) -> None:
        """SIGTERM, as Kubernetes stops a pod: the worker finishes its task and exits."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def cluster(transactional_db, tmp_path, redis_server):
    """Two gunicorn servers and two db_workers on the test database, one Redis, one SMTP."""
    smtp = SMTPServer()
    smtp.start()
    overrides = server_environment(smtp=smtp, redis_url=redis_server.url)
    with ExitStack() as stack:
        stack.callback(smtp.stop)
        servers = []
        for name in ("a", "b"):
            server = Gunicorn(tmp_path / f"gunicorn-{name}.log", workers=WORKERS_PER_SERVER)
            server.env.update(overrides)
            stack.callback(server.stop)
            servers.append(server)
        workers = [Worker(servers[i].env, tmp_path / f"worker-{i}.log") for i in range(2)]
        for worker in workers:
            stack.callback(worker.stop)
        # Start all four at once: they boot in parallel on this machine's cores.
        threads = [threading.Thread(target=server.start) for server in servers]
        for thread in threads:
            thread.start()
        for worker in workers:
            worker.start()
        for thread in threads:
            thread.join()
        assert all(server.process and server.process.poll() is None for server in servers)
        yield servers, workers, smtp


def make_shopper(variant, key: str) -> Shopper:
    user = UserFactory()
    cart_with(user, (variant, 1))
    return Shopper(
        user_id=user.pk,
        token=str(RefreshToken.for_user(user).access_token),
        key=key,
        body={"shipping_address": ADDRESS, "payment_token": "tok_success"},
    )


def run_together(jobs: list[tuple[int, Shopper]], deadline: float) -> list[tuple[int, Shopper]]:
    """Send every (port, shopper) checkout from its own thread, all released at once; return
    the (port, shopper) that ended each job, its answers in ``shopper.final``."""
    barrier = threading.Barrier(len(jobs))
    results: list[tuple[int, Shopper]] = []

    def client(port: int, shopper: Shopper) -> None:
        barrier.wait(timeout=30)
        check_out_until_final(port, shopper, deadline)
        results.append((port, shopper))

    threads = [threading.Thread(target=client, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(1.0, deadline - time.monotonic() + 5))
    assert not any(thread.is_alive() for thread in threads)
    return results


def wait_for(condition, deadline: float, message) -> None:
    while not condition():
        assert time.monotonic() < deadline, message()
        time.sleep(0.1)


def test_two_servers_and_two_workers_never_oversell_duplicate_or_resend(cluster):
    servers, workers, smtp = cluster
    ports = [server.port for server in servers]
    started = time.monotonic()
    deadline = started + DEADLINE_SECONDS

    scarce = make_variant(on_hand=UNITS, price=Decimal("20.00"), low_stock_threshold=2)
    plenty = make_variant(on_hand=100, price=Decimal("8.00"))
    buyers = [make_shopper(scarce, f"buyer-{i}-{random.getrandbits(32)}") for i in range(BUYERS)]
    # One shopper, one cart, one key, sent 12 times at once to both servers (a client retrying
    # through a load balancer that spreads its attempts).
    repeater = make_shopper(plenty, f"same-key-{random.getrandbits(32)}")
    copies = [
        Shopper(
            user_id=repeater.user_id, token=repeater.token, key=repeater.key, body=repeater.body
        )
        for _ in range(SAME_KEY_REQUESTS)
    ]

    jobs = [(ports[i % 2], shopper) for i, shopper in enumerate(buyers)]
    jobs += [(ports[i % 2], shopper) for i, shopper in enumerate(copies)]
    random.shuffle(jobs)
    results = run_together(jobs, deadline)

    # Every request got a final answer from the server it was sent to.
    assert all(shopper.final is not None for shopper in buyers + copies), [
        s.answers for s in buyers + copies if s.final is None
    ]

    # 40 buyers, 10 units: exactly 10 orders, the other 30 refused, nothing oversold.
    outcomes = Counter(
        (s.final[0], (s.final[1] or {}).get("code")) for s in buyers if s.final is not None
    )
    assert outcomes == {(201, None): UNITS, (409, "insufficient_stock"): BUYERS - UNITS}
    placed = {s.user_id: s.final[1]["number"] for s in buyers if s.final[0] == 201}
    orders = Order.objects.filter(lines__variant=scarce)
    assert orders.count() == UNITS
    assert dict(orders.values_list("user_id", "number")) == placed
    stock = StockItem.objects.get(variant=scarce)
    assert stock.allocated == UNITS
    assert stock.on_hand == UNITS

    # One key, 12 requests over two servers: one order, every answer is that order.
    (number,) = Order.objects.filter(user_id=repeater.user_id).values_list("number", flat=True)
    assert [s.final[0] for s in copies] == [201] * SAME_KEY_REQUESTS
    assert {s.final[1]["number"] for s in copies} == {number}
    assert StockItem.objects.get(variant=plenty).allocated == 1

    # Both servers placed orders and answered the repeated key.
    answered_201 = {port for port, shopper in results if shopper.final[0] == 201}
    assert answered_201 == set(ports)

    # The CronJob's delivery run races the two workers for the same outbox.
    cron = subprocess.run(
        [sys.executable, "manage.py", "send_pending_notifications"],
        cwd=BASE_DIR,
        env=workers[0].env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert cron.returncode == 0, cron.stderr

    # Every email exactly once: one confirmation per order, one low-stock alert.
    expected = UNITS + 1 + 1
    wait_for(
        lambda: (
            Notification.objects.filter(status=NotificationStatus.SENT).count() == expected
            and len(smtp.messages) >= expected
        ),
        deadline,
        lambda: (
            f"{len(smtp.messages)} emails received, outbox: "
            f"{list(Notification.objects.values_list('kind', 'status', 'last_error'))}\n"
            + "\n".join(w.log_path.read_text()[-2000:] for w in workers)
        ),
    )
    for worker in workers:
        # SIGTERM, as Kubernetes stops a worker pod: it exits cleanly (nothing left to send
        # twice after this).
        worker.stop()
        assert worker.process.returncode == 0, worker.log_path.read_text()[-2000:]
        assert "shutting down gracefully" in worker.log_path.read_text()
    assert Notification.objects.count() == expected
    received = Counter((tuple(m.rcpt_tos), m.subject) for m in smtp.messages)
    outbox = Counter(
        ((recipient,), subject)
        for recipient, subject in Notification.objects.values_list("recipient", "subject")
    )
    assert received == outbox
    assert max(received.values()) == 1
    all_orders = Order.objects.select_related("user")
    confirmations = Counter(
        (m.rcpt_tos[0], m.subject) for m in smtp.messages if "confirmed" in m.subject
    )
    assert confirmations == {
        (order.user.email, f"Order {order.number} confirmed"): 1 for order in all_orders
    }
    assert [m.rcpt_tos for m in smtp.messages if m.rcpt_tos == [STAFF_EMAIL]] == [[STAFF_EMAIL]]
    assert time.monotonic() - started < DEADLINE_SECONDS
