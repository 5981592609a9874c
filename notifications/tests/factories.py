"""Rows for notification tests, written with the ORM (no other app's services needed)."""

from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.models import User
from catalog.models import Category, Product, Variant
from inventory.models import StockItem
from notifications.models import Notification, NotificationKind
from orders.models import Order, OrderLine, ReturnRequest, ReturnStatus, Shipment


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    first_name = "Ada"
    last_name = "Lovelace"


class StaffFactory(UserFactory):
    email = factory.Sequence(lambda n: f"staff{n}@shop.test")
    is_staff = True


class CategoryFactory(DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")


class ProductFactory(DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Linen shirt {n}")
    category = factory.SubFactory(CategoryFactory)


class VariantFactory(DjangoModelFactory):
    class Meta:
        model = Variant

    product = factory.SubFactory(ProductFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = "Blue / M"
    price = Decimal("19.99")


class StockItemFactory(DjangoModelFactory):
    class Meta:
        model = StockItem

    variant = factory.SubFactory(VariantFactory)
    on_hand = 3
    allocated = 0
    low_stock_threshold = 5
    low_stock_alerted = True


class OrderFactory(DjangoModelFactory):
    class Meta:
        model = Order

    number = factory.Sequence(lambda n: f"SO{100000 + n}")
    user = factory.SubFactory(UserFactory)
    email = factory.LazyAttribute(lambda o: o.user.email)
    currency = "USD"
    subtotal = Decimal("39.98")
    shipping_total = Decimal("5.00")
    total = Decimal("44.98")
    shipping_address = factory.LazyFunction(
        lambda: {
            "full_name": "Ada Lovelace",
            "line1": "12 Analytical Street",
            "line2": "",
            "city": "London",
            "postal_code": "N1 9GU",
            "country": "GB",
            "phone": "",
        }
    )


class OrderLineFactory(DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    sku = factory.Sequence(lambda n: f"LINE-{n:05d}")
    product_name = "Linen shirt"
    variant_name = "Blue / M"
    unit_price = Decimal("19.99")
    quantity = 2
    line_total = factory.LazyAttribute(lambda o: o.unit_price * o.quantity)


class ShipmentFactory(DjangoModelFactory):
    class Meta:
        model = Shipment

    order = factory.SubFactory(OrderFactory)
    carrier = "MockPost"
    tracking_number = factory.Sequence(lambda n: f"MP{700000 + n}")


class ReturnRequestFactory(DjangoModelFactory):
    class Meta:
        model = ReturnRequest

    order = factory.SubFactory(OrderFactory)
    status = ReturnStatus.REFUNDED
    refund_amount = Decimal("19.99")


class NotificationFactory(DjangoModelFactory):
    """A pending welcome email, due now (delivery is up to the test)."""

    class Meta:
        model = Notification

    kind = NotificationKind.WELCOME
    recipient = factory.Sequence(lambda n: f"reader{n}@example.com")
    subject = "Welcome to Test Shop"
    context = factory.LazyFunction(
        lambda: {"user": {"name": "Ada", "email": "ada@example.com"}, "login_url": "/"}
    )
    event_key = factory.Sequence(lambda n: f"test:{n}")
    next_attempt_at = factory.LazyFunction(timezone.now)


def order_with_lines(*, lines: int = 2, **kwargs) -> Order:
    """Return an order with ``lines`` lines whose totals add up."""
    order = OrderFactory(**kwargs)
    created = [OrderLineFactory(order=order) for _ in range(lines)]
    order.subtotal = sum((line.line_total for line in created), Decimal("0"))
    order.total = order.subtotal + order.shipping_total
    order.save(update_fields=["subtotal", "total"])
    return order
