"""Reads of orders shared by the API, the admin and the HTML pages."""

from django.db.models import Prefetch, QuerySet

from accounts.models import User
from accounts.roles import has_staff_permission
from catalog.selectors import first_image_name
from orders.models import Invoice, Order, OrderLine, ReturnLine, ReturnRequest


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


def orders_for(*, user: User) -> QuerySet[Order]:
    """Return the orders ``user`` may see (staff with ``orders.view_order``: all; anyone else
    their own), newest first, with everything the order body needs prefetched (constant
    number of queries for any page size)."""
    qs = orders_with_details()
    if not has_staff_permission(user=user, permission="orders.view_order"):
        qs = qs.filter(user=user)
    return qs


def returns_list() -> QuerySet[ReturnRequest]:
    """Return every return request with its order and lines (staff)."""
    return ReturnRequest.objects.select_related("order").prefetch_related(
        Prefetch("lines", queryset=ReturnLine.objects.select_related("order_line"))
    )
