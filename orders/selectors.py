"""Reads of orders shared by the API, the admin and the HTML pages."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Model, Prefetch, Q, QuerySet, Sum

from accounts.models import User
from accounts.roles import has_staff_permission
from catalog.selectors import first_image_name
from orders.models import Invoice, Order, OrderLine, OrderStatus, ReturnLine, ReturnRequest
from shop.money import money


def lines_with_images() -> QuerySet[OrderLine]:
    """Return order lines in order, each with ``product_image``: the storage name of its
    product's first image (``""`` if none), read in the same query (pages and emails show
    the product's photo)."""
    return OrderLine.objects.annotate(
        product_image=first_image_name(product_ref="variant__product_id")
    ).order_by("id")


def orders_with_details() -> QuerySet[Order]:
    """Return every order, newest first, with everything the order body needs prefetched.

    Callers narrow it (``orders_for``, or one guest order found by its token)."""
    return Order.objects.prefetch_related(
        "lines",
        "shipments",
        "events",
        Prefetch("invoices", queryset=Invoice.objects.only("id", "order_id", "kind", "number")),
    ).order_by("-created_at", "-id")


#: The related rows the order body reads (``orders_with_details`` prefetches them).
ORDER_DETAILS = ("lines", "shipments", "events", "invoices")


def attach_details(*, order: Order, **rows: Iterable[Model]) -> None:
    """Give ``order`` related rows just written, as ``orders_with_details`` prefetches them
    (``lines=[...]``, ``shipments=[]``, ...), so that reading them costs no query.

    Checkout writes every row of a new order in one transaction and answers with the order
    body: reading back what it has just written cost five queries per order. Only for rows
    the caller holds completely (all of the order's rows of that kind, in id order).
    """
    cache = order.__dict__.setdefault("_prefetched_objects_cache", {})
    for name, objs in rows.items():
        queryset = getattr(order, name).all()
        # What prefetch_related stores: a queryset whose results are already known.
        queryset._result_cache = list(objs)
        queryset._prefetch_done = True
        cache[name] = queryset


def with_details(*, order: Order, fetch: Callable[[], Order]) -> Order:
    """Return ``order`` if all of ``ORDER_DETAILS`` are attached to it, else ``fetch()``."""
    cache = getattr(order, "_prefetched_objects_cache", {})
    return order if all(name in cache for name in ORDER_DETAILS) else fetch()


def orders_for(*, user: User) -> QuerySet[Order]:
    """Return the orders ``user`` may see (staff with ``orders.view_order``: all; anyone else
    their own), newest first, with everything the order body needs prefetched (constant
    number of queries for any page size)."""
    qs = orders_with_details()
    if not has_staff_permission(user=user, permission="orders.view_order"):
        # A draft (staff still building it) is not the customer's order yet.
        qs = qs.filter(user=user).exclude(status=OrderStatus.DRAFT)
    return qs


def returns_list() -> QuerySet[ReturnRequest]:
    """Return every return request with its order and lines (staff)."""
    return ReturnRequest.objects.select_related("order").prefetch_related(
        Prefetch("lines", queryset=ReturnLine.objects.select_related("order_line"))
    )


@dataclass(frozen=True)
class CustomerSummary:
    """Who placed an order and what they have bought from us (the order page's panel)."""

    email: str
    name: str
    phone: str
    user: User | None
    other_orders: list[Order]
    order_count: int
    lifetime_value: Decimal


def customer_summary(*, order: Order, other_orders: int = 10) -> CustomerSummary:
    """Return the customer panel of ``order``: contact, their latest ``other_orders`` orders
    and their lifetime value (what they paid minus what was refunded, cancelled orders and
    drafts excluded), matched by account, or by email for a guest. Three queries."""
    same = Q(user_id=order.user_id) if order.user_id else Q(user=None, email__iexact=order.email)
    theirs = Order.objects.filter(same)
    totals = theirs.exclude(status__in=[OrderStatus.CANCELLED, OrderStatus.DRAFT]).aggregate(
        paid=Sum("total", default=Decimal(0)), refunded=Sum("refunded_total", default=Decimal(0))
    )
    address = order.shipping_address if isinstance(order.shipping_address, dict) else {}
    user = order.user if order.user_id else None
    name = (user.get_full_name() if user else "") or str(address.get("full_name", ""))
    return CustomerSummary(
        email=order.email,
        name=name,
        phone=str(address.get("phone", "")),
        user=user,
        other_orders=list(
            theirs.exclude(pk=order.pk).order_by("-created_at", "-id")[:other_orders]
        ),
        order_count=theirs.count(),
        lifetime_value=money(totals["paid"] - totals["refunded"]),
    )
