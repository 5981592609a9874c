"""Refunds of an order edited upward: split over its charges, newest first, safe to retry."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from rest_framework.test import APIClient

from accounts.tests.factories import StaffUserFactory
from catalog.tests.factories import make_variant
from orders.editing.services import add_order_line, change_order_line, issue_goodwill_refund
from orders.errors import PaymentDeclinedError, PaymentUnavailableError
from orders.lifecycle import cancel_order
from orders.models import (
    InvoiceKind,
    MockLedgerEntry,
    Order,
    Payment,
    PaymentKind,
    PaymentResult,
    PaymentStatus,
)
from orders.payments.gateways import MockGateway, PaymentDeclined, TransientPaymentError
from orders.payments.refunds import charge_balances, refund_across_charges
from orders.tests.factories import fast_gateway, place  # noqa: F401
from orders.tests.stripe_server import signed_event

pytestmark = pytest.mark.usefixtures("fast_gateway")


@pytest.fixture
def lamp(db):
    return make_variant(sku="LAMP-1", on_hand=10, price=Decimal("20.00"))


@pytest.fixture
def mug(db):
    return make_variant(sku="MUG-1", on_hand=10, price=Decimal("7.50"))


@pytest.fixture
def staff(db):
    return StaffUserFactory()


def edited(lamp, staff, *, token: str = "tok_success") -> Order:
    """An order of 2 lamps, then 2 mugs added by staff: two charges (checkout, ``-E1``)."""
    order = place(items=[(lamp, 2)], token=token)
    return add_order_line(order=order, sku="MUG-1", quantity=2, user=staff, payment_token=token)


def charges(order: Order) -> list[Payment]:
    return list(
        Payment.objects.filter(
            order=order, kind=PaymentKind.CHARGE, result=PaymentResult.SUCCEEDED
        ).order_by("id")
    )


def ledger_refunds() -> dict[str, tuple[str, Decimal]]:
    """The mock provider's refunds: reference -> (charge id, amount)."""
    return {
        e.reference: (e.charge_id, e.amount)
        for e in MockLedgerEntry.objects.filter(kind=MockLedgerEntry.Kind.REFUND)
    }


@pytest.fixture
def flaky_provider(monkeypatch):
    """The mock's refunds, remembered outside the database as a provider remembers them (the
    mock's ledger is a table, rolled back with the shop's transaction): a repeated reference
    is answered with its first refund, or refused with other parameters. While ``down`` is
    set, the refund of a second charge (``<ref>-2``) fails transiently."""
    real_refund = MockGateway.refund
    state: dict = {"down": True, "refunds": {}}

    def refund(self, **kwargs):
        done = state["refunds"].get(kwargs["reference"])
        if done is not None:
            if (done.amount, done.charge_id) != (kwargs["amount"], kwargs["charge_id"]):
                raise PaymentDeclined("This reference was used for another refund.")
            return done
        if state["down"] and kwargs["reference"].endswith("-2"):
            raise TransientPaymentError("Provider down")
        state["refunds"][kwargs["reference"]] = result = real_refund(self, **kwargs)
        return result

    monkeypatch.setattr(MockGateway, "refund", refund)
    return state


def test_a_goodwill_refund_above_the_newest_charge_takes_the_rest_from_the_first(lamp, mug, staff):
    order = edited(lamp, staff)
    first, second = charges(order)
    amount = second.amount + Decimal("5.00")
    order = issue_goodwill_refund(order=order, amount=amount, reason="Late", user=staff)
    ref = f"{order.number}-G1"
    assert ledger_refunds() == {
        ref: (second.gateway_transaction_id, second.amount),
        f"{ref}-2": (first.gateway_transaction_id, Decimal("5.00")),
    }
    rows = order.payments.filter(kind=PaymentKind.REFUND, result=PaymentResult.SUCCEEDED)
    assert {(r.reference, r.refunded_charge_id) for r in rows} == {
        (ref, second.pk),
        (f"{ref}-2", first.pk),
    }
    (note,) = order.invoices.filter(kind=InvoiceKind.CREDIT_NOTE)
    assert note.total == amount
    assert order.refunded_total == amount
    assert [left for _, left in charge_balances(order=order)] == [
        Decimal("0.00"),
        first.amount - Decimal("5.00"),
    ]


def test_cancelling_an_edited_order_refunds_both_charges_in_full(lamp, mug, staff):
    order = edited(lamp, staff)
    first, second = charges(order)
    assert first.amount + second.amount == order.total
    order = cancel_order(order=order, user=staff)
    assert (order.refunded_total, order.payment_status) == (order.total, PaymentStatus.REFUNDED)
    ref = f"{order.number}-cancel"
    assert ledger_refunds() == {
        ref: (second.gateway_transaction_id, second.amount),
        f"{ref}-2": (first.gateway_transaction_id, first.amount),
    }
    assert order.invoices.filter(kind=InvoiceKind.CREDIT_NOTE).count() == 1


def test_an_edit_that_lowers_the_total_refunds_the_newest_charge_first(lamp, mug, staff):
    order = edited(lamp, staff)
    first, second = charges(order)
    before = order.total
    order = change_order_line(order=order, sku="LAMP-1", quantity=1, user=staff)
    refunded = before - order.total
    assert refunded > second.amount  # one lamp is worth more than the two mugs' charge
    ref = f"{order.number}-E2"
    assert ledger_refunds() == {
        ref: (second.gateway_transaction_id, second.amount),
        f"{ref}-2": (first.gateway_transaction_id, refunded - second.amount),
    }
    (note,) = order.invoices.filter(kind=InvoiceKind.CREDIT_NOTE)
    assert note.total == refunded
    # What is left on the charges is what the order is now worth.
    assert sum(left for _, left in charge_balances(order=order)) == order.total


def test_a_refund_failing_on_the_second_charge_keeps_the_first_and_a_retry_never_doubles(
    lamp, mug, staff, flaky_provider
):
    order = edited(lamp, staff)
    first, second = charges(order)
    amount = order.total - Decimal("1.00")
    with pytest.raises(PaymentUnavailableError):
        issue_goodwill_refund(order=order, amount=amount, reason="Broken", user=staff)
    order.refresh_from_db()
    assert (order.refunded_total, order.payment_status) == (Decimal("0.00"), PaymentStatus.PAID)
    assert not order.invoices.filter(kind=InvoiceKind.CREDIT_NOTE).exists()
    ref = f"{order.number}-G1"
    # The refund made on the newest charge is recorded, not lost with the rollback.
    made = order.payments.get(reference=ref, result=PaymentResult.SUCCEEDED)
    assert (made.amount, made.refunded_charge_id) == (second.amount, second.pk)
    failed = order.payments.filter(reference=f"{ref}-2", result=PaymentResult.FAILED)
    assert failed.count() == 3

    flaky_provider["down"] = False
    order = issue_goodwill_refund(order=order, amount=amount, reason="Broken", user=staff)
    provider = {
        reference: (r.charge_id, r.amount) for reference, r in flaky_provider["refunds"].items()
    }
    assert provider == {
        ref: (second.gateway_transaction_id, second.amount),
        f"{ref}-2": (first.gateway_transaction_id, amount - second.amount),
    }
    assert sum(a for _, a in provider.values()) == amount  # nothing refunded twice
    assert order.refunded_total == amount
    assert order.invoices.filter(kind=InvoiceKind.CREDIT_NOTE).count() == 1
    assert [left for _, left in charge_balances(order=order)] == [
        Decimal("0.00"),
        Decimal("1.00"),
    ]


def test_more_than_the_charges_hold_is_refused_before_the_provider_is_called(lamp, staff):
    order = place(items=[(lamp, 1)])
    with pytest.raises(PaymentDeclinedError, match="left to refund"):
        refund_across_charges(order=order, amount=order.total + 1, reference="X-1")
    assert not ledger_refunds()


def test_the_mock_refuses_refunds_beyond_the_charge_or_under_a_reused_reference(lamp):
    order = place(items=[(lamp, 1)])
    (charge,) = charges(order)
    with pytest.raises(PaymentDeclined, match="more than is left"):
        MockGateway().refund(
            amount=charge.amount + 1,
            currency=order.currency,
            charge_id=charge.gateway_transaction_id,
            reference="too-much",
        )
    gateway = MockGateway()
    part = {"currency": order.currency, "charge_id": charge.gateway_transaction_id}
    done = gateway.refund(amount=Decimal("1.00"), reference="once", **part)
    assert gateway.refund(amount=Decimal("1.00"), reference="once", **part) == done
    with pytest.raises(PaymentDeclined, match="another refund"):
        gateway.refund(amount=Decimal("2.00"), reference="once", **part)


def test_a_provider_refund_of_the_second_charge_is_recorded_after_bigger_refunds_of_the_first(
    lamp, mug, staff, stripe_api
):
    order = edited(lamp, staff, token="pm_card_visa")
    first, second = charges(order)
    order = issue_goodwill_refund(order=order, amount=Decimal("30.00"), reason="x", user=staff)
    # 30.00 went to the newest charge up to its amount, the rest to the first.
    charge = {
        "id": "ch_2",
        "object": "charge",
        "amount": int(second.amount * 100),
        "amount_refunded": int(second.amount * 100),
        "currency": "usd",
        "payment_intent": second.gateway_transaction_id,
        "metadata": {},
    }
    payload, signature = signed_event("charge.refunded", charge, "evt_own_2")
    APIClient().post(
        "/api/v1/payments/webhooks/stripe/",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature,
    )
    order.refresh_from_db()
    assert order.refunded_total == Decimal("30.00")  # our own refund, not counted again
    # A refund made in the dashboard on the first charge, smaller than what the order has
    # refunded in all: still new money back.
    first_refunded = Decimal("30.00") - second.amount
    charge.update(
        id="ch_1",
        amount=int(first.amount * 100),
        amount_refunded=int((first_refunded + Decimal("2.00")) * 100),
        payment_intent=first.gateway_transaction_id,
        refunds={"object": "list", "data": [{"id": "re_dash", "amount": 200}]},
    )
    payload, signature = signed_event("charge.refunded", charge, "evt_dash")
    APIClient().post(
        "/api/v1/payments/webhooks/stripe/",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature,
    )
    order.refresh_from_db()
    assert order.refunded_total == Decimal("32.00")
    dash = order.payments.get(gateway_transaction_id="re_dash")
    assert (dash.amount, dash.refunded_charge_id) == (Decimal("2.00"), first.pk)


def test_stripe_refunds_each_payment_intent_of_an_edited_order(lamp, mug, staff, stripe_api):
    order = edited(lamp, staff, token="pm_card_visa")
    first, second = charges(order)
    order = issue_goodwill_refund(
        order=order, amount=second.amount + Decimal("3.00"), reason="Late", user=staff
    )
    order = cancel_order(order=order, user=staff)
    assert order.payment_status == PaymentStatus.REFUNDED
    by_intent: dict[str, int] = {}
    for refund in stripe_api.refunds.values():
        by_intent[refund["payment_intent"]] = (
            by_intent.get(refund["payment_intent"], 0) + refund["amount"]
        )
    assert by_intent == {
        first.gateway_transaction_id: int(first.amount * 100),
        second.gateway_transaction_id: int(second.amount * 100),
    }
    keys = {key for method, path, key in stripe_api.requests if path == "/v1/refunds"}
    assert keys == {
        f"refund-{order.number}-G1",
        f"refund-{order.number}-G1-2",
        f"refund-{order.number}-cancel",  # only the first charge had anything left
    }


def test_a_stripe_refund_failing_on_the_second_payment_intent_is_completed_by_a_retry(
    lamp, mug, staff, stripe_api
):
    order = edited(lamp, staff, token="pm_card_visa")
    first, second = charges(order)
    real_handle = stripe_api.handle
    down = {"on": True}

    def handle(method, path, params, key):
        if down["on"] and path == "/v1/refunds" and key.endswith("-2"):
            stripe_api.fail_next.append(503)  # never reaches the refund: not stored
        return real_handle(method, path, params, key)

    stripe_api.handle = handle
    with pytest.raises(PaymentUnavailableError):
        cancel_order(order=order, user=staff)
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PAID
    assert [r["payment_intent"] for r in stripe_api.refunds.values()] == [
        second.gateway_transaction_id
    ]
    down["on"] = False
    order = cancel_order(order=order, user=staff)
    assert (order.refunded_total, order.payment_status) == (order.total, PaymentStatus.REFUNDED)
    refunded = sorted((r["payment_intent"], r["amount"]) for r in stripe_api.refunds.values())
    assert refunded == sorted(
        [
            (first.gateway_transaction_id, int(first.amount * 100)),
            (second.gateway_transaction_id, int(second.amount * 100)),
        ]
    )


@pytest.mark.postgres
def test_concurrent_goodwill_refunds_never_refund_more_than_was_charged(
    transactional_db, lamp, mug
):
    staff = StaffUserFactory()
    order = edited(lamp, staff)
    half = (order.total / 2).quantize(Decimal("0.01")) + Decimal("1.00")
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def refund(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = issue_goodwill_refund(order=order, amount=half, reason="x", user=staff)
        except Exception as exc:  # noqa: BLE001 - asserted below
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=refund, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(type(r).__name__ for r in results) == ["Order", "ValidationError"]
    assert isinstance(next(r for r in results if not isinstance(r, Order)), ValidationError)
    order.refresh_from_db()
    assert order.refunded_total == half
    for charge, left in charge_balances(order=order):
        refunded = sum(
            e.amount
            for e in MockLedgerEntry.objects.filter(
                kind=MockLedgerEntry.Kind.REFUND, charge_id=charge.gateway_transaction_id
            )
        )
        assert refunded + left == charge.amount


@pytest.mark.django_db(transaction=True)
def test_the_migration_links_existing_refunds_to_the_first_charge():
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    executor.migrate([("orders", "0014_tax_per_line_and_rate")])
    apps = (
        MigrationExecutor(connection)
        .loader.project_state([("orders", "0014_tax_per_line_and_rate")])
        .apps
    )
    OldOrder = apps.get_model("orders", "Order")  # noqa: N806 - a model class
    OldPayment = apps.get_model("orders", "Payment")  # noqa: N806
    order = OldOrder.objects.create(
        number="OLD-1",
        order_token_hash="0" * 64,
        email="a@example.com",
        currency="USD",
        subtotal=50,
        shipping_total=0,
        total=50,
        shipping_address={},
    )
    common = {"order": order, "currency": "USD", "gateway": "mock"}
    first = OldPayment.objects.create(
        reference="OLD-1",
        kind="charge",
        result="succeeded",
        amount=40,
        gateway_transaction_id="ch_a",
        **common,
    )
    OldPayment.objects.create(
        reference="OLD-1-E1",
        kind="charge",
        result="succeeded",
        amount=10,
        gateway_transaction_id="ch_b",
        **common,
    )
    refund = OldPayment.objects.create(
        reference="OLD-1-G1", kind="refund", result="succeeded", amount=5, **common
    )
    orphan = OldPayment.objects.create(
        reference="DEAD-void",
        kind="refund",
        result="succeeded",
        amount=5,
        currency="USD",
        gateway="mock",
    )
    MigrationExecutor(connection).migrate(leaves)
    assert Payment.objects.get(pk=refund.pk).refunded_charge_id == first.pk
    assert Payment.objects.get(pk=orphan.pk).refunded_charge_id is None


def test_a_retry_with_another_amount_is_refused_and_refunds_nothing_more(
    lamp, mug, staff, flaky_provider
):
    order = edited(lamp, staff)
    with pytest.raises(PaymentUnavailableError):
        issue_goodwill_refund(order=order, amount=order.total, reason="x", user=staff)
    flaky_provider["down"] = False
    before = dict(flaky_provider["refunds"])
    with pytest.raises(PaymentDeclinedError):
        issue_goodwill_refund(order=order, amount=Decimal("1.00"), reason="x", user=staff)
    assert flaky_provider["refunds"] == before
    order.refresh_from_db()
    assert order.refunded_total == Decimal("0.00")
