"""The ``data`` of each event: JSON-friendly snapshots taken when the event happened."""

from typing import Any

from catalog.models import Product
from inventory.models import StockItem
from notifications.contexts import money
from orders.models import Order


def order_data(order: Order, **extra: Any) -> dict[str, Any]:
    """Return an order as webhook data (lines and shipments from the prefetch cache if any)."""
    return {
        "number": order.number,
        "status": order.status,
        "payment_status": order.payment_status,
        "email": order.email,
        "currency": order.currency,
        "subtotal": money(order.subtotal),
        "shipping_total": money(order.shipping_total),
        "tax_total": money(order.tax_total),
        "total": money(order.total),
        "refunded_total": money(order.refunded_total),
        "created_at": order.created_at.isoformat(),
        "lines": [
            {
                "sku": line.sku,
                "product_name": line.product_name,
                "variant_name": line.variant_name,
                "quantity": line.quantity,
                "unit_price": money(line.unit_price),
                "line_total": money(line.line_total),
            }
            for line in order.lines.all()
        ],
        "shipments": [
            {"carrier": s.carrier, "tracking_number": s.tracking_number, "status": s.status}
            for s in order.shipments.all()
        ],
        **extra,
    }


def product_data(product: Product) -> dict[str, Any]:
    """Return a product and its variants as webhook data."""
    return {
        "slug": product.slug,
        "name": product.name,
        "status": product.status,
        "category": product.category.slug,
        "attributes": product.attributes,
        "updated_at": product.updated_at.isoformat(),
        "variants": [
            {
                "sku": v.sku,
                "name": v.name,
                "price": money(v.price),
                "is_active": v.is_active,
                "attributes": v.attributes,
            }
            for v in product.variants.all()
        ],
    }


def stock_low_data(item: StockItem, *, available: int) -> dict[str, Any]:
    """Return a low-stock alert as webhook data."""
    return {
        "sku": item.variant.sku,
        "product": item.variant.product.slug,
        "available": available,
        "on_hand": item.on_hand,
        "threshold": item.low_stock_threshold,
    }
