"""Real threads against PostgreSQL: row locks, CHECK constraints, no oversell, no deadlock."""

import random
import threading
import uuid
from collections.abc import Callable

import pytest
from django.db import connection
from django.db.models import Sum

from catalog.tests.factories import make_variant
from inventory import services
from inventory.errors import InsufficientStock, TooManyHolds
from inventory.models import StockHold, StockItem, StockMovement
from inventory.services import StockLine

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 20


def run_in_threads(jobs: list[Callable[[], object]]) -> list[object]:
    """Start every job at once (barrier); return each job's result or the exception it raised."""
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)

    def worker(index: int, job: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = job()
        except Exception as exc:  # noqa: BLE001 - the test inspects what each thread got
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread hung (deadlock?)"
    return results


def stock(variant) -> StockItem:
    return StockItem.objects.get(variant=variant)


def test_threads_allocating_the_last_units_never_oversell():
    variant = make_variant(on_hand=5)
    lines = [StockLine(variant.pk, 1, variant.sku)]
    results = run_in_threads(
        [lambda n=n: services.allocate(lines=lines, order_number=f"O-{n}") for n in range(THREADS)]
    )
    succeeded = [r for r in results if r is None]
    refused = [r for r in results if isinstance(r, InsufficientStock)]
    assert len(succeeded) == 5
    assert len(refused) == THREADS - 5
    item = stock(variant)
    assert (item.on_hand, item.allocated) == (5, 5)


def test_adjustments_during_allocations_keep_the_invariants_and_the_ledger():
    variant = make_variant(on_hand=10)
    rng = random.Random(7)  # noqa: S311 - test data

    def allocate():
        services.allocate(lines=[StockLine(variant.pk, rng.randint(1, 3), variant.sku)])
        return "allocated"

    def correct():
        services.adjust(variant=variant, delta=-rng.randint(1, 4), reason="correction")
        return "corrected"

    def restock():
        services.restock(variant=variant, quantity=rng.randint(1, 3))
        return "restocked"

    jobs = [allocate, correct, restock, allocate, correct] * 4
    results = run_in_threads(jobs)
    assert all(
        r in {"allocated", "corrected", "restocked"} or isinstance(r, InsufficientStock)
        for r in results
    ), results
    item = stock(variant)
    assert 0 <= item.allocated <= item.on_hand
    ledger = StockMovement.objects.filter(variant=variant).aggregate(total=Sum("delta"))["total"]
    assert ledger == item.on_hand
    last = StockMovement.objects.filter(variant=variant).order_by("-id").first()
    assert last.on_hand_after == item.on_hand


def test_holds_from_many_carts_never_over_hold():
    variant = make_variant(on_hand=7)
    lines = [StockLine(variant.pk, 2, variant.sku)]
    results = run_in_threads(
        [lambda: services.hold_stock(cart_token=uuid.uuid4(), lines=lines) for _ in range(THREADS)]
    )
    assert sum(1 for r in results if not isinstance(r, Exception)) == 3
    assert all(isinstance(r, InsufficientStock) for r in results if isinstance(r, Exception)), (
        results
    )
    assert StockHold.objects.aggregate(total=Sum("quantity"))["total"] == 6


def test_threads_from_one_client_ip_never_exceed_the_holds_per_ip_bound(settings):
    settings.SHOP_MAX_HOLDS_PER_IP = 3
    variant = make_variant(on_hand=1000)
    lines = [StockLine(variant.pk, 1, variant.sku)]
    ip = "203.0.113.77"
    results = run_in_threads(
        [
            lambda: services.hold_stock(cart_token=uuid.uuid4(), lines=lines, client_ip=ip)
            for _ in range(THREADS)
        ]
    )
    assert sum(1 for r in results if not isinstance(r, Exception)) == 3
    assert all(isinstance(r, TooManyHolds) for r in results if isinstance(r, Exception)), results
    assert StockHold.objects.filter(client_ip=ip).values("cart_token").distinct().count() == 3


def test_opposite_order_multi_line_allocations_do_not_deadlock():
    first = make_variant(on_hand=100)
    second = make_variant(on_hand=100)
    forward = [StockLine(first.pk, 1, first.sku), StockLine(second.pk, 1, second.sku)]
    backward = list(reversed(forward))
    results = run_in_threads(
        [
            lambda lines=(forward if n % 2 else backward): services.allocate(lines=lines)
            for n in range(THREADS)
        ]
    )
    assert results == [None] * THREADS
    assert stock(first).allocated == stock(second).allocated == THREADS
