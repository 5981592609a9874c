"""Exports for accounting: orders, customers and stock levels as CSV (streamed) or through
django-import-export's export page (CSV, XLSX)."""

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from accounts.roles import CATALOG_MANAGERS, CUSTOMER_SERVICE, FINANCE, FULFILMENT
from accounts.tests.factories import StaffUserFactory, UserFactory
from catalog.tests.factories import make_variant
from orders.lifecycle import cancel_order
from orders.tests.factories import fast_gateway, place  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_gateway")]


def streamed_rows(response) -> list[dict]:
    assert response.status_code == 200
    assert response.streaming
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_orders_stream_as_csv_with_money_net_of_refunds(client):
    client.force_login(StaffUserFactory(roles=[FINANCE]))
    kept = place()
    refunded = place()
    cancel_order(order=refunded, user=refunded.user)
    response = client.get(reverse("admin:orders_order_export_csv"))
    assert response["Content-Disposition"].startswith('attachment; filename="orders-')
    rows = {row["number"]: row for row in streamed_rows(response)}
    assert set(rows) == {kept.number, refunded.number}
    assert rows[kept.number]["customer_name"] == "Ada Lovelace"
    assert rows[kept.number]["city"] == "London"
    assert rows[kept.number]["net_total"] == f"{kept.total:.2f}"
    assert rows[refunded.number]["net_total"] == "0.00"


def test_orders_csv_follows_the_changelist_search(client):
    client.force_login(StaffUserFactory(roles=[FINANCE]))
    wanted = place(user=UserFactory(email="wanted@example.com"))
    place()
    response = client.get(reverse("admin:orders_order_export_csv"), {"q": "wanted@"})
    assert [row["number"] for row in streamed_rows(response)] == [wanted.number]


def test_customer_data_cannot_smuggle_spreadsheet_formulas(client):
    client.force_login(StaffUserFactory(roles=[CUSTOMER_SERVICE]))
    UserFactory(email="evil@example.com", first_name="=HYPERLINK(1)")
    rows = streamed_rows(client.get(reverse("admin:accounts_user_export_csv")))
    evil = next(row for row in rows if row["email"] == "evil@example.com")
    assert evil["first_name"] == "'=HYPERLINK(1)"
    assert "password" not in rows[0]


def test_orders_export_page_offers_xlsx(client):
    client.force_login(StaffUserFactory(roles=[FINANCE]))
    order = place()
    response = client.post(
        reverse("admin:orders_order_export"),
        {"format": "1", "resource": "0", "orderresource_number": "on", "orderresource_total": "on"},
    )
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == ["number", "total"]
    assert values[1][0] == order.number


def test_stock_levels_export_with_availability(client):
    client.force_login(StaffUserFactory(roles=[CATALOG_MANAGERS]))
    make_variant(sku="STK-1", on_hand=9)
    rows = streamed_rows(client.get(reverse("admin:inventory_stockitem_export_csv")))
    row = next(r for r in rows if r["sku"] == "STK-1")
    assert (row["on_hand"], row["allocated"], row["available"]) == ("9", "0", "9")


def test_exports_need_the_view_permission(client):
    client.force_login(StaffUserFactory(roles=[CATALOG_MANAGERS]))
    assert client.get(reverse("admin:orders_order_export_csv")).status_code == 403
    assert client.get(reverse("admin:accounts_user_export_csv")).status_code == 403
    client.force_login(StaffUserFactory(roles=[FULFILMENT]))
    assert client.get(reverse("admin:accounts_user_export_csv")).status_code == 403


def test_streamed_export_reads_in_a_constant_number_of_queries(
    client, django_assert_max_num_queries
):
    client.force_login(StaffUserFactory(roles=[FINANCE]))
    variant = make_variant(on_hand=50)
    for _ in range(6):
        place(items=[(variant, 1)])
    response = client.get(reverse("admin:orders_order_export_csv"))
    with django_assert_max_num_queries(3):
        rows = streamed_rows(response)
    assert len(rows) == 6
