"""The checkout and confirmation pages.

``/checkout/`` holds the cart's stock (``reserve_cart``) when it opens (without a hold, when
none can start, the shopper is told and may still order) and places the order
through ``run_idempotent`` + ``place_order`` with the form's hidden idempotency key, so a
double click or a refresh never places two orders (the replay redirects to the same
confirmation). The form is ``orders.checkout.forms.CheckoutForm``; every rule stays in the
services.

A guest (not signed in) first meets a choice page: continue as a guest with an email address
(kept in the session), sign in, or register; the cart is kept in every case (signing in or
registering merges the cookie cart). The guest's form is ``GuestCheckoutForm`` and the order is
placed by ``place_guest_order`` with the idempotency key scoped to the cart token; its order
token is kept in the session, so the confirmation and order pages open for this browser. The
confirmation page offers to create an account (one password field): ``accounts.services.
register_user`` creates the user and ``orders.guest_access.attach_guest_order`` gives it the
order.

Every form carries the total it showed (``expected_total``); when the cart changed meanwhile
(another tab), nothing is charged and the page shows the updated summary and asks again.
"""

import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Address
from accounts.services import register_user
from cart.errors import CartErrorCode
from cart.models import Cart
from cart.pricing.shipping import ShippingQuote, shipping_quotes
from cart.pricing.totals import price_cart
from cart.pricing.vouchers import active_promotions
from cart.reminders import remember_cart_email
from cart.selectors import CartSummary, cart_lines, cart_summary
from cart.services import reserve_cart
from cart.views import current_cart, error_message
from catalog.templatetags.catalog_tags import money as format_money
from inventory.errors import InventoryErrorCode, TooManyHolds
from orders.checkout.forms import (
    NEW_ADDRESS,
    CheckoutForm,
    GuestAccountForm,
    GuestCheckoutForm,
    GuestEmailForm,
)
from orders.checkout.idempotency import IdempotentResult, run_idempotent, validate_key
from orders.checkout.selectors import address_prefill
from orders.checkout.services import compute_totals, place_guest_order, place_order
from orders.errors import (
    IdempotencyKeyInUse,
    IdempotencyKeyMismatch,
    IdempotencyKeyRequired,
    OrderErrorCode,
)
from orders.guest_access import attach_guest_order, new_order_token
from orders.models import Order, OrderStatus
from orders.payments.csp import stripe_active
from orders.payments.gateways import MockGateway, get_gateway
from orders.selectors import lines_with_images
from orders.views import remember_guest_order, session_guest_order, viewable_order
from shop.errors import DomainError, ShopErrorCode
from shop.ratelimits import rate_limited

CHECKOUT_SCOPE = "orders.checkout_html"
GUEST_EMAIL_SESSION_KEY = "guest_checkout_email"
# How long a second submission of the same checkout form waits for the first to finish.
IN_USE_WAIT_SECONDS = 10.0
IN_USE_POLL_SECONDS = 0.25
HOLD_UNAVAILABLE = (
    "We can't hold your items for you right now, but you can still place your order: "
    "stock is confirmed when you do."
)


@dataclass(frozen=True)
class TestCard:
    token: str
    label: str
    hint: str


# The mock gateway's test cards (orders.payments.gateways.MockGateway decides by token).
TEST_CARDS = [
    TestCard("tok_success", "Visa •••• 4242", "Succeeds"),
    TestCard("tok_declined", "Visa •••• 0002", "Declined by the bank"),
    TestCard("tok_transient", "Mastercard •••• 4444", "Fails once, then succeeds on retry"),
    TestCard("tok_unavailable", "Amex •••• 0005", "Gateway unavailable"),
]


def stripe_js() -> dict[str, str] | None:
    """What the page needs to collect the card with Stripe.js, while the Stripe adapter is
    the active gateway: the publishable key and the script's URL (``STRIPE_JS_URL``)."""
    if not stripe_active():
        return None
    return {"publishable_key": settings.STRIPE_PUBLISHABLE_KEY, "js_url": settings.STRIPE_JS_URL}


def offered_test_cards() -> list[TestCard]:
    """The test cards to offer: only while the mock gateway is the active one."""
    return TEST_CARDS if isinstance(get_gateway(), MockGateway) else []


# What the shopper can do about a failed checkout (the cart is always kept).
NEXT_STEP = {
    OrderErrorCode.PAYMENT_DECLINED: "Nothing was charged and your cart is kept: choose another card.",
    OrderErrorCode.PAYMENT_UNAVAILABLE: "Nothing was charged and your cart is kept.",
    CartErrorCode.PRICE_CHANGED: "Check the new total below, then place your order again.",
    InventoryErrorCode.INSUFFICIENT_STOCK: "Please update your cart.",
    OrderErrorCode.CART_CHANGED: (
        "Nothing was charged: check the updated summary below, then place your order again."
    ),
}


@dataclass(frozen=True)
class ShippingOption:
    """A shipping method offered on the page, with the totals it would make."""

    quote: ShippingQuote
    discount_total: Decimal
    shipping_total: Decimal
    tax_total: Decimal
    total: Decimal


@dataclass(frozen=True)
class _Hold:
    """What starting checkout did: held until ``expires_at``, not held, or a ``problem``."""

    expires_at: datetime | None = None
    problem: str = ""  # the cart cannot be checked out as it is: back to the cart
    note: str = ""  # no hold now (too_many_holds), but the shopper may place the order


def _hold(request: HttpRequest, cart: Cart) -> _Hold:
    """Hold the cart's stock for this checkout (``reserve_cart``, per client IP)."""
    try:
        return _Hold(expires_at=reserve_cart(cart=cart, client_ip=request.client_ip))
    except TooManyHolds:
        # The hold only protects the checkout; placing the order allocates stock for real.
        return _Hold(note=HOLD_UNAVAILABLE)
    except (DomainError, ValidationError) as exc:
        return _Hold(problem=error_message(exc))


def _render_checkout(
    request: HttpRequest, view: CartSummary, form: CheckoutForm, *, hold: _Hold
) -> HttpResponse:
    """Render the checkout page; its hidden ``expected_total`` is the total shown here.

    Shipping is priced for the chosen address's country (``cart.pricing.shipping``): the
    method the form chose if it serves it, else the cheapest. The discount is the one checkout
    will choose (``best_discount``: the cart's voucher or a promotion). Each option carries the
    totals it would make, so the page (``shop.js``) can show them before the order is placed.
    """
    cart = current_cart(request)
    rows = cart_lines(cart=cart) if cart is not None else []
    user = request.user if request.user.is_authenticated else None
    email = user.email if user is not None else request.session.get(GUEST_EMAIL_SESSION_KEY, "")
    promotions = active_promotions()
    voucher = cart.voucher if cart is not None and cart.voucher_id else None
    country = form.shipping_country()

    def priced(price: Decimal | None) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        """Return (discount, shipping, tax, total) as checkout will price them."""
        if price is None:
            return (Decimal("0.00"), *compute_totals(subtotal=view.subtotal))
        cart_price = price_cart(
            rows=rows,
            country=country,
            shipping=price,
            voucher=voucher,
            user=user,
            email=email,
            promotions=promotions,
        )
        return (
            cart_price.discount_total,
            cart_price.shipping_total,
            cart_price.tax_total,
            cart_price.total,
        )

    quotes = shipping_quotes(
        country=country, subtotal=view.subtotal, weight_grams=view.weight_grams
    )
    chosen = next((q for q in quotes if q.code == form.selected_shipping_method), None)
    chosen = chosen or (quotes[0] if quotes else None)
    options = [ShippingOption(quote, *priced(quote.price)) for quote in quotes]
    discount_total, shipping, tax, total = priced(chosen.price if chosen else None)
    context = {
        "shipping_options": options,
        "shipping_method": chosen.code if chosen else "",
        "cart": view,
        "form": form,
        "addresses": form.addresses,
        "cards": offered_test_cards(),
        "stripe": stripe_js(),
        "shipping_total": shipping,
        "discount_total": discount_total,
        "tax_total": tax,
        "total": total,
        "hold_expires_at": hold.expires_at,
        "hold_note": hold.note,
        # A fresh key per rendering: a resubmission of *this* form replays, a new attempt
        # after fixing an error is a new request.
        "idempotency_key": str(uuid.uuid4()),
        "new_address": NEW_ADDRESS,
        "as_guest": isinstance(form, GuestCheckoutForm),
    }
    return render(request, "orders/checkout.html", context)


def _place(request: HttpRequest, cart: Cart | None, form: CheckoutForm) -> IdempotentResult:
    arguments = form.order_arguments()
    guest = isinstance(form, GuestCheckoutForm)

    order_token = new_order_token() if guest else ""

    def placed(order: Order) -> tuple[int, dict]:
        # 202: the order waits for the customer to finish the payment (3-D Secure).
        status = 202 if order.status == OrderStatus.PENDING_PAYMENT else 201
        if guest:
            # ``order.order_token``: set by the action, or by run_idempotent for the order of
            # a request that died before answering.
            return status, {"number": order.number, "order_token": order.order_token}
        return status, {"number": order.number}

    def action(order_number: str) -> tuple[int, dict]:
        if guest:
            placed_order = place_guest_order(
                cart=cart, order_number=order_number, order_token=order_token, **arguments
            )
            placed_order.order.order_token = placed_order.order_token
            return placed(placed_order.order)
        return placed(
            place_order(user=request.user, cart=cart, order_number=order_number, **arguments)
        )

    run = partial(
        run_idempotent,
        user=None if guest else request.user,
        cart_token=cart.token if guest and cart is not None else None,
        key=request.POST.get("idempotency_key"),
        scope=CHECKOUT_SCOPE,
        payload=form.idempotency_payload(),
        action=action,
        replay=placed,
        order_token=order_token,
    )
    try:
        return run()
    except IdempotencyKeyInUse:
        # A double click: the first submission is still placing the order. Wait for it so
        # this response (the one the browser shows) leads to the same confirmation.
        deadline = time.monotonic() + IN_USE_WAIT_SECONDS
        while True:
            time.sleep(IN_USE_POLL_SECONDS)
            try:
                return run()
            except IdempotencyKeyInUse:
                if time.monotonic() >= deadline:
                    raise


def _choice_page(request: HttpRequest, form: GuestEmailForm | None = None) -> HttpResponse:
    view = cart_summary(cart=current_cart(request))
    if view.is_empty:
        messages.info(request, "Your cart is empty.")
        return redirect("cart:detail")
    return render(
        request,
        "orders/checkout_choice.html",
        {"form": form or GuestEmailForm(), "cart": view, "next": request.path},
    )


@require_POST
def guest_start(request: HttpRequest) -> HttpResponse:
    """ "Continue as a guest": keep the email in the session and go to the checkout form."""
    form = GuestEmailForm(request.POST)
    if not form.is_valid():
        form.mark_invalid_fields()
        return _choice_page(request, form)
    request.session[GUEST_EMAIL_SESSION_KEY] = form.cleaned_data["email"]
    # The abandoned-cart reminder may write to this address (cart.reminders).
    remember_cart_email(cart=current_cart(request), email=form.cleaned_data["email"])
    return redirect("orders:checkout")


def _guest_checkout(request: HttpRequest) -> HttpResponse:
    email = request.session.get(GUEST_EMAIL_SESSION_KEY)
    if not email:
        return _choice_page(request)
    cart = current_cart(request)
    if request.method == "GET" or cart is None:
        view = cart_summary(cart=cart)
        if view.is_empty or cart is None:
            messages.info(request, "Your cart is empty.")
            return redirect("cart:detail")
        hold = _hold(request, cart)
        if hold.problem:
            messages.error(request, hold.problem)
            return redirect("cart:detail")
        cards = offered_test_cards()
        initial = {"email": email, "payment_token": cards[0].token if cards else ""}
        return _render_checkout(request, view, GuestCheckoutForm(initial=initial), hold=hold)
    return _submit(request, cart, GuestCheckoutForm(request.POST))


@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest) -> HttpResponse:
    """Show the checkout (holding the stock) or place the order from its form; a guest
    first chooses between continuing as a guest, signing in and registering."""
    if not request.user.is_authenticated:
        return _guest_checkout(request)
    cart = current_cart(request)
    addresses = Address.objects.filter(user=request.user)
    if request.method == "GET":
        view = cart_summary(cart=cart)
        if view.is_empty:
            messages.info(request, "Your cart is empty.")
            return redirect("cart:detail")
        hold = _hold(request, cart)
        if hold.problem:
            messages.error(request, hold.problem)
            return redirect("cart:detail")
        addresses = list(addresses)
        prefill = address_prefill(user=request.user, addresses=addresses)
        cards = offered_test_cards()
        initial = {
            "address": str(prefill.address_id) if prefill.address_id else NEW_ADDRESS,
            "payment_token": cards[0].token if cards else "",
            "save_address": prefill.save_address,
        }
        form = CheckoutForm(
            addresses=addresses, initial=initial, new_address_initial=prefill.new_address
        )
        return _render_checkout(request, view, form, hold=hold)

    return _submit(request, cart, CheckoutForm(request.POST, addresses=addresses))


def _submit(request: HttpRequest, cart: Cart | None, form: CheckoutForm) -> HttpResponse:
    """Place the order from a submitted checkout form, or show the form again with why not."""
    result = None
    try:
        # A form without a usable key is stale (checked first, as the API does).
        validate_key(key=request.POST.get("idempotency_key"))
        if form.is_valid():
            result = _place(request, cart, form)
    except IdempotencyKeyInUse:
        messages.info(request, "Your order is still being placed; it will appear here shortly.")
        return redirect("orders:list")
    except (IdempotencyKeyMismatch, IdempotencyKeyRequired):
        messages.error(request, "This checkout form expired; please review and place your order.")
        return redirect("orders:checkout")
    except DomainError as exc:
        # 5xx domain errors (payment unavailable, checkout failed) are not stored: the
        # shopper may simply try again.
        result = IdempotentResult(exc.status_code, exc.as_dict(), False)

    code = None
    if result is not None:
        if result.status in (201, 202):
            number = result.body["number"]
            if result.body.get("order_token"):
                remember_guest_order(request, number=number, token=result.body["order_token"])
            return redirect("orders:confirmation", number=number)
        body = result.body or {}
        code = body.get("code")
        errors = body.get("errors") if code == ShopErrorCode.VALIDATION_ERROR else None
        if errors:
            form.add_checkout_errors(errors)
        else:
            if code == OrderErrorCode.PAYMENT_DECLINED:
                form.forget_payment_choice()
            detail = body.get("detail") or "Your order could not be placed."
            if code == OrderErrorCode.CART_CHANGED and body.get("total"):
                detail = (
                    "Your cart changed since you last saw it (in another tab or on another "
                    f"device): the total is now {format_money(body['total'])}."
                )
            messages.error(request, f"{detail} {NEXT_STEP.get(code, '')}".strip())

    cart = current_cart(request)
    view = cart_summary(cart=cart)
    if view.is_empty:
        return redirect("cart:detail")
    hold = _hold(request, cart)
    if hold.problem and code != InventoryErrorCode.INSUFFICIENT_STOCK:
        messages.warning(request, hold.problem)
    return _render_checkout(request, view, form, hold=hold)


@require_GET
def confirmation(request: HttpRequest, number: str) -> HttpResponse:
    """Thank the shopper and summarise the order they just placed; a guest is offered an
    account (one password field) that the order is attached to."""
    order, as_guest = viewable_order(
        request, number, Order.objects.prefetch_related(Prefetch("lines", lines_with_images()))
    )
    context = {
        "order": order,
        "as_guest": as_guest,
        "account_form": GuestAccountForm(),
        "stripe": stripe_js(),
    }
    return render(request, "orders/confirmation.html", context)


@require_POST
@rate_limited("register")
def create_account(request: HttpRequest, number: str) -> HttpResponse:
    """Create an account for the guest's email with the password given, attach the guest
    order to it and sign the new customer in. Counted with the registrations of this client
    (``RATELIMIT_REGISTER``): it is one."""
    order = session_guest_order(request, number)
    if order is None or order.user_id is not None:
        raise Http404
    form = GuestAccountForm(request.POST)
    error = ""
    account_exists = False
    if form.is_valid():
        try:
            user = register_user(email=order.email, password=form.cleaned_data["password"])
        except ValidationError as exc:
            error = " ".join(exc.messages)
            # The email has an account already: the page offers to sign in instead.
            account_exists = "email" in getattr(exc, "error_dict", {})
        else:
            attach_guest_order(order=order, user=user)
            login(request, user, backend="accounts.backends.EmailBackend")
            messages.success(request, f"Your account is ready; order {number} is in it.")
            return redirect("orders:detail", number=number)
    if error:
        form.add_error("password", error)
    form.mark_invalid_fields()
    order = Order.objects.prefetch_related(Prefetch("lines", lines_with_images())).get(pk=order.pk)
    context = {
        "order": order,
        "as_guest": True,
        "account_form": form,
        "account_exists": account_exists,
    }
    return render(request, "orders/confirmation.html", context, status=400)
