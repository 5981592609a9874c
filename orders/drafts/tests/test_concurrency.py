"""Real threads against PostgreSQL: a payment link paid at once from several tabs, and drafts
sent together for the last units."""

from decimal import Decimal

import pytest

from catalog.tests.factories import make_variant
from inventory.errors import InsufficientStock
from inventory.models import StockItem
from notifications.models import Notification, NotificationKind
from orders.drafts.services import pay_order, send_payment_link
from orders.drafts.tests.factories import customer_service, ready_draft
from orders.errors import OrderNotPayable, PaymentInProgress
from orders.models import InvoiceKind, Order, OrderStatus, Payment, PaymentResult
from orders.payments.gateways import MockGateway
from orders.tests.factories import fast_gateway  # noqa: F401
from orders.tests.test_concurrency import run_threads

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("fast_gateway")]


def test_a_link_paid_from_eight_tabs_at_once_is_charged_and_confirmed_once(transactional_db):
    sent = send_payment_link(order=ready_draft(), user=customer_service())

    results = run_threads(8, lambda i: pay_order(order=sent, payment_token="tok_success"))

    paid = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, OrderNotPayable | PaymentInProgress)]
    assert len(paid) == 1
    assert len(paid) + len(refused) == 8
    order = Order.objects.get(pk=sent.pk)
    assert order.status == OrderStatus.RECEIVED
    assert MockGateway.charge_count() == 1
    assert order.invoices.filter(kind=InvoiceKind.INVOICE).count() == 1
    assert Notification.objects.filter(kind=NotificationKind.ORDER_CONFIRMATION).count() == 1
    assert Payment.objects.filter(order=order, result=PaymentResult.SUCCEEDED).count() == 1


def test_drafts_sent_together_for_the_last_units_never_oversell(transactional_db):
    variant = make_variant(on_hand=3, price=Decimal("10.00"))
    drafts = [ready_draft(items=[(variant, 1)]) for _ in range(6)]
    staff = customer_service()

    results = run_threads(6, lambda i: send_payment_link(order=drafts[i], user=staff))

    assert sum(isinstance(r, Order) for r in results) == 3
    assert sum(isinstance(r, InsufficientStock) for r in results) == 3
    assert StockItem.objects.get(variant=variant).allocated == 3
    statuses = sorted(Order.objects.values_list("status", flat=True))
    assert statuses == [OrderStatus.DRAFT] * 3 + [OrderStatus.PENDING_PAYMENT] * 3
