"""In-process probes for `make bench` (run by bench/run.py against the benchmark database).

    python bench/probe.py queries PATHS_JSON   query counts per path, catalogue cache cold and
                                               warm (django.test.Client, bench.settings)
    python bench/probe.py checkout SKU         queries and commits of one add-to-cart + order
    python bench/probe.py snapshot             counts before the checkout run (JSON)
    python bench/probe.py verify SNAPSHOT SKUS ORDERS_OK IN_FLIGHT WAIT   checks after it

Reads only, except `queries`, which requests pages (GETs: no writes beyond sessions/carts of
anonymous visitors). Prints one JSON document on stdout.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Sum  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402


def _count(client: Client, path: str) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    return response.status_code, len(queries)


def queries(paths_by_key: dict[str, list[str]]) -> dict[str, dict[str, object]]:
    """Queries per request of each scenario: the most over its sample paths, cold and warm."""
    from django.core.cache import cache

    out: dict[str, dict[str, object]] = {}
    for key, paths in paths_by_key.items():
        cold: list[int] = []
        warm: list[int] = []
        statuses: set[int] = set()
        for path in paths:
            client = Client()
            client.get(path)  # the session/cart cookies a returning visitor has
            with override_settings(SHOP_CATALOG_CACHE_SECONDS=0):
                status, count = _count(client, path)
            statuses.add(status)
            cold.append(count)
            cache.clear()
            client.get(path)  # fills the catalogue cache
            status, count = _count(client, path)
            warm.append(count)
        out[key] = {"cold": max(cold), "warm": max(warm), "statuses": sorted(statuses)}
    return out


def checkout_queries(sku: str) -> dict[str, object]:
    """Queries and committed transactions of one add-to-cart and one order (a new buyer)."""
    import secrets

    client = Client()
    email = f"probe-{secrets.token_hex(6)}@example.com"
    password = f"Probe-{secrets.token_hex(12)}"
    client.post(
        "/api/v1/auth/register/",
        {"email": email, "password": password, "first_name": "Probe"},
        content_type="application/json",
    )
    tokens = client.post(
        "/api/v1/auth/token/",
        {"email": email, "password": password},
        content_type="application/json",
    ).json()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {tokens['access']}"}
    commits = []
    real_commit = connection.commit

    def counting_commit():  # counts the outermost atomic blocks that commit
        commits.append(1)
        return real_commit()

    connection.commit = counting_commit  # type: ignore[method-assign]
    try:
        with CaptureQueriesContext(connection) as add:
            added = client.post(
                "/api/v1/cart/items/",
                {"sku": sku, "quantity": 1},
                content_type="application/json",
                **auth,
            )
        add_commits = len(commits)
        with CaptureQueriesContext(connection) as order:
            placed = client.post(
                "/api/v1/orders/",
                {
                    "shipping_address": {
                        "full_name": "Probe Buyer",
                        "line1": "1 Load Street",
                        "city": "Springfield",
                        "postal_code": "12345",
                        "country": "US",
                    },
                    "payment_token": "tok_success",
                },
                content_type="application/json",
                HTTP_IDEMPOTENCY_KEY=secrets.token_hex(16),
                **auth,
            )
    finally:
        del connection.commit
    return {
        "add_to_cart": {"queries": len(add), "commits": add_commits, "status": added.status_code},
        "order": {
            "queries": len(order),
            "commits": len(commits) - add_commits,
            "status": placed.status_code,
        },
    }


def _skus_filter(skus: list[str]):
    from django.db.models import Q

    query = Q()
    for sku in skus:
        query |= Q(variant__sku__iexact=sku)
    return query


def snapshot(skus: list[str]) -> dict[str, int]:
    from django_tasks_db.models import DBTaskResult

    from inventory.models import StockItem
    from notifications.models import Notification
    from orders.models import Order, Payment

    stock = StockItem.objects.filter(_skus_filter(skus)).aggregate(
        on_hand=Sum("on_hand"), allocated=Sum("allocated")
    )
    return {
        "order_id": Order.objects.order_by("-id").values_list("id", flat=True).first() or 0,
        "payment_id": Payment.objects.order_by("-id").values_list("id", flat=True).first() or 0,
        "notification_id": (
            Notification.objects.order_by("-id").values_list("id", flat=True).first() or 0
        ),
        "failed_tasks": DBTaskResult.objects.failed().count(),
        "on_hand": stock["on_hand"] or 0,
        "allocated": stock["allocated"] or 0,
    }


def pending_tasks() -> int:
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.ready().count() + DBTaskResult.objects.running().count()


def verify(
    before: dict[str, int], skus: list[str], orders_ok: int, in_flight: int, wait: float
) -> dict:
    """Stock, orders, payments and notifications of the run add up (each check: ok, detail).

    ``orders_ok``: the 201s the load tool counted. Requests still in flight when it stopped
    (at most ``in_flight``, one per buyer) complete on the server uncounted, so the orders are
    between ``orders_ok`` and ``orders_ok + in_flight``; everything else must match exactly.
    """
    from django_tasks_db.models import DBTaskResult

    from inventory.models import StockItem
    from notifications.models import Notification, NotificationKind, NotificationStatus
    from orders.models import Invoice, Order, OrderLine, Payment, PaymentKind, PaymentResult

    deadline = time.monotonic() + wait
    while pending_tasks() and time.monotonic() < deadline:
        time.sleep(0.5)
    orders = Order.objects.filter(id__gt=before["order_id"])
    order_count = orders.count()
    units = OrderLine.objects.filter(order__in=orders).aggregate(n=Sum("quantity"))["n"] or 0
    paid = orders.filter(payment_status="paid").count()
    charges = Payment.objects.filter(
        id__gt=before["payment_id"], kind=PaymentKind.CHARGE, result=PaymentResult.SUCCEEDED
    )
    charged_orders = charges.filter(order__in=orders).values("order").distinct().count()
    orphan_charges = charges.filter(order__isnull=True).count()
    invoices = Invoice.objects.filter(order__in=orders).count()
    stock = StockItem.objects.filter(_skus_filter(skus)).aggregate(
        on_hand=Sum("on_hand"), allocated=Sum("allocated")
    )
    confirmations = Notification.objects.filter(
        id__gt=before["notification_id"], kind=NotificationKind.ORDER_CONFIRMATION
    )
    sent = confirmations.filter(status=NotificationStatus.SENT).count()
    failed_tasks = DBTaskResult.objects.failed().count() - before["failed_tasks"]
    checks = {
        "orders = successful POSTs (+ in flight at the stop)": (
            orders_ok <= order_count <= orders_ok + in_flight,
            f"{order_count} orders, {orders_ok} counted 201s, at most {in_flight} in flight",
        ),
        "every order paid": (paid == order_count, f"{paid} of {order_count}"),
        "one succeeded charge per order": (
            charged_orders == order_count and charges.count() == order_count + orphan_charges,
            f"{charged_orders} orders charged, {charges.count()} charges",
        ),
        "no charge without an order": (orphan_charges == 0, f"{orphan_charges}"),
        "one invoice per order": (invoices == order_count, f"{invoices}"),
        "stock allocated = units ordered": (
            (stock["allocated"] or 0) - before["allocated"] == units,
            f"+{(stock['allocated'] or 0) - before['allocated']} allocated, {units} units",
        ),
        "on hand unchanged": ((stock["on_hand"] or 0) == before["on_hand"], ""),
        "one confirmation per order": (
            confirmations.count() == order_count,
            f"{confirmations.count()}",
        ),
        "confirmations sent by the worker": (sent == order_count, f"{sent} sent"),
        "no task failed": (failed_tasks == 0, f"{failed_tasks} failed"),
        "task queue drained": (pending_tasks() == 0, f"{pending_tasks()} left"),
    }
    return {name: {"ok": ok, "detail": detail} for name, (ok, detail) in checks.items()}


def main(argv: list[str]) -> int:
    command = argv[0]
    if command == "queries":
        result: object = queries(json.loads(Path(argv[1]).read_text()))
    elif command == "checkout":
        result = checkout_queries(argv[1])
    elif command == "snapshot":
        result = snapshot(json.loads(argv[1]))
    elif command == "verify":
        result = verify(
            json.loads(argv[1]), json.loads(argv[2]), int(argv[3]), int(argv[4]), float(argv[5])
        )
    else:
        raise SystemExit(f"unknown probe {command!r}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
