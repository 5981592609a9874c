"""What each email says: template contexts captured from the database at event time.

Everything is reduced to JSON-friendly values (money as two-place decimal strings) so the
row in the outbox renders the same email whenever it is delivered, even if the order or
product changes later.
"""

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils.formats import date_format
from django.utils.timezone import localtime

from accounts.addresses.rules import country_name
from catalog.thumbnails import PRODUCT_IMAGE, thumbnail
from orders.fulfilment.couriers import tracking_url
from orders.guest_access import order_link_token


def absolute_url(path: str) -> str:
    """Return ``path`` on the public site (``SHOP_BASE_URL``)."""
    return str(settings.SHOP_BASE_URL).rstrip("/") + path


def _url_for(name: str, fallback: str) -> str:
    try:
        return absolute_url(reverse(name))
    except NoReverseMatch:
        return absolute_url(fallback)


def money(value: Any) -> str:
    """Return a money amount as a two-place decimal string ("19.99")."""
    if value in (None, ""):
        value = 0
    return str(Decimal(str(value)).quantize(Decimal("0.01")))


def user_context(user) -> dict:
    return {"name": user.get_short_name(), "email": user.email}


def welcome_context(user) -> dict:
    return {
        "user": user_context(user),
        "login_url": _url_for("accounts:login", "/accounts/login/"),
        "shop_url": absolute_url("/"),
    }


def password_reset_context(user, *, reset_url: str) -> dict:
    return {
        "user": user_context(user),
        "reset_url": reset_url,
        "valid_hours": max(1, settings.PASSWORD_RESET_TIMEOUT // 3600),
    }


def address_lines(address: dict) -> list[str]:
    """Return the non-empty lines of a shipping-address snapshot, postal order."""
    address = address or {}
    city = " ".join(
        part for part in (address.get("postal_code"), address.get("city")) if part
    ).strip()
    lines = [
        address.get("full_name"),
        address.get("line1"),
        address.get("line2"),
        city,
        country_name(address.get("country")),
    ]
    return [str(line) for line in lines if line]


def order_url(order, *, page: str = "", order_token: str | None = None) -> str:
    """Return the link to the order page (or its sub-page ``page``, e.g. ``"invoice/pdf/"``):
    a guest's carries its ``order_token`` when given, else a link token (the order token
    itself is not stored); a member signs in."""
    path = f"/orders/{order.number}/{page}"
    if order_token:
        path += "?" + urlencode({"token": order_token})
    elif order.user_id is None and order.order_token_hash:
        path += "?" + urlencode({"token": order_link_token(order=order)})
    return absolute_url(path)


def order_summary(order) -> dict:
    """Return the order facts every order email shows (number, link, currency)."""
    return {
        "number": order.number,
        "url": order_url(order),
        "currency": order.currency,
        "total": money(order.total),
        "customer_name": (order.shipping_address or {}).get("full_name", ""),
    }


def line_image_url(line) -> str:
    """Return the absolute URL of the photo of an order line's product ("" if none).

    ``line.product_image`` comes from ``orders.selectors.lines_with_images``."""
    found = thumbnail(source=getattr(line, "product_image", ""), target=PRODUCT_IMAGE, alias="line")
    if found is None:
        return ""
    return found.src if "://" in found.src else absolute_url(found.src)


def order_lines(order) -> list[dict]:
    """Return the order's lines as the emails show them (with the product photo's URL)."""
    return [
        {
            "sku": line.sku,
            "product_name": line.product_name,
            "variant_name": line.variant_name,
            "quantity": line.quantity,
            "unit_price": money(line.unit_price),
            "line_total": money(line.line_total),
            "image_url": line_image_url(line),
        }
        for line in order.lines.all()
    ]


def order_confirmation_context(order, *, order_token: str | None = None) -> dict:
    """Return the confirmation email's context; a guest's link carries its ``order_token``.

    The token is the guest's only way back to the order, so the outbox row (server-side,
    like the password-reset link) holds the link with it until the email is delivered;
    the order itself keeps only the token's hash.
    """
    lines = order_lines(order)
    summary = order_summary(order)
    if order_token:
        summary["url"] = order_url(order, order_token=order_token)
    # A link to the PDF, not an attachment: the order page's access rules apply to it. A paid
    # order has its invoice by the time the email is read (checkout issues it in the same
    # transaction, after the order_placed signal that queues this email).
    summary["invoice_url"] = (
        order_url(order, page="invoice/pdf/", order_token=order_token) if order.is_paid else ""
    )
    return {
        "order": {
            **summary,
            "lines": lines,
            "subtotal": money(order.subtotal),
            "shipping_total": money(order.shipping_total),
            "tax_total": money(order.tax_total),
            "shipping_address": address_lines(order.shipping_address),
        }
    }


def payment_link_context(order, *, pay_url: str) -> dict:
    """Return the payment-link email's context: the order staff built, what it costs, the
    link to pay it (``pay_url``, absolute) and until when the link works (shop time)."""
    expires = order.payment_link_expires_at
    return {
        "order": {
            **order_summary(order),
            "lines": order_lines(order),
            "subtotal": money(order.subtotal),
            "shipping_total": money(order.shipping_total),
            "tax_total": money(order.tax_total),
            "shipping_address": address_lines(order.shipping_address),
        },
        "pay_url": pay_url,
        "expires_at": date_format(localtime(expires), "j F Y, H:i T") if expires else "",
    }


def order_shipped_context(order) -> dict:
    """Return the shipped email's context: the items and each parcel's tracking page."""
    shipments = [
        {
            "carrier": s.carrier,
            "tracking_number": s.tracking_number,
            "tracking_url": tracking_url(carrier=s.carrier, tracking_number=s.tracking_number),
        }
        for s in order.shipments.all()
    ]
    return {"order": {**order_summary(order), "lines": order_lines(order)}, "shipments": shipments}


def order_cancelled_context(order, *, refund_amount: Any) -> dict:
    amount = refund_amount if refund_amount not in (None, "") else order.refunded_total
    return {"order": order_summary(order), "refund_amount": money(amount)}


def refund_issued_context(order, *, return_id: int | None, amount: Any, reason: str = "") -> dict:
    return {
        "order": order_summary(order),
        "return_id": return_id,
        "amount": money(amount),
        "reason": reason,
    }


def return_requested_context(return_request, *, address_lines: list[str]) -> dict:
    """Return the return-instructions email's context: what to send back, and where."""
    order = return_request.order
    lines = [
        {
            "quantity": line.quantity,
            "product_name": line.order_line.product_name,
            "variant_name": line.order_line.variant_name,
        }
        for line in return_request.lines.all()
    ]
    return {
        "order": order_summary(order),
        "return_id": return_request.pk,
        "lines": lines,
        "return_address": address_lines,
    }


def return_rejected_context(order, *, return_id: int, reason: str) -> dict:
    return {"order": order_summary(order), "return_id": return_id, "reason": reason}


def low_stock_context(item, *, sku: str, available: int) -> dict:
    variant = item.variant
    return {
        "stock": {
            "sku": sku or variant.sku,
            "product_name": variant.product.name,
            "variant_name": variant.name,
            "available": available,
            "on_hand": item.on_hand,
            "threshold": item.low_stock_threshold,
            "admin_url": absolute_url(f"/admin/inventory/stockitem/{item.pk}/change/"),
        }
    }


def payment_disputed_context(
    order, *, amount: Any, currency: str, reason: str, dispute_id: str
) -> dict:
    return {
        "order": order_summary(order),
        "dispute": {
            "id": dispute_id,
            "amount": money(amount),
            "currency": currency,
            "reason": reason,
            "admin_url": absolute_url(f"/admin/orders/order/{order.pk}/change/"),
        },
    }


def review_pending_context(review) -> dict:
    """A review waiting for moderation: what staff need to judge it, and where."""
    return {
        "review": {
            "id": review.pk,
            "product_name": review.product.name,
            "rating": review.rating,
            "title": review.title,
            "body": review.body[:1000],
            "verified_buyer": review.verified_buyer,
            "admin_url": absolute_url(f"/admin/catalog/review/{review.pk}/change/"),
        }
    }


def back_in_stock_context(alert) -> dict:
    """A variant the shopper waited for is back: where to buy it, how to stop these emails."""
    variant = alert.variant
    return {
        "item": {
            "product_name": variant.product.name,
            "variant_name": variant.name,
            "sku": variant.sku,
            "url": absolute_url(f"/p/{variant.product.slug}/?sku={variant.sku}"),
        },
        "unsubscribe_url": absolute_url(f"/alerts/unsubscribe/{alert.token}/"),
    }


def cart_reminder_context(cart, *, opt_out_token: str) -> dict:
    """What is still in an abandoned cart, the way back to it, and how to stop reminders."""
    lines = [
        {
            "product_name": line.variant.product.name,
            "variant_name": line.variant.name,
            "quantity": line.quantity,
        }
        for line in cart.lines.all()
    ]
    return {
        "cart": {"lines": lines[:20], "more": max(0, len(lines) - 20)},
        "cart_url": absolute_url("/cart/"),
        "opt_out_url": absolute_url(f"/cart/reminders/opt-out/{opt_out_token}/"),
    }
