"""Draft orders: building, pricing, sending as a payment link, paying it, paying offline."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.tests.factories import UserFactory
from cart.models import TaxRate
from cart.tests.factories import ShippingMethodFactory, default_shipping_method
from catalog.tests.factories import make_variant
from inventory.errors import InsufficientStock
from inventory.models import StockItem
from notifications.emails import build_message
from notifications.models import Notification, NotificationKind
from notifications.webhooks.models import WebhookDelivery, WebhookEndpoint
from orders.drafts.services import (
    cancel_draft_order,
    create_draft_order,
    delete_draft_order,
    mark_paid_offline,
    pay_order,
    payment_link_matches,
    payment_link_token,
    send_payment_link,
    set_draft_line,
    set_draft_shipping_method,
)
from orders.drafts.tests.factories import customer_service, finance, ready_draft
from orders.errors import (
    OrderNotDraft,
    OrderNotPayable,
    PaymentDeclinedError,
    PaymentInProgress,
    PaymentLinkExpired,
)
from orders.guest_access import token_matches
from orders.lifecycle import cancel_order
from orders.models import (
    InvoiceKind,
    Order,
    OrderEventType,
    OrderStatus,
    Payment,
    PaymentKind,
    PaymentResult,
    PaymentStatus,
)
from orders.payments.confirmation import cancel_expired_payments
from orders.payments.gateways import MockGateway
from orders.selectors import orders_for
from orders.tests.factories import ADDRESS, fast_gateway, place  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_gateway")]


def allocated(variant) -> int:
    return StockItem.objects.get(variant=variant).allocated


def test_a_draft_is_priced_exactly_like_checkout_for_the_same_lines_and_address(settings):
    settings.SHOP_TAX_RATE = Decimal("0.10")
    TaxRate.objects.create(country="GB", name="VAT 20%", rate=Decimal("0.2000"))
    TaxRate.objects.create(country="GB", tax_class="reduced", name="VAT 5%", rate=Decimal("0.0500"))
    lamp = make_variant(on_hand=10, price=Decimal("19.99"), weight_grams=400)
    book = make_variant(on_hand=10, price=Decimal("7.35"), product__tax_class="reduced")
    default_shipping_method()
    items = [(lamp, 1), (book, 3)]

    draft = ready_draft(items=items)
    checkout = place(items=items)

    fields = ["subtotal", "shipping_total", "tax_total", "total", "tax_lines", "shipping_method"]
    assert {f: getattr(draft, f) for f in fields} == {f: getattr(checkout, f) for f in fields}
    taxes = lambda order: sorted((ln.sku, ln.tax, ln.tax_rate) for ln in order.lines.all())  # noqa: E731
    assert taxes(draft) == taxes(checkout)


def test_a_draft_holds_no_stock_and_follows_catalogue_prices_until_it_is_sent():
    variant = make_variant(on_hand=5, price=Decimal("20.00"))
    draft = ready_draft(items=[(variant, 2)])
    assert (draft.status, draft.payment_status) == (OrderStatus.DRAFT, PaymentStatus.UNPAID)
    assert allocated(variant) == 0
    variant.price = Decimal("25.00")
    variant.save()
    draft = set_draft_line(order=draft, sku=variant.sku, quantity=3, user=customer_service())
    assert draft.subtotal == Decimal("75.00")

    sent = send_payment_link(order=draft, user=customer_service())

    assert (sent.status, sent.payment_status) == (
        OrderStatus.PENDING_PAYMENT,
        PaymentStatus.PENDING,
    )
    assert allocated(variant) == 3
    assert sent.payment_link_expires_at > timezone.now() + timedelta(days=6)
    variant.price = Decimal("99.00")
    variant.save()
    sent.refresh_from_db()
    assert sent.total == Decimal("75.00")  # frozen once sent
    assert list(sent.events.values_list("type", flat=True))[-2:] == [
        OrderEventType.STATUS_CHANGED,
        OrderEventType.PAYMENT_LINK_SENT,
    ]


def test_sending_the_link_emails_the_customer_a_signed_pay_link():
    draft = ready_draft(email="caller@example.com")
    sent = send_payment_link(order=draft, user=customer_service())
    email = Notification.objects.get(kind=NotificationKind.PAYMENT_LINK)
    assert email.recipient == "caller@example.com"
    url = email.context["pay_url"]
    assert f"/orders/{sent.number}/pay/?token=" in url
    assert payment_link_matches(order=sent, token=url.split("token=", 1)[1])
    assert email.context["order"]["total"] == f"{sent.total:.2f}"
    message = build_message(email)
    assert sent.number in message.subject
    assert url in message.body
    assert url.replace("&", "&amp;") in message.alternatives[0][0]


def test_a_draft_short_of_stock_is_not_sent_and_nothing_changes():
    variant = make_variant(on_hand=1, price=Decimal("20.00"))
    draft = ready_draft(items=[(variant, 2)])
    with pytest.raises(InsufficientStock):
        send_payment_link(order=draft, user=customer_service())
    draft.refresh_from_db()
    assert draft.status == OrderStatus.DRAFT
    assert allocated(variant) == 0
    assert not Notification.objects.filter(kind=NotificationKind.PAYMENT_LINK).exists()


def test_a_draft_without_an_address_or_lines_cannot_be_sent():
    staff = customer_service()
    empty = create_draft_order(email="a@example.com", user=staff)
    with pytest.raises(ValidationError) as lines:
        send_payment_link(order=empty, user=staff)
    assert "lines" in lines.value.message_dict
    variant = make_variant(on_hand=5)
    no_address = set_draft_line(order=empty, sku=variant.sku, quantity=1, user=staff)
    with pytest.raises(ValidationError) as address:
        send_payment_link(order=no_address, user=staff)
    assert "shipping_address" in address.value.message_dict


def test_bad_draft_input_is_refused_with_the_field_named():
    staff = customer_service()
    with pytest.raises(ValidationError) as email:
        create_draft_order(email="not-an-email", user=staff)
    assert "email" in email.value.message_dict
    draft = ready_draft()
    with pytest.raises(ValidationError) as sku:
        set_draft_line(order=draft, sku="NOPE", quantity=1, user=staff)
    assert "sku" in sku.value.message_dict
    with pytest.raises(ValidationError):
        set_draft_line(order=draft, sku="NOPE", quantity=-1, user=staff)
    with pytest.raises(ValidationError) as method:
        set_draft_shipping_method(order=draft, code="teleport", user=staff)
    assert "shipping_method" in method.value.message_dict


def test_a_shipping_method_serving_the_address_prices_the_draft():
    express = ShippingMethodFactory(
        zone=default_shipping_method().zone, code="express", price=Decimal("12.00")
    )
    draft = ready_draft()
    draft = set_draft_shipping_method(order=draft, code=express.code, user=customer_service())
    assert (draft.shipping_method, draft.shipping_total) == ("express", Decimal("12.00"))
    assert draft.total == draft.subtotal + Decimal("12.00")


def test_a_draft_for_a_customer_with_an_account_is_theirs_and_a_guest_draft_has_no_user():
    member = UserFactory(email="Member@Example.com")
    draft = create_draft_order(email="member@example.com", user=customer_service())
    assert draft.user == member
    guest = create_draft_order(email="guest@example.com", user=customer_service())
    assert guest.user is None
    assert guest.order_token_hash


def test_drafts_are_hidden_from_the_customer_until_sent():
    member = UserFactory(email="hidden@example.com")
    draft = ready_draft(email=member.email)
    assert not orders_for(user=member).filter(pk=draft.pk).exists()
    send_payment_link(order=draft, user=customer_service())
    assert orders_for(user=member).filter(pk=draft.pk).exists()


def test_paying_the_link_with_a_test_card_confirms_the_order_with_invoice_and_email():
    variant = make_variant(on_hand=5, price=Decimal("20.00"))
    sent = send_payment_link(order=ready_draft(items=[(variant, 2)]), user=customer_service())

    result = pay_order(order=sent, payment_token="tok_success")

    order = result.order
    assert (order.status, order.payment_status) == (OrderStatus.RECEIVED, PaymentStatus.PAID)
    assert order.invoices.filter(kind=InvoiceKind.INVOICE).count() == 1
    charge = Payment.objects.get(order=order, result=PaymentResult.SUCCEEDED)
    assert (charge.reference, charge.amount) == (order.number, order.total)
    assert Notification.objects.filter(
        kind=NotificationKind.ORDER_CONFIRMATION, recipient=order.email
    ).exists()
    assert allocated(variant) == 2


def test_a_guests_confirmation_links_with_a_token_that_opens_the_order():
    sent = send_payment_link(order=ready_draft(email="g@example.com"), user=customer_service())
    result = pay_order(order=sent, payment_token="tok_success")
    assert result.order.user is None
    assert token_matches(order=result.order, token=result.order_token)
    email = Notification.objects.get(kind=NotificationKind.ORDER_CONFIRMATION)
    assert f"token={result.order_token}" in email.context["order"]["url"]
    assert result.order.pending_order_token == ""


def test_paying_twice_is_refused_and_charges_once():
    sent = send_payment_link(order=ready_draft(), user=customer_service())
    pay_order(order=sent, payment_token="tok_success")
    with pytest.raises(OrderNotPayable):
        pay_order(order=sent, payment_token="tok_success")
    assert MockGateway.charge_count() == 1
    assert Order.objects.get(pk=sent.pk).invoices.count() == 1


def test_a_declined_card_keeps_the_link_open_and_another_card_pays_under_a_new_reference():
    sent = send_payment_link(order=ready_draft(), user=customer_service())
    with pytest.raises(PaymentDeclinedError):
        pay_order(order=sent, payment_token="tok_declined")
    sent.refresh_from_db()
    assert sent.status == OrderStatus.PENDING_PAYMENT

    paid = pay_order(order=sent, payment_token="tok_success").order

    assert paid.status == OrderStatus.RECEIVED
    references = list(
        Payment.objects.filter(order=paid).order_by("id").values_list("reference", "result")
    )
    assert references == [
        (paid.number, PaymentResult.DECLINED),
        (f"{paid.number}-P2", PaymentResult.SUCCEEDED),
    ]


def test_a_payment_while_another_runs_is_refused_until_the_dead_ones_lease_is_over(settings):
    sent = send_payment_link(order=ready_draft(), user=customer_service())
    started = timezone.now() - timedelta(seconds=30)
    Order.objects.filter(pk=sent.pk).update(payment_action={"paying_since": started.isoformat()})
    with pytest.raises(PaymentInProgress):
        pay_order(order=sent, payment_token="tok_success")
    settings.SHOP_IDEMPOTENCY_LEASE_SECONDS = 10
    assert pay_order(order=sent, payment_token="tok_success").order.is_paid


def test_a_declined_payment_frees_the_order_for_the_next_attempt():
    sent = send_payment_link(order=ready_draft(), user=customer_service())
    with pytest.raises(PaymentDeclinedError):
        pay_order(order=sent, payment_token="tok_declined")
    assert Order.objects.get(pk=sent.pk).payment_action == {}


def test_an_expired_link_is_refused():
    sent = send_payment_link(order=ready_draft(), user=customer_service())
    Order.objects.filter(pk=sent.pk).update(
        payment_link_expires_at=timezone.now() - timedelta(minutes=1)
    )
    with pytest.raises(PaymentLinkExpired):
        pay_order(order=sent, payment_token="tok_success")
    assert MockGateway.charge_count() == 0


def test_a_link_token_opens_only_its_own_order_and_only_its_latest_link():
    first = send_payment_link(order=ready_draft(), user=customer_service())
    other = send_payment_link(order=ready_draft(), user=customer_service())
    token = payment_link_token(order=first)
    assert payment_link_matches(order=first, token=token)
    assert not payment_link_matches(order=other, token=token)
    assert not payment_link_matches(order=first, token=token + "x")
    Order.objects.filter(pk=first.pk).update(
        payment_link_expires_at=first.payment_link_expires_at - timedelta(days=1)
    )
    resent = send_payment_link(order=Order.objects.get(pk=first.pk), user=customer_service())
    assert not payment_link_matches(order=resent, token=token)
    assert payment_link_matches(order=resent, token=payment_link_token(order=resent))
    assert Notification.objects.filter(kind=NotificationKind.PAYMENT_LINK).count() == 3


def test_cancel_expired_payments_waits_for_the_link_to_expire(settings):
    variant = make_variant(on_hand=5)
    sent = send_payment_link(order=ready_draft(items=[(variant, 1)]), user=customer_service())
    later = timezone.now() + timedelta(seconds=settings.SHOP_PAYMENT_TIMEOUT + 60)
    assert cancel_expired_payments(now=later) == []
    assert Order.objects.get(pk=sent.pk).status == OrderStatus.PENDING_PAYMENT

    after_link = sent.payment_link_expires_at + timedelta(seconds=1)
    assert cancel_expired_payments(now=after_link) == [f"{sent.number} cancelled"]
    cancelled = Order.objects.get(pk=sent.pk)
    assert (cancelled.status, cancelled.payment_status) == (
        OrderStatus.CANCELLED,
        PaymentStatus.UNPAID,
    )
    assert allocated(variant) == 0


def test_marking_a_draft_paid_offline_records_the_payment_and_confirms_it():
    variant = make_variant(on_hand=5, price=Decimal("20.00"))
    staff = finance()
    draft = ready_draft(items=[(variant, 2)])

    paid = mark_paid_offline(order=draft, method="bank_transfer", reference="TRX-991", user=staff)

    assert (paid.status, paid.payment_status) == (OrderStatus.RECEIVED, PaymentStatus.PAID)
    payment = Payment.objects.get(order=paid)
    assert (payment.gateway, payment.method, payment.gateway_transaction_id, payment.amount) == (
        "offline",
        "bank_transfer",
        "TRX-991",
        paid.total,
    )
    assert allocated(variant) == 2
    assert paid.invoices.filter(kind=InvoiceKind.INVOICE).count() == 1
    event = paid.events.get(type=OrderEventType.PAID_OFFLINE)
    assert event.user == staff
    assert "TRX-991" in event.note
    assert Notification.objects.filter(kind=NotificationKind.ORDER_CONFIRMATION).count() == 1
    assert MockGateway.charge_count() == 0


def test_a_sent_link_order_can_be_marked_paid_offline_and_its_link_then_closes():
    sent = send_payment_link(order=ready_draft(), user=customer_service())
    paid = mark_paid_offline(order=sent, method="cash", reference="Receipt 12", user=finance())
    assert paid.status == OrderStatus.RECEIVED
    with pytest.raises(OrderNotPayable):
        pay_order(order=paid, payment_token="tok_success")
    with pytest.raises(OrderNotPayable):
        mark_paid_offline(order=paid, method="cash", reference="again", user=finance())


def test_offline_payment_needs_a_method_and_a_reference():
    draft = ready_draft()
    with pytest.raises(ValidationError):
        mark_paid_offline(order=draft, method="bitcoin", reference="x", user=finance())
    with pytest.raises(ValidationError):
        mark_paid_offline(order=draft, method="cash", reference="  ", user=finance())
    assert Order.objects.get(pk=draft.pk).status == OrderStatus.DRAFT


def test_an_order_paid_offline_is_refunded_offline_when_cancelled():
    paid = mark_paid_offline(
        order=ready_draft(), method="card_terminal", reference="SLIP-7", user=finance()
    )
    cancelled = cancel_order(order=paid, user=finance())
    assert cancelled.payment_status == PaymentStatus.REFUNDED
    refund = Payment.objects.get(order=paid, kind=PaymentKind.REFUND)
    assert (refund.gateway, refund.method, refund.amount) == (
        "offline",
        "card_terminal",
        paid.total,
    )
    assert paid.invoices.filter(kind=InvoiceKind.CREDIT_NOTE).count() == 1


def test_a_draft_can_be_deleted_or_cancelled_but_a_sent_order_not_deleted():
    staff = customer_service()
    draft = ready_draft()
    delete_draft_order(order=draft, user=staff)
    assert not Order.objects.filter(pk=draft.pk).exists()

    other = ready_draft()
    cancelled = cancel_draft_order(order=other, user=staff)
    assert (cancelled.status, cancelled.payment_status) == (
        OrderStatus.CANCELLED,
        PaymentStatus.UNPAID,
    )
    assert not Notification.objects.filter(kind=NotificationKind.ORDER_CANCELLED).exists()

    sent = send_payment_link(order=ready_draft(), user=staff)
    with pytest.raises(OrderNotDraft):
        delete_draft_order(order=sent, user=staff)
    with pytest.raises(OrderNotDraft):
        set_draft_line(order=sent, sku=sent.lines.first().sku, quantity=5, user=staff)


def test_webhooks_announce_a_draft_only_once_it_is_paid():
    WebhookEndpoint.objects.create(
        url="https://hooks.example.com/shop",
        secret="whsec_test",
        events=["order.created", "order.paid", "order.cancelled"],
    )
    draft = ready_draft()
    cancel_draft_order(order=ready_draft(), user=customer_service())
    sent = send_payment_link(order=draft, user=customer_service())
    assert not WebhookDelivery.objects.exists()

    pay_order(order=sent, payment_token="tok_success")

    assert sorted(WebhookDelivery.objects.values_list("event_type", flat=True)) == [
        "order.created",
        "order.paid",
    ]


def test_a_card_payment_landing_after_staff_marked_the_order_paid_offline_is_refunded(
    monkeypatch,
):
    sent = send_payment_link(order=ready_draft(), user=customer_service())
    real_charge = MockGateway.charge

    def charge_while_finance_marks_it_paid(self, **kwargs):
        result = real_charge(self, **kwargs)
        mark_paid_offline(order=sent, method="cash", reference="R-9", user=finance())
        return result

    monkeypatch.setattr(MockGateway, "charge", charge_while_finance_marks_it_paid)
    with pytest.raises(OrderNotPayable, match="already paid"):
        pay_order(order=sent, payment_token="tok_success")

    order = Order.objects.get(pk=sent.pk)
    assert (order.status, order.payment_status) == (OrderStatus.RECEIVED, PaymentStatus.PAID)
    refund = Payment.objects.get(order=order, kind=PaymentKind.REFUND)
    assert (refund.gateway, refund.result, refund.amount) == ("mock", "succeeded", order.total)
    assert order.refunded_total == 0
