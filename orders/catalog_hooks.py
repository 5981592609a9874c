"""What the catalogue asks of orders (catalog may not import orders; connected in ready()).

- "Verified buyer": ``bought_product`` is registered as ``catalog.reviews``' purchase check.
- Best-selling: ``record_order_sales`` listens to ``order_placed`` (inside the checkout
  transaction) and adds the order's units to ``catalog.popularity``'s day rows.
"""

from collections import Counter

from accounts.models import User
from catalog.models import Product
from catalog.popularity import record_sales
from orders.models import Order, OrderLine, OrderStatus


def bought_product(*, user: User, product: Product) -> bool:
    """Return whether ``user`` has an order (not cancelled, not a draft) with a variant of
    ``product``."""
    return (
        OrderLine.objects.filter(order__user=user, variant__product=product)
        .exclude(order__status__in=[OrderStatus.CANCELLED, OrderStatus.DRAFT])
        .exists()
    )


def record_order_sales(sender, *, order_id: int, **kwargs) -> None:
    """Count the placed order's units per product in the 30-day sales summary."""
    units: Counter[int] = Counter()
    rows = OrderLine.objects.filter(order_id=order_id).values_list(
        "variant__product_id", "quantity"
    )
    for product_id, quantity in rows:
        units[product_id] += quantity
    record_sales(units_by_product=units)


def connect() -> None:
    """Register the hooks (called once, from ``OrdersConfig.ready()``)."""
    from catalog.reviews import register_purchase_check
    from orders.signals import order_placed

    register_purchase_check(check=bought_product)
    order_placed.connect(record_order_sales, sender=Order, dispatch_uid="orders.record_sales")
