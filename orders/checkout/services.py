"""Checkout: turn a cart into a paid order.

How failures stay clean (and why the charge is outside the database transaction):

1. *Prepare* (transaction 1): lock the cart row (``cart.services.lock_cart``), check it (not
   empty, every line purchasable, prices unchanged), allocate all stock
   (``inventory.allocate``: stock rows locked in variant order, the cart's holds converted)
   and start the checkout on the cart (``cart.checkout.start_checkout``: the cart is *in
   checkout*, ``checkout_order_number`` = the order number). Commit. No lock is held past
   this point.
2. *Charge* through the gateway with retries, outside any transaction, so every attempt's
   ``Payment`` row is committed as soon as it is written, whatever happens next.
3. *Finalize* (transaction 2): order, lines, invoice, event, payments linked, checkout
   completed (``cart.checkout.complete_checkout``: cart ``ordered``), ``order_placed`` sent
   inside it (the confirmation email's outbox row commits with the order, or neither does).

A declined or unavailable payment runs *abort* (deallocate, restore the cart's holds, end the
checkout: ``cart.checkout.end_checkout``): stock and cart are as they were and the attempts
stay recorded. If finalize fails after a successful charge, the charge is refunded
(compensation) and abort runs.

A crash between steps leaves a cart in checkout, its allocation and perhaps a charge without
an order. ``orders.checkout.recovery`` undoes such a *stale* checkout once it is older than
``cart.checkout.CHECKOUT_TIMEOUT`` (cron ``recover_checkouts``, or ``lock_cart`` when the
shopper touches the cart again): refund, deallocate, end the checkout. Because a slow (not
dead) checkout may still be running then, *abort* and *finalize* first lock the cart row
(``cart.checkout.lock_cart_in_checkout``) and go on only while it is still in checkout with
their number: once recovery ended it, abort does nothing (no double deallocation) and
finalize fails, so the charge is refunded (compensation).
"""

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DatabaseError, transaction
from django.utils import timezone

from accounts.addresses.rules import address_snapshot, clean_address
from accounts.models import Address, User
from accounts.services import remember_address
from cart.checkout import (
    complete_checkout,
    end_checkout,
    lock_cart_in_checkout,
    start_checkout,
)
from cart.errors import CartEmpty, CartNotFound, VoucherRefused
from cart.models import Cart
from cart.pricing.services import forget_voucher, redeem_voucher, release_voucher_use
from cart.pricing.shipping import cart_weight, choose_shipping, shipping_quotes
from cart.pricing.totals import order_totals, price_cart, prices_include_tax
from cart.selectors import cart_lines
from cart.services import lock_cart, refresh_line_price
from inventory import services as inventory
from inventory.errors import InsufficientStock
from inventory.models import StockHold
from inventory.services import StockLine
from orders.checkout.recovery import void_reference
from orders.errors import CartChanged, CheckoutFailed, PriceChanged
from orders.guest_access import hash_order_token, new_order_token
from orders.invoices.services import issue_invoice
from orders.models import (
    Order,
    OrderEvent,
    OrderEventType,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentStatus,
)
from orders.payments.confirmation import confirm_if_already_paid
from orders.payments.gateways import ChargeResult, PaymentRequiresAction, get_gateway
from orders.payments.services import charge_with_retries, refund_with_retries
from orders.pricing import tax_rate
from orders.selectors import attach_details
from orders.signals import order_placed
from shop.money import money

logger = logging.getLogger(__name__)

NUMBER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # no 0/O, 1/I/L, U


class CheckoutRecovered(Exception):  # noqa: N818 - names the state found
    """The checkout outlived ``CHECKOUT_TIMEOUT`` and recovery undid it."""


def new_order_number() -> str:
    """Return an unused human-friendly order number such as ``SO-7K3M-9Q2X``."""
    for _ in range(20):
        raw = "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(8))
        number = f"SO-{raw[:4]}-{raw[4:]}"
        if not Order.objects.filter(number=number).exists():
            return number
    raise RuntimeError("Could not find a free order number.")  # pragma: no cover


def compute_totals(
    *, subtotal: Decimal, shipping: Decimal | None = None, discount_total: Decimal = Decimal("0")
) -> tuple[Decimal, Decimal, Decimal]:
    """Return ``(shipping_total, tax_total, total)`` (``cart.pricing.totals.order_totals``).

    ``shipping`` is the chosen method's price (``cart.pricing.shipping``); when omitted, the
    cheapest method of the default zone for this subtotal (weight 0).
    """
    subtotal = money(subtotal)
    if shipping is None:
        quotes = shipping_quotes(country=None, subtotal=subtotal, weight_grams=0)
        shipping = quotes[0].price if quotes else Decimal("0.00")
    return order_totals(subtotal=subtotal, discount_total=discount_total, shipping=shipping)


def resolve_address(
    *, user: User | None, shipping_address: dict | None, address_id: int | None
) -> dict[str, str]:
    """Return the shipping address snapshot (a dict of the address fields).

    A new address is checked by the one address rule (``accounts.addresses.rules``: ISO
    3166-1 countries only). Raises ``ValidationError`` keyed by dotted paths
    (``shipping_address.postal_code``) for a bad address, or by ``address_id`` for an address
    id that is not the user's; keyed by ``address_id`` or ``shipping_address`` when both or
    neither are given.
    """
    if address_id is not None and shipping_address is not None:
        raise ValidationError({"address_id": ["Give either shipping_address or address_id."]})
    if address_id is not None:
        address = (
            Address.objects.filter(pk=address_id, user=user).first() if user is not None else None
        )
        if address is None:
            raise ValidationError({"address_id": ["Unknown address."]})
        return address_snapshot(address)
    if not isinstance(shipping_address, dict):
        raise ValidationError({"shipping_address": ["A shipping address is required."]})
    try:
        return clean_address(shipping_address)
    except ValidationError as exc:
        raise ValidationError(
            {f"shipping_address.{name}": errors for name, errors in exc.error_dict.items()}
        ) from exc


@dataclass(frozen=True)
class _PlannedLine:
    variant_id: int
    sku: str
    product_name: str
    variant_name: str
    unit_price: Decimal
    quantity: int
    discount: Decimal = Decimal("0.00")
    tax: Decimal = Decimal("0.00")
    tax_rate: Decimal = Decimal("0")

    @property
    def line_total(self) -> Decimal:
        return money(self.unit_price * self.quantity)


@dataclass(frozen=True)
class _Plan:
    number: str
    cart_id: int
    cart_token: UUID
    lines: list[_PlannedLine]
    subtotal: Decimal
    discount_total: Decimal
    voucher_code: str
    shipping_method: str
    shipping_method_name: str
    shipping_total: Decimal
    tax_total: Decimal
    total: Decimal
    tax_lines: list[dict]
    hold_expires_at: datetime | None  # the cart's hold expiry before checkout, restored on abort

    def stock_lines(self) -> list[StockLine]:
        return [StockLine(line.variant_id, line.quantity, line.sku) for line in self.lines]


def _prepare(
    *,
    user: User | None,
    cart: Cart,
    number: str,
    country: str | None = None,
    shipping_method: str | None = None,
    expected_total: Decimal | None = None,
    email: str = "",
) -> _Plan:
    """Transaction 1. Return the plan, or raise (price changes are committed, then raised).

    Shipping is re-priced here (``cart.pricing.shipping.choose_shipping``): the method
    ``shipping_method`` for ``country``, or the cheapest serving it; ``ValidationError`` keyed
    by ``shipping_method`` (nothing allocated) when it does not serve the address.

    The discount is chosen again (``cart.pricing.vouchers.best_discount``: the cart's voucher
    or a promotion); the voucher's use is counted here (``redeem_voucher``: voucher row locked
    after the cart row, before the stock rows) and given back by ``_abort``. A voucher that no
    longer applies, or is used up meanwhile, raises its ``VoucherRefused`` (``400``, e.g.
    ``voucher_used_up``) with nothing allocated or charged, and is taken off the cart (that
    commits) so the shopper's next attempt is priced without it. Raises
    ``CartChanged`` (nothing allocated) when ``expected_total`` is given and differs from the
    total the cart now comes to.
    """
    try:
        return _prepare_locked(
            user=user,
            cart=cart,
            number=number,
            country=country,
            shipping_method=shipping_method,
            expected_total=expected_total,
            email=email,
        )
    except VoucherRefused:
        forget_voucher(cart_id=cart.pk)
        raise


def _prepare_locked(
    *,
    user: User | None,
    cart: Cart,
    number: str,
    country: str | None,
    shipping_method: str | None,
    expected_total: Decimal | None,
    email: str,
) -> _Plan:
    price_changed = False
    with transaction.atomic():
        cart = lock_cart(cart=cart)
        if cart.user_id != (user.pk if user is not None else None):
            raise CartNotFound()
        rows = cart_lines(cart=cart)
        if not rows:
            raise CartEmpty()
        unavailable = [
            {"sku": r.variant.sku, "requested": r.quantity, "available": 0}
            for r in rows
            if not r.variant.is_purchasable
        ]
        if unavailable:
            raise InsufficientStock(unavailable)
        for row in rows:
            if row.unit_price != row.variant.price:
                price_changed = True
                refresh_line_price(line=row)
        if not price_changed:
            subtotal = money(sum((r.unit_price * r.quantity for r in rows), Decimal("0")))
            quote = choose_shipping(
                country=country,
                code=shipping_method,
                subtotal=subtotal,
                weight_grams=cart_weight(lines=rows),
            )
            priced = price_cart(
                rows=rows,
                country=country,
                shipping=quote.price,
                voucher=cart.voucher if cart.voucher_id else None,
                user=user,
                email=email,
                strict=True,
            )
            discount = priced.discount
            lines = [
                _PlannedLine(
                    variant_id=r.variant_id,
                    sku=r.variant.sku,
                    product_name=r.variant.product.name,
                    variant_name=r.variant.name,
                    unit_price=r.unit_price,
                    quantity=r.quantity,
                    discount=priced.line_discounts.get(r.variant_id, Decimal("0.00")),
                    tax=priced.line_taxes[r.variant_id][1],
                    tax_rate=priced.line_taxes[r.variant_id][0],
                )
                for r in rows
            ]
            discount_total = priced.discount_total
            shipping, tax, total = priced.shipping_total, priced.tax_total, priced.total
            if expected_total is not None and money(expected_total) != total:
                raise CartChanged(total=f"{total:.2f}")
            now = timezone.now()
            hold = (
                StockHold.objects.filter(cart_token=cart.token, expires_at__gt=now)
                .order_by("expires_at")
                .values_list("expires_at", flat=True)
                .first()
            )
            if discount is not None:
                redeem_voucher(
                    voucher=discount.voucher, order_number=number, user=user, email=email
                )
            plan_lines = [StockLine(ln.variant_id, ln.quantity, ln.sku) for ln in lines]
            inventory.allocate(lines=plan_lines, order_number=number, cart_token=cart.token)
            start_checkout(cart=cart, order_number=number, started_at=now)
            plan = _Plan(
                number=number,
                cart_id=cart.pk,
                cart_token=cart.token,
                lines=lines,
                subtotal=subtotal,
                discount_total=discount_total,
                voucher_code=discount.voucher.code if discount is not None else "",
                shipping_method=quote.code,
                shipping_method_name=quote.name,
                shipping_total=shipping,
                tax_total=tax,
                total=total,
                tax_lines=priced.tax_lines,
                hold_expires_at=hold,
            )
    if price_changed:
        raise PriceChanged()
    return plan


def _abort(plan: _Plan) -> None:
    """Undo ``_prepare``: deallocate, restore the cart's earlier holds, end the checkout.

    Locks the cart row first and does nothing when the cart is no longer in checkout with this
    number (recovery already undid the checkout), so the allocation is never given back twice.
    """
    with transaction.atomic():
        cart = lock_cart_in_checkout(cart_id=plan.cart_id, order_number=plan.number)
        if cart is None:
            logger.warning("Checkout %s was already recovered; nothing to abort", plan.number)
            return
        inventory.deallocate(lines=plan.stock_lines(), order_number=plan.number)
        release_voucher_use(order_number=plan.number)
        remaining = (
            (plan.hold_expires_at - timezone.now()).total_seconds() if plan.hold_expires_at else 0
        )
        if remaining > 1:
            try:
                with transaction.atomic():
                    inventory.hold_stock(
                        cart_token=plan.cart_token,
                        lines=plan.stock_lines(),
                        ttl_seconds=int(remaining),
                    )
            except InsufficientStock:
                logger.info("Could not restore the holds of cart %s", plan.cart_token)
        end_checkout(cart=cart, order_number=plan.number)


@dataclass(frozen=True)
class _Buyer:
    """Who the order is for: a member (``user``), or a guest (``email`` and ``order_token``)."""

    user: User | None
    email: str
    order_token: str = ""


def _finalize(
    *,
    buyer: _Buyer,
    plan: _Plan,
    address: dict[str, str],
    notes: str,
    charge: ChargeResult | None,
    pending: PaymentRequiresAction | None = None,
) -> Order:
    """Transaction 2: write the order and everything that goes with it.

    With ``charge`` the order is ``received``/``paid``: its invoice is issued and
    ``order_placed`` sent (the confirmation email). With ``pending`` instead (the provider
    waits for the customer) the order is ``pending_payment``/``pending`` with its stock
    allocated and what the client needs to finish the payment (``payment_action``); the
    invoice and the confirmation wait for the provider's confirmation
    (``orders.payments.confirmation``). Either way the cart's checkout is completed.

    Locks the cart row first and raises ``CheckoutRecovered`` if recovery has meanwhile undone
    this checkout (its stock is no longer allocated); the caller then refunds the charge.
    """
    with transaction.atomic():
        cart = lock_cart_in_checkout(cart_id=plan.cart_id, order_number=plan.number)
        if cart is None:
            raise CheckoutRecovered(plan.number)
        status = OrderStatus.PENDING_PAYMENT if pending else OrderStatus.RECEIVED
        order = Order.objects.create(
            number=plan.number,
            user=buyer.user,
            email=buyer.email,
            order_token_hash=hash_order_token(token=buyer.order_token) if buyer.order_token else "",
            status=status,
            payment_status=PaymentStatus.PENDING if pending else PaymentStatus.PAID,
            currency=settings.SHOP_CURRENCY,
            subtotal=plan.subtotal,
            shipping_total=plan.shipping_total,
            shipping_method=plan.shipping_method,
            shipping_method_name=plan.shipping_method_name,
            discount_total=plan.discount_total,
            voucher_code=plan.voucher_code,
            tax_total=plan.tax_total,
            tax_lines=plan.tax_lines,
            prices_include_tax=prices_include_tax(),
            total=plan.total,
            shipping_address=address,
            notes=notes,
            payment_action=(
                {"client_secret": pending.client_secret, "next_action": pending.next_action}
                if pending
                else {}
            ),
            pending_order_token=buyer.order_token if pending else "",
        )
        lines = OrderLine.objects.bulk_create(
            [
                OrderLine(
                    order=order,
                    variant_id=line.variant_id,
                    sku=line.sku,
                    product_name=line.product_name,
                    variant_name=line.variant_name,
                    unit_price=line.unit_price,
                    quantity=line.quantity,
                    line_total=line.line_total,
                    discount=line.discount,
                    tax=line.tax,
                    tax_rate=line.tax_rate,
                )
                for line in plan.lines
            ]
        )
        Payment.objects.filter(reference=plan.number, order__isnull=True).update(order=order)
        if pending:
            note = (
                f"Order placed; waiting for the customer to confirm the payment of "
                f"{plan.total} {order.currency} ({pending.intent_id})."
            )
        else:
            assert charge is not None
            note = f"Order placed; charged {plan.total} {order.currency} ({charge.charge_id})."
        event = OrderEvent.objects.create(
            order=order, type=OrderEventType.PLACED, to_status=status, user=buyer.user, note=note
        )
        # The answer (and the invoice) read these: no need to read back what was just written.
        attach_details(order=order, lines=lines, shipments=[], events=[event], invoices=[])
        complete_checkout(cart=cart)
        if not pending:
            # Inside the transaction: the confirmation email's outbox row commits with the
            # order. A guest's token travels with the signal so the email links to the order.
            order_placed.send(
                sender=Order, order_id=order.pk, order_token=buyer.order_token or None
            )
            # Last: the invoice counter row is locked from here to the commit, and every
            # checkout queues on it (gapless numbers), so nothing else runs while it is held.
            invoice = issue_invoice(order=order, tax_rate=tax_rate())
            attach_details(order=order, invoices=[invoice])
    return order


def _compensate(*, plan: _Plan, charge: ChargeResult) -> None:
    """Refund a charge whose order could not be written, then undo the allocation."""
    try:
        refund_with_retries(
            amount=charge.amount,
            currency=charge.currency,
            charge_id=charge.charge_id,
            reference=void_reference(number=plan.number),
        )
    except Exception:
        logger.exception("Compensating refund of %s failed; needs manual refund", plan.number)
    _abort(plan)


def _place_pending(
    *,
    buyer: _Buyer,
    plan: _Plan,
    address: dict[str, str],
    notes: str,
    pending: PaymentRequiresAction,
) -> Order:
    """Write the ``pending_payment`` order of a charge that waits for the customer.

    Nothing is charged yet, so a failure to write the order gives the stock back and cancels
    the pending payment at the provider. A success webhook that arrived before the order was
    written (stored without an order) confirms it at once."""
    try:
        order = _finalize(
            buyer=buyer, plan=plan, address=address, notes=notes, charge=None, pending=pending
        )
    except BaseException as exc:
        logger.exception("Checkout %s failed while waiting for the customer", plan.number)
        _abort(plan)
        try:
            get_gateway().cancel(charge_id=pending.intent_id, reference=plan.number)
        except Exception:
            logger.exception("Could not cancel the pending payment of %s", plan.number)
        raise CheckoutFailed() from exc
    confirmed = confirm_if_already_paid(order=order)
    return confirmed or order


@dataclass(frozen=True)
class GuestOrder:
    """A guest's placed order and its order token (shown once; only its hash is stored)."""

    order: Order
    order_token: str


def check_email(*, email: object) -> str:
    """Return the stripped, valid customer ``email`` or raise ``ValidationError`` keyed by
    ``email`` (a guest's checkout, a draft order's customer)."""
    if not isinstance(email, str) or not email.strip() or len(email) > 254:
        raise ValidationError({"email": ["An email address is required."]})
    email = email.strip()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": ["Enter a valid email address."]}) from None
    return email


def place_order(
    *,
    user: User,
    cart: Cart | None,
    shipping_address: dict | None = None,
    address_id: int | None = None,
    payment_token: str,
    notes: str = "",
    expected_total: Decimal | None = None,
    order_number: str | None = None,
    save_address: bool = False,
    shipping_method: str | None = None,
) -> Order:
    """Place the user's cart as a paid order and return it.

    ``save_address``: once the order is placed, the new ``shipping_address`` is added to the
    user's address book (``accounts.services.remember_address``: not twice); a failure to
    save it is logged and never undoes the order.

    ``order_number`` is the number to place it under (a fresh ``new_order_number()`` when
    omitted): the Idempotency-Key handling records it before calling, so that it can find
    the order of a request that died before answering.

    ``shipping_method``: the code of a method serving the address (``ValidationError`` keyed
    by ``shipping_method`` otherwise); the cheapest serving it when omitted.

    Validates the address (``ValidationError``) and the cart; allocates all stock at once;
    charges ``total`` through the gateway (reference = the order number, so a retry never
    charges twice); writes the order with snapshot lines, address and totals, the invoice
    and a ``placed`` event; completes the cart's checkout (cart ``ordered``); sends
    ``order_placed`` in the same transaction (its receivers write the email's outbox row).

    When the provider needs the customer first (3-D Secure: ``PaymentRequiresAction``), the
    order is written ``pending_payment`` (``payment_status`` ``pending``, stock allocated, cart
    ordered, ``payment_action`` = what the client needs) and returned; the provider's webhook
    confirms it (``received``/``paid``, then the confirmation email) or fails it, and
    ``cancel_expired_payments`` cancels it after ``SHOP_PAYMENT_TIMEOUT``.

    Raises ``CartEmpty`` (400), ``InsufficientStock`` (409, with the lines), ``PriceChanged``
    (409; the cart's snapshots are refreshed so a retry succeeds), ``CartChanged`` (409, with
    the new ``total``) when ``expected_total`` is given and differs from the total,
    ``PaymentDeclinedError`` (402), ``PaymentUnavailableError`` (503), ``CheckoutInProgress``
    (409) when the cart is already in checkout, ``CheckoutFailed`` (500) when a step after the
    charge fails (the charge is refunded). Every failure leaves stock and cart as they were;
    payment attempts stay recorded. See the module docstring for the transaction layout.
    """
    order = _place(
        buyer=_Buyer(user=user, email=user.email),
        cart=cart,
        shipping_address=shipping_address,
        address_id=address_id,
        payment_token=payment_token,
        notes=notes,
        expected_total=expected_total,
        order_number=order_number,
        shipping_method=shipping_method,
    )
    if save_address and shipping_address is not None:
        _save_address(user=user, order=order)
    return order


def _save_address(*, user: User, order: Order) -> None:
    """Add the order's (new) shipping address to the user's book, after the order committed."""
    try:
        remember_address(user=user, **order.shipping_address)
    except (ValidationError, DatabaseError):
        logger.exception("Could not save the address of order %s to the address book", order.number)


def place_guest_order(
    *,
    email: str,
    cart: Cart | None,
    shipping_address: dict | None,
    payment_token: str,
    notes: str = "",
    expected_total: Decimal | None = None,
    order_number: str | None = None,
    order_token: str | None = None,
    shipping_method: str | None = None,
) -> GuestOrder:
    """Place an anonymous cart as a guest's paid order; return it with its order token.

    As ``place_order`` (same guarantees, same errors), for a cart without a user: the order
    has no user, its ``email`` is the validated ``email`` (``ValidationError`` keyed by
    ``email`` otherwise) and it is reached with the returned ``order_token`` (only its sha256
    is stored). A guest has no address book: ``shipping_address`` is required. Raises
    ``CartNotFound`` for a cart that belongs to a user. ``order_number`` and ``order_token``
    (fresh ones when omitted) are chosen by the Idempotency-Key handling beforehand, so that
    it can replay the order of a request that died before answering.
    """
    email = check_email(email=email)
    token = order_token or new_order_token()
    order = _place(
        buyer=_Buyer(user=None, email=email, order_token=token),
        cart=cart,
        shipping_address=shipping_address,
        address_id=None,
        payment_token=payment_token,
        notes=notes,
        expected_total=expected_total,
        order_number=order_number,
        shipping_method=shipping_method,
    )
    return GuestOrder(order=order, order_token=token)


def _place(
    *,
    buyer: _Buyer,
    cart: Cart | None,
    shipping_address: dict | None,
    address_id: int | None,
    payment_token: str,
    notes: str,
    expected_total: Decimal | None,
    order_number: str | None,
    shipping_method: str | None = None,
) -> Order:
    user = buyer.user
    address = resolve_address(user=user, shipping_address=shipping_address, address_id=address_id)
    if not isinstance(payment_token, str) or not payment_token.strip() or len(payment_token) > 255:
        raise ValidationError({"payment_token": ["A payment token is required."]})
    if not isinstance(notes, str) or len(notes) > 2000:
        raise ValidationError({"notes": ["At most 2000 characters."]})
    if shipping_method is not None and (
        not isinstance(shipping_method, str) or len(shipping_method) > 32
    ):
        raise ValidationError({"shipping_method": ["Unknown shipping method."]})
    if cart is None:
        raise CartEmpty()
    number = order_number or new_order_number()
    plan = _prepare(
        user=user,
        cart=cart,
        number=number,
        country=address["country"],
        shipping_method=shipping_method or None,
        expected_total=expected_total,
        email=buyer.email,
    )
    try:
        charge = charge_with_retries(
            amount=plan.total,
            currency=settings.SHOP_CURRENCY,
            token=payment_token.strip(),
            reference=number,
        )
    except PaymentRequiresAction as exc:
        # The provider waits for the customer (3-D Secure): the order waits too, its stock
        # allocated, until the provider confirms or the payment times out.
        return _place_pending(buyer=buyer, plan=plan, address=address, notes=notes, pending=exc)
    except BaseException:
        _abort(plan)
        raise
    try:
        return _finalize(buyer=buyer, plan=plan, address=address, notes=notes, charge=charge)
    except BaseException as exc:
        logger.exception("Checkout %s failed after the charge; refunding", number)
        _compensate(plan=plan, charge=charge)
        raise CheckoutFailed() from exc
