from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.addresses.serializers import PostalAddressSerializer
from orders.lifecycle import can_cancel, cancellable_statuses
from orders.models import InvoiceKind, Order, OrderStatus, ReturnRequest

MONEY = {"max_digits": 12, "decimal_places": 2}


class OrderLineSerializer(serializers.Serializer):
    sku = serializers.CharField()
    product_name = serializers.CharField()
    variant_name = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(**MONEY)
    line_total = serializers.DecimalField(**MONEY)
    discount = serializers.DecimalField(**MONEY, help_text="This line's share of the discount.")
    currency = serializers.CharField(source="order.currency")
    returned_quantity = serializers.IntegerField()


class ShipmentSerializer(serializers.Serializer):
    carrier = serializers.CharField()
    tracking_number = serializers.CharField()
    status = serializers.CharField()


class EventSerializer(serializers.Serializer):
    type = serializers.CharField()
    created_at = serializers.DateTimeField()
    note = serializers.CharField()
    from_status = serializers.CharField()
    to_status = serializers.CharField()


class OrderSerializer(serializers.ModelSerializer):
    lines = OrderLineSerializer(many=True, read_only=True)
    shipments = ShipmentSerializer(many=True, read_only=True)
    events = EventSerializer(many=True, read_only=True)
    shipping_address = PostalAddressSerializer(read_only=True)
    invoice_number = serializers.SerializerMethodField()
    can_cancel = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = [
            "number",
            "status",
            "payment_status",
            "created_at",
            "email",
            "lines",
            "subtotal",
            "discount_total",
            "voucher_code",
            "shipping_method",
            "shipping_total",
            "tax_total",
            "tax_lines",
            "total",
            "refunded_total",
            "currency",
            "shipping_address",
            "notes",
            "shipments",
            "events",
            "invoice_number",
            "can_cancel",
        ]
        read_only_fields = fields

    def get_invoice_number(self, order) -> str | None:
        for invoice in order.invoices.all():
            if invoice.kind == InvoiceKind.INVOICE:
                return invoice.number
        return None

    def get_can_cancel(self, order) -> bool:
        if self.context.get("guest"):  # reached with its order token
            return order.status in cancellable_statuses(user=None)
        request = self.context.get("request")
        if request is None or not request.user.is_authenticated:
            return False
        return can_cancel(order=order, user=request.user)


class GuestOrderSerializer(OrderSerializer):
    """The order placed by a guest, with the secret that opens it (shown only here)."""

    order_token = serializers.CharField(
        read_only=True,
        help_text="Opaque secret (43 characters) granting access to this one order: send it "
        "as the X-Order-Token header. Only its hash is kept by the shop.",
    )

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "order_token"]
        read_only_fields = fields


class PaymentActionSerializer(serializers.Serializer):
    client_secret = serializers.CharField(
        help_text="Finish the payment with it (Stripe.js `handleNextAction`, or the mobile "
        "SDK's `handleNextAction`); the order page needs nothing else."
    )
    next_action = serializers.DictField(
        help_text="The provider's description of what the customer must do (3-D Secure)."
    )


class PendingOrderSerializer(OrderSerializer):
    """An order waiting for the customer to finish the payment (the 202 of checkout)."""

    payment = PaymentActionSerializer(source="payment_action", read_only=True)

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "payment"]
        read_only_fields = fields


class GuestPendingOrderSerializer(GuestOrderSerializer):
    """A guest's order waiting for the payment, with its order token."""

    payment = PaymentActionSerializer(source="payment_action", read_only=True)

    class Meta(GuestOrderSerializer.Meta):
        fields = [*GuestOrderSerializer.Meta.fields, "payment"]
        read_only_fields = fields


class PlaceOrderSerializer(serializers.Serializer):
    shipping_address = PostalAddressSerializer(required=False)
    address_id = serializers.IntegerField(required=False, min_value=1)
    payment_token = serializers.CharField(max_length=255)
    notes = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    email = serializers.EmailField(
        required=False,
        max_length=254,
        help_text="Guests (no auth, X-Cart-Token): required; the confirmation goes there. "
        "Ignored for a signed-in user (their account's email is used).",
    )
    save_address = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Signed in, with shipping_address: once the order is placed, also add the "
        "address to the address book (an identical entry is not added twice).",
    )
    shipping_method = serializers.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        help_text="A code from GET /api/v1/shipping-methods/ (400 when it does not serve the "
        "address); when omitted, the cheapest method serving the address.",
    )
    expected_total = serializers.DecimalField(
        **MONEY,
        required=False,
        min_value=0,
        help_text="The total shown to the shopper; when the order's total differs nothing is "
        "charged: 409 cart_changed with the new total.",
    )

    def validate(self, attrs):
        if ("shipping_address" in attrs) == ("address_id" in attrs):
            raise serializers.ValidationError(
                {"shipping_address": ["Give either shipping_address or address_id."]}
            )
        guest = self.context.get("guest", False)
        if guest and "email" not in attrs:
            raise serializers.ValidationError({"email": ["An email address is required."]})
        if guest and "address_id" in attrs:
            raise serializers.ValidationError(
                {"address_id": ["Guests have no address book: give shipping_address."]}
            )
        if guest and attrs.get("save_address"):
            raise serializers.ValidationError(
                {"save_address": ["Guests have no address book to save to."]}
            )
        return attrs


class TransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    tracking_number = serializers.CharField(
        max_length=64, required=False, allow_blank=True, default=""
    )
    carrier = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class OrderLineAddSerializer(serializers.Serializer):
    """``POST /orders/{number}/lines/``: add units of a SKU (staff)."""

    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=999)
    payment_token = serializers.CharField(
        max_length=255,
        required=False,
        allow_blank=True,
        default="",
        help_text="Charges the difference when the total goes up (required then).",
    )


class OrderLineChangeSerializer(serializers.Serializer):
    """``PATCH /orders/{number}/lines/{sku}/``: set a line's quantity (0 removes it)."""

    quantity = serializers.IntegerField(min_value=0, max_value=999)
    payment_token = serializers.CharField(
        max_length=255,
        required=False,
        allow_blank=True,
        default="",
        help_text="Charges the difference when the total goes up (required then).",
    )


class GoodwillRefundSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    reason = serializers.CharField(max_length=500)


class InvoiceLineSerializer(serializers.Serializer):
    """A line copied onto the invoice (a JSON dict); ``currency`` is the invoice's."""

    sku = serializers.CharField()
    description = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.CharField()
    line_total = serializers.CharField()
    discount = serializers.CharField(default="0.00", help_text="This line's share of the discount.")
    currency = serializers.SerializerMethodField()

    def get_currency(self, line) -> str:
        return self.context["currency"]


class InvoiceTotalsSerializer(serializers.Serializer):
    subtotal = serializers.DecimalField(**MONEY)
    discount_total = serializers.DecimalField(**MONEY)
    shipping_total = serializers.DecimalField(**MONEY)
    tax_rate = serializers.DecimalField(max_digits=5, decimal_places=4)
    tax_total = serializers.DecimalField(**MONEY)
    tax_lines = serializers.ListField(
        child=serializers.DictField(), help_text="Tax per rate: [{rate, name, taxable, tax}]."
    )
    total = serializers.DecimalField(**MONEY)
    currency = serializers.CharField()


class FinancialDocumentSerializer(serializers.Serializer):
    """What an invoice and a credit note have in common (both are ``Invoice`` rows)."""

    number = serializers.CharField()
    kind = serializers.CharField()
    order_number = serializers.CharField(source="order.number")
    issued_at = serializers.DateTimeField()
    lines = serializers.SerializerMethodField()
    totals = serializers.SerializerMethodField()
    currency = serializers.CharField()

    @extend_schema_field(InvoiceLineSerializer(many=True))
    def get_lines(self, invoice) -> list[dict]:
        return InvoiceLineSerializer(
            invoice.lines, many=True, context={"currency": invoice.currency}
        ).data

    def get_totals(self, invoice) -> InvoiceTotalsSerializer:
        return InvoiceTotalsSerializer(invoice).data


class CreditNoteSerializer(FinancialDocumentSerializer):
    """A credit note; ``pdf_url`` is its PDF (``?format=pdf`` on its detail route)."""

    pdf_url = serializers.SerializerMethodField()

    def get_pdf_url(self, note) -> str:
        path = reverse("order-credit-note", args=[note.order.number, note.number])
        return f"{path}?format=pdf"


class InvoiceSerializer(FinancialDocumentSerializer):
    credit_notes = serializers.SerializerMethodField()

    def get_credit_notes(self, invoice) -> list[dict]:
        notes = self.context.get("credit_notes", [])
        return [
            {
                "number": note.number,
                "issued_at": serializers.DateTimeField().to_representation(note.issued_at),
                "lines": note.lines,
                "total": f"{note.total:.2f}",
                "currency": note.currency,
            }
            for note in notes
        ]


class ReturnLineInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=10000)


class ReturnRequestInputSerializer(serializers.Serializer):
    lines = ReturnLineInputSerializer(many=True, allow_empty=False)
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ReturnRejectInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class ReturnLineSerializer(serializers.Serializer):
    sku = serializers.CharField(source="order_line.sku")
    quantity = serializers.IntegerField()


class ReturnSerializer(serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number", read_only=True)
    lines = ReturnLineSerializer(many=True, read_only=True)
    currency = serializers.CharField(source="order.currency", read_only=True)

    class Meta:
        model = ReturnRequest
        fields = [
            "id",
            "order_number",
            "status",
            "lines",
            "reason",
            "refund_amount",
            "currency",
            "created_at",
            "received_at",
            "rejection_reason",
        ]
        read_only_fields = fields
