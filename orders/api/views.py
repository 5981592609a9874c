"""Orders, checkout, invoices and returns (API.md "Orders and checkout", "Guest checkout")."""

from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotAuthenticated
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from accounts.permissions import PasswordChangeNotRequired
from accounts.roles import has_staff_permission
from cart.api.views import TOKEN_HEADER as CART_TOKEN_HEADER
from cart.errors import CartNotFound
from cart.services import get_cart_for
from orders.api.serializers import (
    CreditNoteSerializer,
    GoodwillRefundSerializer,
    GuestOrderSerializer,
    GuestPendingOrderSerializer,
    InvoiceSerializer,
    OrderLineAddSerializer,
    OrderLineChangeSerializer,
    OrderSerializer,
    PendingOrderSerializer,
    PlaceOrderSerializer,
    ReturnRejectInputSerializer,
    ReturnRequestInputSerializer,
    ReturnSerializer,
    TransitionSerializer,
)
from orders.checkout.idempotency import run_idempotent, validate_key
from orders.checkout.services import place_guest_order, place_order
from orders.editing.services import (
    add_order_line,
    change_order_line,
    issue_goodwill_refund,
    remove_order_line,
)
from orders.guest_access import guest_order, new_order_token
from orders.invoices.documents import document_for, order_credit_notes
from orders.invoices.pdf import invoice_pdf_response
from orders.lifecycle import cancel_order, transition_order
from orders.models import InvoiceKind, Order, OrderLine, OrderStatus, ReturnStatus
from orders.returns.services import receive_return, reject_return, request_return
from orders.selectors import orders_for, orders_with_details, returns_list, with_details
from shop.api.permissions import HasStaffPermission
from shop.api.schema import (
    FORBIDDEN,
    NOT_FOUND,
    THROTTLED,
    UNAUTHENTICATED,
    VALIDATION,
    error,
)

IDEMPOTENCY_HEADER = "Idempotency-Key"
ORDER_TOKEN_HEADER = "X-Order-Token"
ORDER_TOKEN_PARAM = OpenApiParameter(
    ORDER_TOKEN_HEADER,
    type=str,
    location=OpenApiParameter.HEADER,
    required=False,
    description="A guest's order_token (from the 201 or 202 of checkout), instead of auth. A wrong "
    "or missing token answers 404.",
)
CHECKOUT_SCOPE = "orders.create"
INVALID_TRANSITION = error("Not allowed from the current status (invalid_transition)")
PASSWORD_CHANGE_REQUIRED = error(
    "The user must change their password first (password_change_required)"
)
ANOTHER_CUSTOMERS_ORDER = error(
    "password_change_required, or permission_denied: staff acting on another customer's "
    "order without the permission it needs"
)


SKU_PARAM = OpenApiParameter("sku", OpenApiTypes.STR, OpenApiParameter.PATH)
STAFF_EDIT_RESPONSES = {
    200: OrderSerializer,
    400: VALIDATION,
    401: UNAUTHENTICATED,
    402: error("The difference could not be charged (payment_declined)"),
    403: FORBIDDEN,
    404: NOT_FOUND,
    409: error("Fulfilment has started (order_not_editable) or insufficient_stock"),
    429: THROTTLED,
    503: error("Payment gateway unavailable after retries (payment_unavailable)"),
}


class JSONOnlyNegotiation(DefaultContentNegotiation):
    """Always JSON: ``?format=html`` on the invoice is ours to handle, not DRF's."""

    def select_renderer(self, request, renderers, format_suffix=None):
        renderer = JSONRenderer()
        return renderer, renderer.media_type


@extend_schema_view(
    list=extend_schema(
        summary="Orders (own; staff: all)",
        parameters=[OpenApiParameter("status", enum=OrderStatus.values, required=False)],
        responses={
            200: OrderSerializer(many=True),
            400: VALIDATION,
            401: UNAUTHENTICATED,
            403: PASSWORD_CHANGE_REQUIRED,
        },
    ),
    retrieve=extend_schema(
        summary="One order (a guest: with X-Order-Token)",
        parameters=[ORDER_TOKEN_PARAM],
        responses={
            200: OrderSerializer,
            401: UNAUTHENTICATED,
            403: ANOTHER_CUSTOMERS_ORDER,
            404: NOT_FOUND,
        },
    ),
)
@extend_schema(tags=["orders"])
class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = OrderSerializer
    permission_classes = [IsAuthenticated, PasswordChangeNotRequired]
    # Staff-only actions; the customers' actions check the staff path themselves.
    required_permissions = {
        "transition": ("orders.transition_order",),
        "add_line": ("orders.edit_order",),
        "edit_line": ("orders.edit_order",),
        "refunds": ("orders.refund_order",),
    }
    lookup_field = "number"
    lookup_value_regex = "[^/]+"
    filter_backends: list = []

    # A guest places an order (with a cart token) and reaches it (with its order token).
    GUEST_ACTIONS = frozenset(
        {"create", "retrieve", "cancel", "invoice", "credit_notes", "credit_note"}
    )

    def get_permissions(self):
        if self.action in self.GUEST_ACTIONS:
            return [AllowAny(), PasswordChangeNotRequired()]
        return super().get_permissions()

    def _order_token(self) -> str | None:
        return self.request.headers.get(ORDER_TOKEN_HEADER)

    def _is_guest_access(self) -> bool:
        """Whether this request reaches its order by order token (not as a signed-in user)."""
        return self._order_token() is not None or not self.request.user.is_authenticated

    def get_queryset(self):
        qs = orders_for(user=self.request.user)
        if self.action == "list":
            status = self.request.query_params.get("status")
            if status:
                if status not in OrderStatus.values:
                    raise ValidationError({"status": [f"Unknown status: {status[:32]}."]})
                qs = qs.filter(status=status)
        return qs

    def get_object(self):
        """Return the order of the URL: customers 404 on another's order; staff without
        ``orders.view_order`` (who see only their own) 403 ``permission_denied``. With an
        ``X-Order-Token`` header (or without auth) the token alone decides: 404 unless it is
        the order's."""
        if self._is_guest_access():
            order = guest_order(
                number=self.kwargs[self.lookup_field],
                token=self._order_token(),
                queryset=orders_with_details(),
            )
            if order is None:
                raise Http404
            return order
        try:
            return super().get_object()
        except Http404:
            number = self.kwargs[self.lookup_field]
            if self.request.user.is_staff and Order.objects.filter(number=number).exists():
                self.permission_denied(self.request)
            raise

    def _check_staff_path(self, order, permission: str) -> None:
        """Staff acting on another customer's order need ``permission`` (403 otherwise)."""
        user = self.request.user
        if order.user_id != user.pk and not has_staff_permission(user=user, permission=permission):
            self.permission_denied(self.request)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "guest": self._is_guest_access()}

    def _order_response(self, order, status: int = 200) -> Response:
        if self._is_guest_access():
            order = get_object_or_404(orders_with_details(), pk=order.pk)
        else:
            order = get_object_or_404(orders_for(user=self.request.user), pk=order.pk)
        return Response(self.get_serializer(order).data, status=status)

    @extend_schema(
        summary="Place the cart as an order (idempotent); guests too, with a cart token",
        description=(
            "Signed in: the user's cart. Without auth: the cart of the `X-Cart-Token` header "
            "(a guest checkout: `email` required, the 201 carries `order_token`; idempotency "
            "keys are then scoped per cart token). Without auth or cart token: 401. "
            "`expected_total`: when the order's total differs, nothing is charged and the "
            "answer is 409 `cart_changed` with the new `total`. When the payment provider "
            "needs the customer (3-D Secure) the answer is 202: the order in "
            "`pending_payment` (stock allocated) with `payment: {client_secret, next_action}`; "
            "it becomes `received`/`paid` when the provider confirms, or `cancelled` after "
            "`SHOP_PAYMENT_TIMEOUT`. A replay with the same key returns the same 202."
        ),
        parameters=[
            OpenApiParameter(
                CART_TOKEN_HEADER,
                type=str,
                location=OpenApiParameter.HEADER,
                required=False,
                description="A guest's cart token (without auth).",
            ),
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                type=str,
                location=OpenApiParameter.HEADER,
                required=True,
                description="1..255 characters; the same key and body replay the response.",
            ),
            OpenApiParameter(
                "Idempotent-Replayed",
                type=str,
                location=OpenApiParameter.HEADER,
                enum=["true"],
                response=[201, 202],
                description="`true` when this is the stored response of an earlier request.",
            ),
        ],
        request=PlaceOrderSerializer,
        responses={
            201: PolymorphicProxySerializer(
                component_name="PlacedOrder",
                serializers=[OrderSerializer, GuestOrderSerializer],
                resource_type_field_name=None,
                many=False,
            ),
            202: PolymorphicProxySerializer(
                component_name="PendingPaymentOrder",
                serializers=[PendingOrderSerializer, GuestPendingOrderSerializer],
                resource_type_field_name=None,
                many=False,
            ),
            400: OpenApiResponse(
                VALIDATION.response,
                description="validation_error, cart_empty or idempotency_key_required",
            ),
            401: UNAUTHENTICATED,
            402: error("Payment declined (payment_declined)"),
            403: PASSWORD_CHANGE_REQUIRED,
            404: error("Unknown or closed cart token (cart_not_found)"),
            409: error(
                "insufficient_stock (with lines), price_changed, cart_changed (with the new "
                "total), idempotency_key_in_use or checkout_in_progress"
            ),
            422: error("Same key, different body (idempotency_key_mismatch)"),
            429: THROTTLED,
            503: error("Payment gateway unavailable after retries (payment_unavailable)"),
        },
    )
    def create(self, request):
        if not request.user.is_authenticated:
            return self._create_as_guest(request)
        key = request.headers.get(IDEMPOTENCY_HEADER)
        validate_key(key=key)  # 400 idempotency_key_required before anything else
        serializer = PlaceOrderSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = request.user

        def placed(order) -> tuple[int, dict]:
            # A fresh order carries its rows (checkout attached them); a replay reads them.
            order = with_details(order=order, fetch=lambda: orders_for(user=user).get(pk=order.pk))
            if order.status == OrderStatus.PENDING_PAYMENT:
                return 202, PendingOrderSerializer(order, context={"request": request}).data
            return 201, OrderSerializer(order, context={"request": request}).data

        def action(order_number: str) -> tuple[int, dict]:
            order = place_order(
                user=user,
                cart=get_cart_for(user=user),
                shipping_address=data.get("shipping_address"),
                address_id=data.get("address_id"),
                payment_token=data["payment_token"],
                notes=data.get("notes", ""),
                expected_total=data.get("expected_total"),
                order_number=order_number,
                save_address=data.get("save_address", False),
                shipping_method=data.get("shipping_method") or None,
            )
            return placed(order)

        result = run_idempotent(
            user=user,
            key=key,
            scope=CHECKOUT_SCOPE,
            payload=request.data,
            action=action,
            replay=placed,
        )
        headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
        return Response(result.body, status=result.status, headers=headers)

    def _create_as_guest(self, request) -> Response:
        """Guest checkout: the cart of the X-Cart-Token header, keys scoped per cart token.

        The stored (replayable) 201 holds the order token: a client retrying with its key must
        learn it (the idempotency row is server-side and expires with the key, 24 h)."""
        raw_token = request.headers.get(CART_TOKEN_HEADER)
        if not raw_token:
            raise NotAuthenticated()
        try:
            cart_token = UUID(raw_token)
        except ValueError:
            raise CartNotFound() from None
        key = request.headers.get(IDEMPOTENCY_HEADER)
        validate_key(key=key)
        serializer = PlaceOrderSerializer(data=request.data, context={"guest": True})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data

        order_token = new_order_token()

        def placed(order) -> tuple[int, dict]:
            # ``order.order_token``: set by the action, or by run_idempotent for the order of
            # a request that died before answering (kept on the key row until then).
            token = order.order_token
            order = with_details(order=order, fetch=lambda: orders_with_details().get(pk=order.pk))
            order.order_token = token
            context = {"request": request, "guest": True}
            if order.status == OrderStatus.PENDING_PAYMENT:
                return 202, GuestPendingOrderSerializer(order, context=context).data
            return 201, GuestOrderSerializer(order, context=context).data

        def action(order_number: str) -> tuple[int, dict]:
            guest = place_guest_order(
                email=data["email"],
                cart=get_cart_for(token=cart_token),
                shipping_address=data["shipping_address"],
                payment_token=data["payment_token"],
                notes=data.get("notes", ""),
                expected_total=data.get("expected_total"),
                order_number=order_number,
                order_token=order_token,
                shipping_method=data.get("shipping_method") or None,
            )
            guest.order.order_token = guest.order_token
            return placed(guest.order)

        result = run_idempotent(
            user=None,
            cart_token=cart_token,
            key=key,
            scope=CHECKOUT_SCOPE,
            payload=request.data,
            action=action,
            replay=placed,
            order_token=order_token,
        )
        headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
        return Response(result.body, status=result.status, headers=headers)

    @extend_schema(
        summary="Cancel an order (customer: until processing; staff: until fulfilled)",
        description=(
            "Customers may cancel while pending_payment, received or processing; a guest "
            "cancels with the X-Order-Token header."
        ),
        parameters=[ORDER_TOKEN_PARAM],
        request=None,
        responses={
            200: OrderSerializer,
            401: UNAUTHENTICATED,
            403: ANOTHER_CUSTOMERS_ORDER,
            404: NOT_FOUND,
            409: INVALID_TRANSITION,
            429: THROTTLED,
            503: error("Refund could not go through (payment_unavailable)"),
        },
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, number=None):
        order = self.get_object()
        if self._is_guest_access():
            order = cancel_order(order=order, user=None, note="Cancelled by the guest.")
            return self._order_response(order)
        self._check_staff_path(order, "orders.cancel_order")
        order = cancel_order(order=order, user=request.user)
        return self._order_response(order)

    @extend_schema(
        summary="Move an order to another status (staff)",
        description=(
            "Needs the `orders.transition_order` permission; moving to `cancelled` (which "
            "refunds) also needs `orders.cancel_order`."
        ),
        request=TransitionSerializer,
        responses={
            200: OrderSerializer,
            400: VALIDATION,
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: INVALID_TRANSITION,
            429: THROTTLED,
            503: error("Refund could not go through (payment_unavailable)"),
        },
    )
    @action(
        detail=True,
        methods=["post"],
        permission_classes=[HasStaffPermission, PasswordChangeNotRequired],
    )
    def transition(self, request, number=None):
        order = self.get_object()  # 404 before looking at the body
        serializer = TransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data["status"] == OrderStatus.CANCELLED and not has_staff_permission(
            user=request.user, permission="orders.cancel_order"
        ):
            self.permission_denied(request)  # cancelling refunds: not a fulfilment move
        order = transition_order(
            order=order,
            to_status=data["status"],
            user=request.user,
            note=data["note"],
            tracking_number=data["tracking_number"],
            carrier=data["carrier"],
        )
        return self._order_response(order)

    @extend_schema(
        summary="Add units of a SKU to an order before fulfilment (staff)",
        description=(
            "Needs `orders.edit_order`. Allocates the stock; the higher total is charged with "
            "`payment_token`; an event is recorded. Only while `received` or `processing`."
        ),
        request=OrderLineAddSerializer,
        responses=STAFF_EDIT_RESPONSES,
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="lines",
        permission_classes=[HasStaffPermission, PasswordChangeNotRequired],
    )
    def add_line(self, request, number=None):
        order = self.get_object()
        serializer = OrderLineAddSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = add_order_line(order=order, user=request.user, **serializer.validated_data)
        return self._order_response(order)

    @extend_schema(
        methods=["PATCH"],
        summary="Change an order line's quantity before fulfilment (staff); 0 removes it",
        description=(
            "Needs `orders.edit_order`. Stock is allocated or released; a higher total is "
            "charged with `payment_token`, a lower one refunded with a credit note."
        ),
        parameters=[SKU_PARAM],
        request=OrderLineChangeSerializer,
        responses=STAFF_EDIT_RESPONSES,
    )
    @extend_schema(
        methods=["DELETE"],
        summary="Remove an order line before fulfilment (staff): stock released, refunded",
        parameters=[SKU_PARAM],
        request=None,
        responses=STAFF_EDIT_RESPONSES,
    )
    @action(
        detail=True,
        methods=["patch", "delete"],
        url_path=r"lines/(?P<sku>[^/]+)",
        permission_classes=[HasStaffPermission, PasswordChangeNotRequired],
    )
    def edit_line(self, request, number=None, sku=None):
        order = self.get_object()
        try:
            if request.method == "DELETE":
                order = remove_order_line(order=order, sku=sku, user=request.user)
            else:
                serializer = OrderLineChangeSerializer(data=request.data)
                serializer.is_valid(raise_exception=True)
                order = change_order_line(
                    order=order, sku=sku, user=request.user, **serializer.validated_data
                )
        except OrderLine.DoesNotExist as exc:
            raise Http404 from exc
        return self._order_response(order)

    @extend_schema(
        summary="Issue a goodwill refund (staff)",
        description=(
            "Needs `orders.refund_order`. Never more than is left to refund (400 "
            "`validation_error` on `amount`); a credit note is issued and the customer emailed."
        ),
        request=GoodwillRefundSerializer,
        responses={
            200: OrderSerializer,
            400: VALIDATION,
            401: UNAUTHENTICATED,
            402: error("The refund was refused (payment_declined)"),
            403: FORBIDDEN,
            404: NOT_FOUND,
            429: THROTTLED,
            503: error("Refund could not go through (payment_unavailable)"),
        },
    )
    @action(
        detail=True,
        methods=["post"],
        permission_classes=[HasStaffPermission, PasswordChangeNotRequired],
    )
    def refunds(self, request, number=None):
        order = self.get_object()
        serializer = GoodwillRefundSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = issue_goodwill_refund(order=order, user=request.user, **serializer.validated_data)
        return self._order_response(order)

    @extend_schema(
        summary="The order's invoice (JSON, ?format=html for a printable page, ?format=pdf for "
        "the PDF); a guest: with X-Order-Token",
        parameters=[
            OpenApiParameter("format", enum=["json", "html", "pdf"], required=False),
            ORDER_TOKEN_PARAM,
        ],
        responses={
            (200, "application/json"): InvoiceSerializer,
            (200, "text/html"): OpenApiTypes.STR,
            (200, "application/pdf"): OpenApiTypes.BINARY,
            401: UNAUTHENTICATED,
            403: ANOTHER_CUSTOMERS_ORDER,
            404: NOT_FOUND,
        },
    )
    @action(detail=True, methods=["get"], content_negotiation_class=JSONOnlyNegotiation)
    def invoice(self, request, number=None):
        order = self.get_object()
        if not self._is_guest_access():
            self._check_staff_path(order, "orders.view_invoice")
        documents = list(order.invoices.all().order_by("issued_at", "id"))
        invoice = next((d for d in documents if d.kind == InvoiceKind.INVOICE), None)
        if invoice is None:
            raise Http404
        credit_notes = [d for d in documents if d.kind == InvoiceKind.CREDIT_NOTE]
        if request.query_params.get("format") == "pdf":
            return invoice_pdf_response(invoice=invoice)
        if request.query_params.get("format") == "html":
            html = render_to_string(
                "orders/invoice.html",
                {
                    "invoice": invoice,
                    "doc": document_for(invoice=invoice),
                    "order": order,
                    "credit_notes": credit_notes,
                    "pdf_url": f"{request.path}?format=pdf",
                },
                request=request,
            )
            return HttpResponse(html, content_type="text/html; charset=utf-8")
        serializer = InvoiceSerializer(invoice, context={"credit_notes": credit_notes})
        return Response(serializer.data)

    def _documents_order(self) -> Order:
        """Return the order whose invoice documents are asked for (404 unless the caller may
        see it; staff on another customer's order need ``orders.view_invoice``)."""
        order = self.get_object()
        if not self._is_guest_access():
            self._check_staff_path(order, "orders.view_invoice")
        return order

    @extend_schema(
        summary="The order's credit notes, oldest first; a guest: with X-Order-Token",
        parameters=[ORDER_TOKEN_PARAM],
        responses={
            200: CreditNoteSerializer(many=True),
            401: UNAUTHENTICATED,
            403: ANOTHER_CUSTOMERS_ORDER,
            404: NOT_FOUND,
        },
    )
    @action(detail=True, methods=["get"], url_path="credit-notes", pagination_class=None)
    def credit_notes(self, request, number=None):
        order = self._documents_order()
        notes = order_credit_notes(order=order)
        return Response(CreditNoteSerializer(notes, many=True).data)

    @extend_schema(
        summary="One credit note of the order (JSON, or ?format=pdf for the PDF); a guest: "
        "with X-Order-Token",
        parameters=[
            OpenApiParameter("format", enum=["json", "pdf"], required=False),
            ORDER_TOKEN_PARAM,
        ],
        responses={
            (200, "application/json"): CreditNoteSerializer,
            (200, "application/pdf"): OpenApiTypes.BINARY,
            401: UNAUTHENTICATED,
            403: ANOTHER_CUSTOMERS_ORDER,
            404: NOT_FOUND,
        },
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"credit-notes/(?P<credit_note>[^/]+)",
        url_name="credit-note",
        content_negotiation_class=JSONOnlyNegotiation,
    )
    def credit_note(self, request, number=None, credit_note=None):
        order = self._documents_order()
        note = order_credit_notes(order=order).filter(number=credit_note).first()
        if note is None:
            raise Http404
        if request.query_params.get("format") == "pdf":
            return invoice_pdf_response(invoice=note)
        return Response(CreditNoteSerializer(note).data)

    @extend_schema(
        summary="Request a return of a delivered order's items",
        request=ReturnRequestInputSerializer,
        responses={
            201: ReturnSerializer,
            400: error("Invalid lines (validation_error), or return_window_closed"),
            401: UNAUTHENTICATED,
            403: ANOTHER_CUSTOMERS_ORDER,
            404: NOT_FOUND,
            409: error("The order is not delivered (return_not_allowed)"),
            429: THROTTLED,
        },
    )
    @action(detail=True, methods=["post"])
    def returns(self, request, number=None):
        order = self.get_object()  # another user's order is 404 whatever the body
        self._check_staff_path(order, "orders.add_returnrequest")
        serializer = ReturnRequestInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rr = request_return(
            order=order,
            user=request.user,
            lines=[dict(line) for line in serializer.validated_data["lines"]],
            reason=serializer.validated_data["reason"],
        )
        rr = returns_list().get(pk=rr.pk)
        return Response(ReturnSerializer(rr).data, status=201)


@extend_schema_view(
    list=extend_schema(
        summary="Return requests (staff)",
        parameters=[OpenApiParameter("status", enum=ReturnStatus.values, required=False)],
        responses={
            200: ReturnSerializer(many=True),
            400: VALIDATION,
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
        },
    ),
)
@extend_schema(tags=["orders"])
class ReturnViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = ReturnSerializer
    permission_classes = [HasStaffPermission, PasswordChangeNotRequired]
    required_permissions = {
        "list": ("orders.view_returnrequest",),
        "receive": ("orders.receive_return",),
        "reject": ("orders.receive_return",),
    }
    filter_backends: list = []
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        qs = returns_list()
        status = self.request.query_params.get("status")
        if status and self.action == "list":
            if status not in ReturnStatus.values:
                raise ValidationError({"status": [f"Unknown status: {status[:32]}."]})
            qs = qs.filter(status=status)
        return qs

    @extend_schema(
        summary="Receive returned items: restock, refund, credit note (staff)",
        request=None,
        responses={
            200: ReturnSerializer,
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: INVALID_TRANSITION,
            429: THROTTLED,
            503: error("Refund could not go through (payment_unavailable)"),
        },
    )
    @action(detail=True, methods=["post"])
    def receive(self, request, pk=None):
        rr = receive_return(return_request=self.get_object(), user=request.user)
        return Response(ReturnSerializer(returns_list().get(pk=rr.pk)).data)

    @extend_schema(
        summary="Reject a requested return with a reason, emailed to the customer (staff)",
        request=ReturnRejectInputSerializer,
        responses={
            200: ReturnSerializer,
            400: VALIDATION,
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: INVALID_TRANSITION,
            429: THROTTLED,
        },
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        serializer = ReturnRejectInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rr = reject_return(
            return_request=self.get_object(),
            user=request.user,
            reason=serializer.validated_data["reason"],
        )
        return Response(ReturnSerializer(returns_list().get(pk=rr.pk)).data)
