"""Building a draft order: customer, lines, address, shipping method, prices; placing it
(checked, priced, stock allocated) when it is sent or paid; deleting or cancelling it."""

import logging
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from cart.pricing.shipping import cart_weight, choose_shipping, shipping_quotes
from cart.pricing.totals import price_cart, prices_include_tax
from inventory import services as inventory
from inventory.errors import InsufficientStock
from inventory.services import StockLine
from orders.checkout.services import check_email, new_order_number, resolve_address
from orders.editing.services import new_order_line
from orders.errors import (
    OrderNotDraft,
)
from orders.guest_access import hash_order_token, new_order_token
from orders.lifecycle import cancel_order
from orders.models import (
    Order,
    OrderEvent,
    OrderEventType,
    OrderLine,
    OrderStatus,
    PaymentStatus,
)
from shop.money import money

logger = logging.getLogger(__name__)

MAX_LINE_QUANTITY = 999
ZERO = Decimal("0.00")


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
            line = new_order_line(order=order, sku=sku, quantity=new)
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
