"""Orders as CSV/XLSX for accounting (export only: orders are made by checkout)."""

from typing import Any

from import_export import fields, resources

from orders.models import Order

COLUMNS = (
    "number",
    "created_at",
    "status",
    "payment_status",
    "email",
    "customer_name",
    "city",
    "postal_code",
    "country",
    "currency",
    "subtotal",
    "shipping_total",
    "tax_total",
    "total",
    "refunded_total",
    "net_total",
)


class OrderResource(resources.ModelResource):
    """One row per order: who, where, and the money (net = total - refunded)."""

    customer_name = fields.Field(column_name="customer_name", readonly=True)
    city = fields.Field(column_name="city", readonly=True)
    postal_code = fields.Field(column_name="postal_code", readonly=True)
    country = fields.Field(column_name="country", readonly=True)
    net_total = fields.Field(column_name="net_total", readonly=True)

    class Meta:
        model = Order
        fields = COLUMNS
        export_order = COLUMNS

    @staticmethod
    def _address(order: Order, key: str) -> str:
        address: Any = order.shipping_address
        return str(address.get(key, "")) if isinstance(address, dict) else ""

    def dehydrate_customer_name(self, order: Order) -> str:
        return self._address(order, "full_name")

    def dehydrate_city(self, order: Order) -> str:
        return self._address(order, "city")

    def dehydrate_postal_code(self, order: Order) -> str:
        return self._address(order, "postal_code")

    def dehydrate_country(self, order: Order) -> str:
        return self._address(order, "country")

    def dehydrate_net_total(self, order: Order) -> str:
        return f"{order.total - order.refunded_total:.2f}"
