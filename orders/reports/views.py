"""The staff dashboard page (staff only): the figures of ``dashboard`` and the chart of
``charts``, inside the admin's frame."""

from decimal import Decimal

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

from orders.reports import charts, dashboard


def _admin_url(name: str, *args) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


@staff_member_required
@permission_required("orders.view_sales_dashboard", raise_exception=True)
def dashboard_view(request: HttpRequest) -> HttpResponse:
    """Render the staff dashboard (staff holding ``orders.view_sales_dashboard``; other staff
    get 403, everyone else goes to the admin sign-in)."""
    sales = dashboard.sales_by_day()
    orders = dashboard.packing_list()
    for order in orders:
        order.admin_url = _admin_url("admin:orders_order_change", order.pk)
    context = {
        **admin.site.each_context(request),
        "title": "Shop dashboard",
        "sales": sales,
        "bars": charts.revenue_bars(sales),
        "chart": charts.chart_frame(),
        "revenue_total": sum((s.revenue for s in sales), Decimal("0.00")),
        "orders_total": sum(s.orders for s in sales),
        "by_status": dashboard.orders_by_status(),
        "top_products": dashboard.top_products(),
        "low_stock": dashboard.low_stock(),
        "packing_list": orders,
        "days": dashboard.DAYS,
        "inventory_admin_url": _admin_url("admin:inventory_stockitem_changelist"),
    }
    return render(request, "admin/dashboard.html", context)
