"""Draft orders for phone customers: staff build an order, then send it as a payment link or
mark it paid offline (README, "Draft orders").

A draft is an ``Order`` in ``draft``: hidden from the customer, holding no stock, its lines
priced at the variants' current prices by the checkout's own rules (``cart.pricing``: the
shipping quotes for the address, ``price_cart`` for tax and totals; drafts take no voucher or
promotion). Every change runs in one transaction that locks the order row first and records
an event.

Leaving ``draft``:

* ``send_payment_link``: allocates the stock (``inventory.allocate``; ``InsufficientStock``
  409 when short, nothing changes), moves the order to ``pending_payment`` and emails the
  customer a signed link to ``/orders/<number>/pay/`` that works for
  ``SHOP_PAYMENT_LINK_DAYS``. ``pay_order`` charges it through the configured gateway exactly
  as checkout does (reference = the order number, so it is never charged twice); 3-D Secure
  leaves it pending until the provider's webhook confirms it. ``cancel_expired_payments``
  cancels a link order once its link has expired.
* ``mark_paid_offline`` (bank transfer, cash, card terminal): records an ``offline`` payment
  with the staff's reference and confirms the order (allocating a draft's stock).

Either way the paid order is ``received``/``paid`` through ``orders.lifecycle``: invoice,
``order_placed`` (confirmation email, ``order.created``/``order.paid`` webhooks).
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from cart.pricing.shipping import cart_weight, choose_shipping, shipping_quotes
from cart.pricing.totals import price_cart, prices_include_tax
from catalog.models import Variant
from inventory import services as inventory
from inventory.errors import InsufficientStock
from inventory.services import StockLine
from orders.checkout.recovery import void_reference
from orders.checkout.services import check_email, new_order_number, resolve_address
from orders.errors import (
    OrderNotDraft,
    OrderNotPayable,
    PaymentInProgress,
    PaymentLinkExpired,
)
from orders.guest_access import hash_order_token, new_order_token
from orders.lifecycle import await_payment, cancel_order, confirm_offline_payment, confirm_payment
from orders.models import (
    OFFLINE_GATEWAY,
    OfflinePaymentMethod,
    Order,
    OrderEvent,
    OrderEventType,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentKind,
    PaymentResult,
    PaymentStatus,
)
from orders.payments.confirmation import confirm_if_already_paid
from orders.payments.gateways import PaymentRequiresAction
from orders.payments.services import (
    charge_with_retries,
    refund_with_retries,
    void_pending_payment,
)
from orders.signals import payment_link_sent
from shop.money import money

logger = logging.getLogger(__name__)

MAX_LINE_QUANTITY = 999
ZERO = Decimal("0.00")
PAY_LINK_SALT = "orders.drafts.pay"


# -- building --------------------------------------------------------------------------------


def _locked_draft(order: Order) -> Order:
    locked = Order.objects.select_for_update().get(pk=order.pk)
    if locked.status != OrderStatus.DRAFT:
        raise OrderNotDraft()
    return locked


def _event(
    order: Order, *, user: User | None, note: str, type: str = OrderEventType.DRAFT_UPDATED
) -> None:
    OrderEvent.objects.create(order=order, type=type, user=user, note=note)


def _customer(email: str) -> tuple[User | None, str]:
    """Return the account of ``email`` (case-insensitive) or None, and the order token hash a
    guest's order needs to exist (its token is made anew when the order is sent)."""
    account = User.objects.filter(email__iexact=email, is_active=True).first()
    return account, "" if account is not None else hash_order_token(token=new_order_token())


def _reprice(order: Order) -> None:
    """Price the draft's lines at the variants' current prices and the order's totals with
    the checkout's rules: the shipping method (kept while it serves the address, else the
    cheapest that does) and ``price_cart`` (tax per line, shipping as a line). Saves them."""
    # A draft's lines always have their variant (``PROTECT``: an ordered variant stays).
    lines = list(
        order.lines.filter(variant__isnull=False).select_related("variant__product").order_by("id")
    )
    for line in lines:
        assert line.variant is not None
        line.unit_price = line.variant.price
        line.line_total = money(line.unit_price * line.quantity)
    address = order.shipping_address if isinstance(order.shipping_address, dict) else {}
    country = address.get("country") or None
    subtotal = money(sum((line.line_total for line in lines), ZERO))
    quotes = (
        shipping_quotes(country=country, subtotal=subtotal, weight_grams=cart_weight(lines=lines))
        if lines
        else []
    )
    quote = next((q for q in quotes if q.code == order.shipping_method), None)
    quote = quote or (quotes[0] if quotes else None)
    priced = price_cart(
        rows=lines,
        country=country,
        shipping=quote.price if quote else ZERO,
        voucher=None,
        user=order.user,
        email=order.email,
        promotions=[],
    )
    for line in lines:
        line.discount = ZERO
        line.tax_rate, line.tax = priced.line_taxes[line.variant_id or 0]
    OrderLine.objects.bulk_update(
        lines, ["unit_price", "line_total", "discount", "tax", "tax_rate"]
    )
    order.subtotal = priced.subtotal
    order.discount_total = ZERO
    order.voucher_code = ""
    order.shipping_method = quote.code if quote else ""
    order.shipping_method_name = quote.name if quote else ""
    order.shipping_total = priced.shipping_total
    order.tax_total = priced.tax_total
    order.tax_lines = priced.tax_lines
    order.prices_include_tax = prices_include_tax()
    order.total = priced.total
    order.save()


def create_draft_order(*, email: str, user: User) -> Order:
    """Start an empty draft order for the customer ``email`` (their account when one has
    this address, else a guest) on behalf of staff ``user``, and return it.

    Atomic; records a ``draft_created`` event. Raises ``ValidationError`` keyed by ``email``.
    """
    email = check_email(email=email)
    account, token_hash = _customer(email)
    with transaction.atomic():
        order = Order.objects.create(
            number=new_order_number(),
            user=account,
            email=email,
            order_token_hash=token_hash,
            status=OrderStatus.DRAFT,
            payment_status=PaymentStatus.UNPAID,
            currency=settings.SHOP_CURRENCY,
            subtotal=ZERO,
            shipping_total=ZERO,
            total=ZERO,
            shipping_address={},
            prices_include_tax=prices_include_tax(),
        )
        who = f"account {account.email}" if account else f"guest {email}"
        _event(order, user=user, type=OrderEventType.DRAFT_CREATED, note=f"For {who}.")
    return order


def set_draft_customer(*, order: Order, email: str, user: User) -> Order:
    """Set the draft's customer to ``email`` (their account, or a guest). Locks the order row;
    raises ``ValidationError`` (email) or ``OrderNotDraft`` (409). Return the order."""
    email = check_email(email=email)
    with transaction.atomic():
        order = _locked_draft(order)
        account, token_hash = _customer(email)
        order.user, order.email, order.order_token_hash = account, email, token_hash
        order.save(update_fields=["user", "email", "order_token_hash", "updated_at"])
        _reprice(order)  # a customer's tax rates do not change, but keep one path
        _event(order, user=user, note=f"Customer: {email}.")
    return order


def set_draft_address(
    *, order: Order, user: User, shipping_address: dict | None = None, address_id: int | None = None
) -> Order:
    """Set the draft's shipping address, a new one (checked by the one address rule) or one of
    the customer's address book (``address_id``), and re-price it for the address's country.
    Raises ``ValidationError`` keyed by ``shipping_address.<field>`` or ``address_id`` (not
    the customer's), or ``OrderNotDraft`` (409). Return the order."""
    with transaction.atomic():
        order = _locked_draft(order)
        address = resolve_address(
            user=order.user, shipping_address=shipping_address, address_id=address_id
        )
        order.shipping_address = address
        _reprice(order)
        _event(order, user=user, note=f"Shipping address: {address['city']}, {address['country']}.")
    return order


def set_draft_shipping_method(*, order: Order, code: str, user: User) -> Order:
    """Choose the draft's shipping method by ``code``; it must serve the address
    (``ValidationError`` keyed by ``shipping_method``). Raises ``OrderNotDraft`` (409).
    Return the order, re-priced."""
    with transaction.atomic():
        order = _locked_draft(order)
        lines = list(order.lines.select_related("variant"))
        country = (order.shipping_address or {}).get("country") or None
        quote = choose_shipping(
            country=country,
            code=str(code or "")[:32] or None,
            subtotal=order.subtotal,
            weight_grams=cart_weight(lines=lines),
        )
        order.shipping_method = quote.code
        _reprice(order)
        _event(order, user=user, note=f"Shipping method: {quote.name}.")
    return order


def set_draft_line(
    *, order: Order, sku: str, quantity: int, user: User, add: bool = False
) -> Order:
    """Set (or with ``add``, increase by) the quantity of ``sku`` on the draft; 0 removes the
    line. A new line takes a purchasable variant at its current price; no stock is allocated
    (drafts hold none). Locks the order row; records a line event. Raises ``ValidationError``
    (unknown SKU, bad quantity) or ``OrderNotDraft`` (409). Return the order, re-priced."""
    if not isinstance(quantity, int) or quantity < 0 or quantity > MAX_LINE_QUANTITY:
        raise ValidationError({"quantity": [f"Enter 0 to {MAX_LINE_QUANTITY}."]})
    sku = str(sku or "").strip()
    with transaction.atomic():
        order = _locked_draft(order)
        line = order.lines.filter(sku__iexact=sku).first() if sku else None
        old = line.quantity if line else 0
        new = old + quantity if add else quantity
        if new > MAX_LINE_QUANTITY:
            raise ValidationError({"quantity": [f"A line holds at most {MAX_LINE_QUANTITY}."]})
        if line is None:
            if new == 0:
                raise ValidationError({"sku": ["This SKU is not on the draft."]})
            variant = (
                Variant.objects.purchasable().select_related("product").filter(sku__iexact=sku)
            ).first()
            if variant is None:
                raise ValidationError({"sku": ["No purchasable variant has this SKU."]})
            line = OrderLine(
                order=order,
                variant=variant,
                sku=variant.sku,
                product_name=variant.product.name,
                variant_name=variant.name,
                unit_price=variant.price,
                quantity=new,
                line_total=money(variant.price * new),
            )
        if new == old:
            return order
        if new == 0:
            line.delete()
            event = OrderEventType.LINE_REMOVED
        else:
            line.quantity = new
            line.line_total = money(line.unit_price * new)
            line.save()
            event = OrderEventType.LINE_ADDED if old == 0 else OrderEventType.LINE_CHANGED
        _reprice(order)
        _event(order, user=user, type=event, note=f"{line.sku}: {old} → {new}.")
    return order


def delete_draft_order(*, order: Order, user: User) -> None:
    """Delete a draft order with its lines and events (it is no financial record: nothing was
    allocated, charged or invoiced). Locks the order row; raises ``OrderNotDraft`` (409)."""
    with transaction.atomic():
        order = _locked_draft(order)
        logger.info("Draft order %s deleted by %s", order.number, user.email)
        order.delete()


def cancel_draft_order(*, order: Order, user: User, note: str = "") -> Order:
    """Cancel a draft (kept, with its history). Raises ``OrderNotDraft`` (409)."""
    if order.status != OrderStatus.DRAFT:
        raise OrderNotDraft()
    return cancel_order(order=order, user=user, note=note or "Draft cancelled.")


# -- leaving draft ---------------------------------------------------------------------------


def _check_ready(order: Order) -> list[StockLine]:
    """Raise ``ValidationError`` unless the draft can be placed: lines, an address, a
    shipping method serving it, every variant still purchasable. Return its stock lines."""
    lines = list(order.lines.select_related("variant__product"))
    if not lines:
        raise ValidationError({"lines": ["Add at least one line."]})
    if not (order.shipping_address or {}).get("country"):
        raise ValidationError({"shipping_address": ["Set the shipping address."]})
    if not order.shipping_method:
        raise ValidationError({"shipping_method": ["We do not ship to this address."]})
    unavailable = [
        {"sku": ln.sku, "requested": ln.quantity, "available": 0}
        for ln in lines
        if ln.variant is None or not ln.variant.is_purchasable
    ]
    if unavailable:
        raise InsufficientStock(unavailable)
    return [StockLine(ln.variant_id, ln.quantity, ln.sku) for ln in lines if ln.variant_id]


def _place_draft(order: Order) -> None:
    """Fix the draft's prices and allocate its stock (the order row is locked). A guest is
    given a new order token, which the confirmation email links with (``pending_order_token``
    until the payment is confirmed)."""
    _reprice(order)
    stock = _check_ready(order)
    inventory.allocate(lines=stock, order_number=order.number)
    if order.user_id is None:
        token = new_order_token()
        order.order_token_hash = hash_order_token(token=token)
        order.pending_order_token = token
        order.save(update_fields=["order_token_hash", "pending_order_token", "updated_at"])


def payment_link_days() -> int:
    """Return how many days a payment link works (``SHOP_PAYMENT_LINK_DAYS``)."""
    return max(1, int(getattr(settings, "SHOP_PAYMENT_LINK_DAYS", 7)))


def link_version(*, order: Order) -> int:
    """Return what names the order's current payment link: its expiry, in microseconds (a
    link sent again has a new one)."""
    expires = order.payment_link_expires_at
    return int(expires.timestamp() * 1_000_000) if expires else 0


def _link_payload(order: Order) -> list:
    return [order.number, link_version(order=order)]


def payment_link_token(*, order: Order) -> str:
    """Return the token of the order's current payment link: its number and the link's expiry,
    signed with ``SECRET_KEY`` (a new link, sent again, makes the earlier ones stop working)."""
    return signing.dumps(_link_payload(order), salt=PAY_LINK_SALT)


def payment_link_matches(*, order: Order, token: str | None) -> bool:
    """Return whether ``token`` is the order's current payment link token (expired or not)."""
    if not token or len(token) > 255 or order.payment_link_expires_at is None:
        return False
    try:
        payload = signing.loads(token, salt=PAY_LINK_SALT)
    except signing.BadSignature:
        return False
    return bool(payload == _link_payload(order))


def payment_link_path(*, order: Order) -> str:
    """Return the path of the order's pay page with its link token."""
    path = reverse("orders:pay", kwargs={"number": order.number})
    return f"{path}?token={payment_link_token(order=order)}"


def link_expired(*, order: Order, now: datetime | None = None) -> bool:
    """Return whether the order's payment link is over (or it never had one)."""
    expires = order.payment_link_expires_at
    return expires is None or (now or timezone.now()) >= expires


def send_payment_link(*, order: Order, user: User) -> Order:
    """Send the draft (or, again, an unpaid link order) to its customer as a payment link.

    From ``draft``: checks it is complete (``ValidationError``), fixes its prices, allocates
    its stock (``InsufficientStock`` 409: nothing changes) and moves it to ``pending_payment``.
    Either way the link is valid for ``SHOP_PAYMENT_LINK_DAYS`` from now (a link sent before
    stops working, and a payment the customer left waiting for 3-D Secure is cancelled), a
    ``payment_link_sent`` event is recorded and ``payment_link_sent`` sent inside the
    transaction (the email's outbox row commits with it). Locks the order row, then
    the stock rows (variant order). Raises ``OrderNotPayable`` (409) for an order that is
    neither a draft nor an unpaid link order.
    """
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        resend = (
            locked.status == OrderStatus.PENDING_PAYMENT
            and locked.payment_link_expires_at is not None
        )
        if locked.status != OrderStatus.DRAFT and not resend:
            raise OrderNotPayable()
        if resend:
            # A payment the bank wanted confirmed and the customer left: stop it, so the new
            # link offers the payment form again.
            void_pending_payment(order=locked)
            claim = locked.payment_action.get(PAYING_SINCE)  # a payment running now stays
            locked.payment_action = {PAYING_SINCE: claim} if claim else {}
        else:
            _place_draft(locked)
        locked.payment_link_expires_at = timezone.now() + timedelta(days=payment_link_days())
        locked.save(update_fields=["payment_link_expires_at", "payment_action", "updated_at"])
        if not resend:
            await_payment(order=locked, user=user, note="Payment link sent to the customer.")
            locked.refresh_from_db()
        expires = timezone.localtime(locked.payment_link_expires_at)
        _event(
            locked,
            user=user,
            type=OrderEventType.PAYMENT_LINK_SENT,
            note=f"Payment link for {locked.total} {locked.currency} emailed to {locked.email}"
            f" (valid until {expires:%Y-%m-%d %H:%M %Z}).",
        )
        payment_link_sent.send(
            sender=Order, order_id=locked.pk, pay_url=payment_link_path(order=locked)
        )
    return locked


def mark_paid_offline(*, order: Order, method: str, reference: str, user: User) -> Order:
    """Record that the customer paid a draft or link order outside the gateway (bank transfer,
    cash, card terminal) and confirm it.

    In one transaction with the order row locked: a draft is checked, priced and its stock
    allocated (``InsufficientStock`` 409: nothing changes); a link order's pending gateway
    payment is cancelled at the provider (best effort); an ``offline`` charge ``Payment`` is
    recorded for the total with ``method`` and the staff's ``reference``; the order becomes
    ``received``/``paid`` (invoice, ``order_placed``: confirmation email, webhooks) with a
    ``paid_offline`` event naming ``user``. Raises ``ValidationError`` (method, reference) or
    ``OrderNotPayable`` (409) for an order that is paid, cancelled or a checkout's.
    """
    if method not in OfflinePaymentMethod.values:
        raise ValidationError({"method": ["Choose how the customer paid."]})
    reference = str(reference or "").strip()
    if not reference or len(reference) > 128:
        raise ValidationError(
            {"reference": ["Enter the payment's reference (transfer id, receipt number)."]}
        )
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.status == OrderStatus.DRAFT:
            _place_draft(locked)
        elif locked.status == OrderStatus.PENDING_PAYMENT and locked.payment_link_expires_at:
            void_pending_payment(order=locked)
        else:
            raise OrderNotPayable()
        label = OfflinePaymentMethod(method).label
        Payment.objects.create(
            order=locked,
            reference=locked.number,
            kind=PaymentKind.CHARGE,
            result=PaymentResult.SUCCEEDED,
            amount=locked.total,
            currency=locked.currency,
            gateway=OFFLINE_GATEWAY,
            gateway_transaction_id=reference,
            method=method,
            attempt=Payment.objects.filter(reference=locked.number, kind=PaymentKind.CHARGE).count()
            + 1,
        )
        _event(
            locked,
            user=user,
            type=OrderEventType.PAID_OFFLINE,
            note=f"Paid offline: {locked.total} {locked.currency} by {label.lower()} "
            f"(reference {reference}).",
        )
        confirmed = confirm_offline_payment(
            order=locked, user=user, note=f"Paid offline ({label.lower()})."
        )
    return confirmed


# -- paying the link -------------------------------------------------------------------------


@dataclass(frozen=True)
class PayResult:
    """What paying a link did: the order (``received``, or still ``pending_payment`` when the
    bank wants the customer: ``order.payment_action``), and a guest's order token to keep in
    the browser's session ("" for a member)."""

    order: Order
    order_token: str


def check_payable(*, order: Order) -> None:
    """Raise ``OrderNotPayable`` (409) unless the order waits for its payment link to be paid,
    or ``PaymentLinkExpired`` (410) once the link is over."""
    if order.status != OrderStatus.PENDING_PAYMENT or order.payment_link_expires_at is None:
        raise OrderNotPayable()
    if link_expired(order=order):
        raise PaymentLinkExpired()


def _attempt_reference(order: Order) -> str:
    """The gateway reference of the next charge of a link order: its number, then
    ``<number>-P<n>`` after a declined or abandoned attempt (a provider replays a reference's
    first answer, so another card needs a new one). Two concurrent payments of the same
    attempt share the reference, so the provider charges once."""
    tried = (
        Payment.objects.filter(
            order=order,
            kind=PaymentKind.CHARGE,
            result__in=[PaymentResult.DECLINED, PaymentResult.PENDING],
        )
        .values("reference")
        .distinct()
        .count()
    )
    return order.number if tried == 0 else f"{order.number}-P{tried + 1}"


PAYING_SINCE = "paying_since"


def _claim_payment(order: Order) -> None:
    """Mark the (locked) order as being paid now, or raise ``PaymentInProgress`` (409) while
    another payment of it runs (a second tab, a double click): one charge attempt at a time,
    so each attempt is recorded once. A claim older than ``SHOP_IDEMPOTENCY_LEASE_SECONDS``
    (its request died) is taken over."""
    now = timezone.now()
    since = order.payment_action.get(PAYING_SINCE)
    lease = timedelta(seconds=int(getattr(settings, "SHOP_IDEMPOTENCY_LEASE_SECONDS", 120)))
    if since and now - datetime.fromisoformat(since) < lease:
        raise PaymentInProgress()
    order.payment_action = {PAYING_SINCE: now.isoformat()}
    order.save(update_fields=["payment_action", "updated_at"])


def _release_claim(order: Order) -> None:
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if PAYING_SINCE in locked.payment_action:
            locked.payment_action = {}
            locked.save(update_fields=["payment_action", "updated_at"])


def pay_order(*, order: Order, payment_token: str) -> PayResult:
    """Charge a link order's total with the customer's ``payment_token`` and confirm it.

    1. With the order row locked: check it is payable (``OrderNotPayable`` 409,
       ``PaymentLinkExpired`` 410), claim it for this payment (``PaymentInProgress`` 409 while
       another one runs) and choose the attempt's reference. Commit.
    2. Charge through the gateway with retries, outside any transaction (every attempt's
       ``Payment`` row commits at once). A decline raises ``PaymentDeclinedError`` (402) and
       the order keeps waiting (the customer may try another card);
       ``PaymentUnavailableError`` (503) likewise. When the bank wants the customer (3-D
       Secure) the order stays ``pending_payment`` with ``payment_action`` set, and the
       provider's webhook confirms it (``orders.payments.confirmation``).
    3. With the order row locked again: confirm it (``received``/``paid``, invoice,
       confirmation email). If it was paid meanwhile by this same charge it is returned as
       it is; if it was cancelled meanwhile (the link expired) or paid otherwise (staff marked
       it paid offline), this charge is refunded and ``OrderNotPayable`` raised.
    """
    if not isinstance(payment_token, str) or not payment_token.strip() or len(payment_token) > 255:
        raise ValidationError({"payment_token": ["Choose how to pay."]})
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        check_payable(order=locked)
        _claim_payment(locked)
        reference = _attempt_reference(locked)
        token = locked.pending_order_token
    try:
        charge = charge_with_retries(
            amount=locked.total,
            currency=locked.currency,
            token=payment_token.strip(),
            reference=reference,
            order=locked,
        )
    except PaymentRequiresAction as exc:
        with transaction.atomic():
            waiting = Order.objects.select_for_update().get(pk=order.pk)
            if waiting.status == OrderStatus.PENDING_PAYMENT:
                waiting.payment_action = {
                    "client_secret": exc.client_secret,
                    "next_action": exc.next_action,
                }
                waiting.save(update_fields=["payment_action", "updated_at"])
        confirmed = confirm_if_already_paid(order=waiting)
        return PayResult(order=confirmed or waiting, order_token=token)
    except BaseException:
        _release_claim(locked)
        raise
    with transaction.atomic():
        paid = Order.objects.select_for_update().get(pk=order.pk)
        if paid.status == OrderStatus.PENDING_PAYMENT:
            paid = confirm_payment(
                order=paid,
                note=f"Paid through the payment link: {charge.amount} {charge.currency} "
                f"({charge.charge_id}).",
            )
            return PayResult(order=paid, order_token=token)
        paid_otherwise = (
            Payment.objects.filter(
                order=paid, kind=PaymentKind.CHARGE, result=PaymentResult.SUCCEEDED
            )
            .exclude(gateway_transaction_id=charge.charge_id)
            .exists()
        )
        if paid.is_paid and not paid_otherwise:
            return PayResult(order=paid, order_token=token)
        refund_with_retries(
            amount=charge.amount,
            currency=charge.currency,
            charge_id=charge.charge_id,
            reference=void_reference(number=reference),
            order=paid,
        )
        _event(
            paid,
            user=None,
            type=OrderEventType.REFUND_ISSUED,
            note=f"A payment ({charge.charge_id}) arrived after the order was "
            f"{'paid otherwise' if paid.is_paid else 'cancelled'}; refunded "
            f"{charge.amount} {charge.currency}.",
        )
    if paid.is_paid:
        raise OrderNotPayable("This order was already paid; this payment was refunded.")
    raise OrderNotPayable("This order was cancelled; your payment was refunded.")
