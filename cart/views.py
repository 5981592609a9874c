"""The cart pages: full page or HTMX fragment from one view each; rules live in cart.services.

Anonymous shoppers are identified by the ``cart_token`` cookie (HttpOnly, SameSite=Lax); a
signed-in shopper's own cart always wins (``cart.services.get_cart_for``).
"""

import json

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from cart import reminders, services
from cart.errors import CartErrorCode, CartNotFound, VoucherRefused
from cart.models import MAX_LINE_QUANTITY, Cart
from cart.pricing.services import apply_voucher, remove_voucher
from cart.receivers import CART_COOKIE
from cart.selectors import CartSummary, cart_summary
from catalog.templatetags.catalog_tags import money as format_money
from inventory.errors import InsufficientStock
from shop.errors import DomainError
from shop.ratelimits import rate_limited

COOKIE_MAX_AGE = 60 * 60 * 24 * 30  # anonymous carts are purged after 30 days idle


def current_cart(request: HttpRequest, *, create: bool = False) -> Cart | None:
    """Return the shopper's open cart (the user's, else the cookie's); a stale cookie is None."""
    try:
        return services.get_cart_for(
            user=request.user, token=request.COOKIES.get(CART_COOKIE), create=create
        )
    except CartNotFound:
        # The cookie's cart was merged, ordered or purged: start afresh.
        return services.get_cart_for(user=request.user, token=None, create=create)


def remember_cart(request: HttpRequest, response: HttpResponse, cart: Cart | None) -> None:
    """Keep an anonymous cart's token in the ``cart_token`` cookie."""
    if cart is None or cart.user_id is not None:
        return
    if request.COOKIES.get(CART_COOKIE) == str(cart.token):
        return
    response.set_cookie(
        CART_COOKIE,
        str(cart.token),
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=getattr(settings, "SESSION_COOKIE_SECURE", False),
    )


def cart_updated_trigger(response: HttpResponse, count: int) -> None:
    """Tell the page (shop.js listens) the cart's item count, to update ``[data-cart-count]``."""
    response["HX-Trigger"] = json.dumps({"cart-updated": {"count": count}})


def error_message(exc: Exception) -> str:
    """Turn a domain or validation error into one sentence for a shopper."""
    if isinstance(exc, InsufficientStock):
        lines = exc.extra.get("lines") or []
        available = lines[0].get("available") if lines else exc.extra.get("available")
        if available == 0:
            return "Sorry, that item is out of stock."
        if available is not None:
            return f"Sorry, only {available} can be supplied."
        return exc.detail
    if isinstance(exc, DomainError):
        return exc.detail
    if isinstance(exc, ValidationError):
        if "sku" in getattr(exc, "error_dict", {}):
            # "Unknown or unavailable SKU." is for API clients; shoppers never see SKUs typed.
            return "Sorry, that item is not available."
        messages_ = exc.messages
        return messages_[0] if messages_ else "Please check your input."
    return str(exc)


def _int(value, default: int | None = None) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


def _render_cart(request: HttpRequest, view: CartSummary, *, error: str = "", status: int = 200):
    template = "cart/cart.html#cart-lines" if request.htmx else "cart/cart.html"
    context = {"cart": view, "error": error, "max_line_quantity": MAX_LINE_QUANTITY}
    return render(request, template, context, status=status)


@require_GET
def cart_detail(request: HttpRequest) -> HttpResponse:
    """Show the cart (lines, warnings, subtotal); an HTMX request gets the lines fragment."""
    cart = current_cart(request)
    response = _render_cart(request, cart_summary(cart=cart))
    if request.COOKIES.get(CART_COOKIE) and cart is None:
        response.delete_cookie(CART_COOKIE, samesite="Lax")
    return response


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.headers.get("Referer") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("cart:detail")


@require_POST
@rate_limited("add_to_cart")
def cart_add(request: HttpRequest) -> HttpResponse:
    """Add ``quantity`` (default 1) of ``sku`` to the cart.

    HTMX: answer a small confirmation (or error) fragment and an ``HX-Trigger`` with the new
    count. Without JavaScript: redirect back (``next`` or the referring page) with a message.
    """
    sku = (request.POST.get("sku") or "").strip()[:64]
    raw_quantity = request.POST.get("quantity")
    # Missing means one; anything unreadable goes to the service as 0, which rejects it.
    quantity = 1 if raw_quantity in (None, "") else _int(raw_quantity, default=0)
    cart = current_cart(request, create=True)
    error, line = "", None
    try:
        line = services.add_item(cart=cart, sku=sku, quantity=quantity)
    except (DomainError, ValidationError) as exc:
        error = error_message(exc)
    view = cart_summary(cart=cart)
    if request.htmx:
        response = render(
            request,
            "cart/add_result.html",
            {"error": error, "line": line, "quantity": quantity, "cart": view},
        )
        if not error:
            cart_updated_trigger(response, view.item_count)
    else:
        if error:
            messages.error(request, error)
        else:
            messages.success(
                request, f"Added {quantity} × {line.variant.product.name} to your cart."
            )
        response = redirect(_safe_next(request))
    remember_cart(request, response, cart)
    return response


def _after_line_change(request: HttpRequest, cart: Cart | None, error: str) -> HttpResponse:
    view = cart_summary(cart=cart)
    if request.htmx:
        response = _render_cart(request, view, error=error)
        cart_updated_trigger(response, view.item_count)
        return response
    if error:
        messages.error(request, error)
    return redirect("cart:detail")


@require_POST
def line_update(request: HttpRequest, line_id: int) -> HttpResponse:
    """Set a line's quantity (``quantity``, or the shown quantity plus ``step`` from −/+).

    Zero removes the line. Answers the cart-lines fragment to HTMX, a redirect otherwise.
    """
    cart = current_cart(request)
    quantity = _int(request.POST.get("quantity"))
    step = _int(request.POST.get("step"), default=0)
    error = ""
    if cart is None:
        error = "Your cart is empty."
    elif quantity is None:
        error = f"Enter a quantity from 0 to {MAX_LINE_QUANTITY}."
    else:
        try:
            services.set_quantity(cart=cart, line_id=line_id, quantity=quantity + step)
        except (DomainError, ValidationError) as exc:
            error = error_message(exc)
    return _after_line_change(request, cart, error)


@require_POST
def line_remove(request: HttpRequest, line_id: int) -> HttpResponse:
    """Remove a line; answers the cart-lines fragment to HTMX, a redirect otherwise."""
    cart = current_cart(request)
    error = ""
    if cart is None:
        error = "Your cart is empty."
    else:
        try:
            services.remove_line(cart=cart, line_id=line_id)
        except (DomainError, ValidationError) as exc:
            error = error_message(exc)
    return _after_line_change(request, cart, error)


def reminder_opt_out(request: HttpRequest, token: str) -> HttpResponse:
    """The "no more reminders" link of the abandoned-cart email: GET asks, POST opts out.

    POST also serves mail clients' one-click unsubscribe (RFC 8058), so it needs no CSRF
    token: the signed token is the proof. A token we did not sign is a 404.
    """
    email = reminders.email_from_token(token=token[:300])
    if email is None:
        raise Http404("Unknown link.")
    done = request.method == "POST"
    if done:
        reminders.opt_out(email=email)
    return render(request, "cart/reminder_opt_out.html", {"email": email, "done": done})


# What a shopper reads for each voucher refusal (cart.errors, voucher_*).
VOUCHER_MESSAGES = {
    CartErrorCode.VOUCHER_NOT_FOUND: "We don't recognise that voucher code; check it and try again.",
    CartErrorCode.VOUCHER_EXPIRED: "That voucher is not valid at the moment (it has expired or "
    "has not started yet).",
    CartErrorCode.VOUCHER_USED_UP: "That voucher has been used up.",
    CartErrorCode.VOUCHER_NOT_APPLICABLE: "That voucher does not apply to anything in your cart.",
}


def voucher_message(exc: VoucherRefused) -> str:
    """Return the shopper's sentence for a voucher refusal (with the minimum spend)."""
    if exc.code == CartErrorCode.VOUCHER_MIN_SPEND:
        return f"Spend at least {format_money(exc.extra.get('min_spend'))} to use that voucher."
    if exc.code == CartErrorCode.VOUCHER_USED_UP and exc.detail != exc.default_detail:
        return exc.detail  # used up by this customer
    return VOUCHER_MESSAGES.get(exc.code, exc.detail)


@require_POST
def voucher_apply(request: HttpRequest) -> HttpResponse:
    """Apply the voucher ``code`` to the cart; back to the cart with what happened."""
    cart = current_cart(request)
    if cart is None:
        messages.error(request, "Your cart is empty.")
        return redirect("cart:detail")
    try:
        apply_voucher(cart=cart, code=(request.POST.get("code") or "").strip())
    except VoucherRefused as exc:
        messages.error(request, voucher_message(exc))
    except DomainError as exc:
        messages.error(request, error_message(exc))
    else:
        messages.success(request, "Your voucher has been applied.")
    return redirect("cart:detail")


@require_POST
def voucher_remove(request: HttpRequest) -> HttpResponse:
    """Take the voucher off the cart."""
    cart = current_cart(request)
    if cart is not None:
        try:
            remove_voucher(cart=cart)
        except DomainError as exc:
            messages.error(request, error_message(exc))
            return redirect("cart:detail")
    messages.success(request, "The voucher has been removed.")
    return redirect("cart:detail")
