from django.conf import settings
from django.db import models
from django.db.models import Q


class OrderStatus(models.TextChoices):
    # Built by staff for a phone customer (``orders.drafts``): not the customer's yet (hidden
    # from their lists), no stock allocated; sending the payment link or marking it paid
    # offline moves it on.
    DRAFT = "draft", "Draft"
    # Placed, its stock allocated, waiting for the payment provider (3-D Secure): the
    # provider's confirmation moves it to ``received``; a failure or the timeout cancels it.
    PENDING_PAYMENT = "pending_payment", "Pending payment"
    RECEIVED = "received", "Received"
    PROCESSING = "processing", "Processing"
    FULFILLED = "fulfilled", "Fulfilled"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"


class PaymentStatus(models.TextChoices):
    PENDING = "pending", "Pending (waits for the customer)"
    # A draft not paid yet, or an order whose pending payment failed or timed out.
    UNPAID = "unpaid", "Not paid"
    PAID = "paid", "Paid"
    PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
    REFUNDED = "refunded", "Refunded"


#: Payment statuses of orders whose money never came in (no invoice, no revenue).
UNPAID_STATUSES = (PaymentStatus.PENDING, PaymentStatus.UNPAID)


def money_field(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=12, decimal_places=2, **kwargs)


class Order(models.Model):
    """A placed order. Lines, address and totals are snapshots taken at checkout."""

    number = models.CharField(max_length=32, unique=True)
    # None for a guest's order: the guest reaches it with its order token (only its sha256
    # is stored, in ``order_token_hash``), until an account is created and attaches it.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    email = models.EmailField()
    order_token_hash = models.CharField(max_length=64, blank=True, editable=False)
    status = models.CharField(
        max_length=20, choices=OrderStatus.choices, default=OrderStatus.RECEIVED
    )
    payment_status = models.CharField(
        max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.PAID
    )
    currency = models.CharField(max_length=3)
    subtotal = money_field()
    shipping_total = money_field()
    # The shipping method chosen at checkout (code and name, snapshots of cart.ShippingMethod).
    shipping_method = models.CharField(max_length=32, blank=True)
    shipping_method_name = models.CharField(max_length=100, blank=True)
    # The discount taken off the lines (the sum of the lines' ``discount``) and the voucher
    # or promotion code that gave it ("" for none).
    discount_total = money_field(default=0)
    voucher_code = models.CharField(max_length=32, blank=True)
    tax_total = money_field(default=0)
    # Tax per rate: [{"rate": "0.2000", "name": "VAT 20%", "taxable": "50.00", "tax": "10.00"}]
    # (taxable: what the rate applied to, shipping included); ``included``: prices held tax.
    tax_lines = models.JSONField(default=list, blank=True)
    prices_include_tax = models.BooleanField(default=False)
    total = money_field()
    refunded_total = money_field(default=0)
    shipping_address = models.JSONField()
    notes = models.TextField(blank=True)
    # While ``pending_payment`` only (emptied when the order leaves it): what the client needs
    # to finish the payment (``{"client_secret", "next_action"}``), and a guest's order token,
    # which the confirmation email sent at confirmation links with (only its hash is kept).
    payment_action = models.JSONField(default=dict, blank=True, editable=False)
    pending_order_token = models.CharField(max_length=64, blank=True, editable=False)
    # A draft order sent to the customer as a payment link (``orders.drafts``): until when the
    # link works (``SHOP_PAYMENT_LINK_DAYS``); ``cancel_expired_payments`` waits for it.
    payment_link_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("transition_order", "Can move orders through fulfilment (process, pack, ship)"),
            ("cancel_order", "Can cancel orders (releases stock, refunds the payment)"),
            ("view_sales_dashboard", "Can view the sales dashboard"),
            ("edit_order", "Can edit orders before fulfilment (lines; charges or refunds)"),
            ("refund_order", "Can issue goodwill refunds"),
            ("manage_draft_orders", "Can build draft orders and send payment links"),
            ("mark_paid_offline", "Can mark orders paid offline (bank transfer, cash, terminal)"),
        ]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="orders_user_created"),
            models.Index(fields=["status", "-created_at"], name="orders_status_created"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="orders_total_gte_0"),
            models.CheckConstraint(
                condition=Q(refunded_total__lte=models.F("total")),
                name="orders_refund_lte_total",
            ),
            # Every order is reachable: by its user, or (a guest's) by its order token.
            models.CheckConstraint(
                condition=Q(user__isnull=False) | ~Q(order_token_hash=""),
                name="orders_order_has_owner",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_paid(self) -> bool:
        """Whether the order's money came in (refunded since or not): it has its invoice."""
        return self.payment_status not in UNPAID_STATUSES


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    # PROTECT: an ordered variant is never deleted (the catalogue archives its product).
    variant = models.ForeignKey(
        "catalog.Variant", null=True, on_delete=models.PROTECT, related_name="order_lines"
    )
    sku = models.CharField(max_length=64)
    product_name = models.CharField(max_length=200)
    variant_name = models.CharField(max_length=120, blank=True)
    unit_price = money_field()
    quantity = models.PositiveIntegerField()
    line_total = money_field()
    # This line's share of the order's discount: the line was paid ``line_total - discount``.
    discount = money_field(default=0)
    # The tax of this line (after its discount), rounded per line, and its rate.
    tax = money_field(default=0)
    tax_rate = models.DecimalField(max_digits=5, decimal_places=4, default=0)
    returned_quantity = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="orders_line_qty_gt_0"),
            models.CheckConstraint(
                condition=Q(returned_quantity__lte=models.F("quantity")),
                name="orders_line_returned_lte_qty",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"


class OrderEventType(models.TextChoices):
    PLACED = "placed", "Order placed"
    STATUS_CHANGED = "status_changed", "Status changed"
    RETURN_REQUESTED = "return_requested", "Return requested"
    RETURN_REJECTED = "return_rejected", "Return rejected"
    REFUND_ISSUED = "refund_issued", "Refund issued"
    DISPUTE_OPENED = "dispute_opened", "Payment disputed"
    LINE_ADDED = "line_added", "Line added"
    LINE_CHANGED = "line_changed", "Line quantity changed"
    LINE_REMOVED = "line_removed", "Line removed"
    GOODWILL_REFUND = "goodwill_refund", "Goodwill refund"
    DRAFT_CREATED = "draft_created", "Draft created"
    DRAFT_UPDATED = "draft_updated", "Draft changed"
    PAYMENT_LINK_SENT = "payment_link_sent", "Payment link sent"
    PAID_OFFLINE = "paid_offline", "Paid offline"


class OrderEvent(models.Model):
    """The order's timeline: placement, every status move, returns and refunds."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=32, choices=OrderEventType.choices)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    note = models.TextField(blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.type} {self.from_status}->{self.to_status}"


class PaymentKind(models.TextChoices):
    CHARGE = "charge", "Charge"
    REFUND = "refund", "Refund"


class OfflinePaymentMethod(models.TextChoices):
    """How money taken outside the gateway came in (``Payment.gateway`` ``offline``)."""

    BANK_TRANSFER = "bank_transfer", "Bank transfer"
    CASH = "cash", "Cash"
    CARD_TERMINAL = "card_terminal", "Card terminal"
    OTHER = "other", "Other"


#: ``Payment.gateway`` of money taken (or given back) outside the gateway, by staff.
OFFLINE_GATEWAY = "offline"


class PaymentResult(models.TextChoices):
    SUCCEEDED = "succeeded", "Succeeded"
    DECLINED = "declined", "Declined"
    FAILED = "failed", "Failed (transient)"
    PENDING = "pending", "Pending (waits for the customer)"


class Payment(models.Model):
    """One gateway call (every attempt of every charge and refund), with its amount."""

    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    reference = models.CharField(max_length=64, db_index=True, help_text="Idempotency reference")
    kind = models.CharField(max_length=10, choices=PaymentKind.choices)
    result = models.CharField(max_length=10, choices=PaymentResult.choices)
    amount = money_field()
    currency = models.CharField(max_length=3)
    gateway = models.CharField(max_length=64)
    gateway_transaction_id = models.CharField(max_length=128, blank=True)
    # A refund: the successful charge row it refunds (an order edited upward has several
    # charges, and a provider refunds each only up to what is left on it).
    refunded_charge = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="refunds",
        limit_choices_to={"kind": "charge"},
    )
    attempt = models.PositiveSmallIntegerField(default=1)
    error = models.CharField(max_length=255, blank=True)
    # Offline payments only (``gateway`` ``offline``): how the money came in; the staff's
    # reference (transfer id, receipt number) is ``gateway_transaction_id``.
    method = models.CharField(max_length=20, choices=OfflinePaymentMethod.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.result} ({self.reference})"


class PaymentEvent(models.Model):
    """A provider's webhook event, stored once per ``(provider, event_id)``: the record that
    it was handled (a redelivery finds it and does nothing) and what it said."""

    provider = models.CharField(max_length=32)
    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=64)
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="payment_events"
    )
    reference = models.CharField(max_length=64, blank=True, db_index=True)
    gateway_transaction_id = models.CharField(max_length=128, blank=True, db_index=True)
    amount = money_field(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    outcome = models.CharField(max_length=255, blank=True, help_text="What the shop did")
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "event_id"], name="orders_paymentevent_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.type} {self.event_id}"


class MockLedgerEntry(models.Model):
    """The mock gateway's memory (``orders.payments.gateways.MockGateway``): one row per
    charge, refund or transient failure seen, per reference, shared by every worker."""

    class Kind(models.TextChoices):
        CHARGE = "charge", "Charge"
        REFUND = "refund", "Refund"
        TRANSIENT = "transient", "Transient failure seen"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    reference = models.CharField(max_length=64)
    transaction_id = models.CharField(max_length=128, blank=True)
    charge_id = models.CharField(max_length=128, blank=True)
    amount = money_field(default=0)
    currency = models.CharField(max_length=3, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "reference"], name="orders_mockledger_once"),
        ]

    def __str__(self) -> str:
        return f"mock {self.kind} {self.reference}"


class ShipmentStatus(models.TextChoices):
    BOOKED = "booked", "Booked"
    IN_TRANSIT = "in_transit", "In transit"
    DELIVERED = "delivered", "Delivered"


class Shipment(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipments")
    carrier = models.CharField(max_length=64)
    tracking_number = models.CharField(max_length=64)
    status = models.CharField(
        max_length=12, choices=ShipmentStatus.choices, default=ShipmentStatus.BOOKED
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.carrier} {self.tracking_number}"


class PackingTask(models.Model):
    """Created when an order moves to ``processing``: staff pick its lines, then pack it."""

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="packing_task")
    created_at = models.DateTimeField(auto_now_add=True)
    packed_at = models.DateTimeField(null=True, blank=True)
    packed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"Packing task for order {self.order_id}"


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", "Invoice"
    CREDIT_NOTE = "credit_note", "Credit note"


class Invoice(models.Model):
    """An invoice (issued at placement) or a credit note (issued with each refund)."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="invoices")
    kind = models.CharField(max_length=12, choices=InvoiceKind.choices)
    number = models.CharField(max_length=32, unique=True)
    sequence = models.PositiveIntegerField()
    issued_at = models.DateTimeField(auto_now_add=True)
    lines = models.JSONField()
    subtotal = money_field()
    discount_total = money_field(default=0)
    shipping_total = money_field(default=0)
    tax_rate = models.DecimalField(max_digits=5, decimal_places=4, default=0)
    tax_total = money_field(default=0)
    tax_lines = models.JSONField(default=list, blank=True)  # as Order.tax_lines
    total = money_field()
    currency = models.CharField(max_length=3)

    class Meta:
        ordering = ["sequence"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "sequence"], name="orders_invoice_kind_seq"),
        ]

    def __str__(self) -> str:
        return self.number


class ReturnStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    REFUNDED = "refunded", "Received and refunded"
    REJECTED = "rejected", "Rejected"


class ReturnRequest(models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="returns")
    status = models.CharField(
        max_length=10, choices=ReturnStatus.choices, default=ReturnStatus.REQUESTED, db_index=True
    )
    reason = models.TextField(blank=True)
    refund_amount = money_field(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    received_at = models.DateTimeField(null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Staff's reason for refusing the return (emailed to the customer); set with ``rejected``.
    rejection_reason = models.TextField(blank=True)
    rejected_at = models.DateTimeField(null=True, blank=True)
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("receive_return", "Can receive or reject returns (restock, refund, credit note)"),
        ]

    def __str__(self) -> str:
        return f"Return #{self.pk} of order {self.order.number}"


class ReturnLine(models.Model):
    return_request = models.ForeignKey(
        ReturnRequest, on_delete=models.CASCADE, related_name="lines"
    )
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="return_lines")
    quantity = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="orders_return_qty_gt_0"),
        ]

    def __str__(self) -> str:
        line = self.order_line
        variant = f" ({line.variant_name})" if line.variant_name else ""
        return f"{self.quantity} × {line.product_name}{variant}"


class IdempotencyState(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"


class IdempotencyKey(models.Model):
    """A client's Idempotency-Key for a checkout, with the response to replay (24 h).

    While ``in_progress`` the row records the order number its checkout places the order
    under (before anything is charged) and a lease: a request that died with its process is
    taken over by the next request with the key once ``lease_expires_at`` has passed
    (``orders.checkout.idempotency``).

    Keys belong to a member (``user``) or, for a guest, to a cart token (``cart_token``):
    exactly one of the two is set, and a key is unique per owner and scope.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    cart_token = models.UUIDField(null=True, blank=True)
    key = models.CharField(max_length=255)
    scope = models.CharField(max_length=64, default="orders.create")
    request_hash = models.CharField(max_length=64)
    state = models.CharField(max_length=12, choices=IdempotencyState.choices)
    order_number = models.CharField(max_length=32, blank=True, default="")
    # A guest's checkout: the order token its order is placed with, while ``in_progress``
    # (the replay of an order placed by a dead request carries it); blank otherwise.
    order_token = models.CharField(max_length=64, blank=True, default="")
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "scope", "key"],
                condition=Q(user__isnull=False),
                name="orders_idempotency_user_scope_key",
            ),
            models.UniqueConstraint(
                fields=["cart_token", "scope", "key"],
                condition=Q(cart_token__isnull=False),
                name="orders_idempotency_cart_scope_key",
            ),
            models.CheckConstraint(
                condition=Q(user__isnull=False, cart_token__isnull=True)
                | Q(user__isnull=True, cart_token__isnull=False),
                name="orders_idempotency_one_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.state})"


class InvoiceCounter(models.Model):
    """The last number issued per document kind; locked while issuing so numbers have no gaps."""

    kind = models.CharField(max_length=12, choices=InvoiceKind.choices, unique=True)
    value = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.kind}: {self.value}"
