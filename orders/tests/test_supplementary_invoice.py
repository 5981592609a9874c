"""An edit that raises an order's total issues a supplementary invoice for the units added."""

import io
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from accounts.tests.factories import StaffUserFactory, UserFactory
from catalog.tests.factories import make_variant
from orders.editing.services import add_order_line, change_order_line
from orders.invoices.documents import document_for, order_invoice, order_supplementary_invoices
from orders.models import InvoiceKind, Payment, PaymentKind, PaymentResult
from orders.tests.factories import fast_gateway, place  # noqa: F401

pytestmark = pytest.mark.usefixtures("fast_gateway")


@pytest.fixture
def vat(db, settings):
    settings.SHOP_TAX_RATE = "0.20"  # the standard rate: an edit charges tax at it


@pytest.fixture
def lamp(db):
    return make_variant(sku="LAMP-1", on_hand=10, price=Decimal("20.00"))


@pytest.fixture
def mug(db):
    return make_variant(sku="MUG-1", on_hand=10, price=Decimal("7.50"))


@pytest.fixture
def edited(vat, lamp, mug):
    order = place(user=UserFactory(), items=[(lamp, 2)])
    return add_order_line(
        order=order, sku="MUG-1", quantity=2, user=StaffUserFactory(), payment_token="tok_x"
    )


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_an_edit_that_charges_more_issues_an_invoice_for_the_units_added(edited):
    first, extra = edited.invoices.filter(kind=InvoiceKind.INVOICE).order_by("sequence")
    charge = Payment.objects.get(
        order=edited, reference=f"{edited.number}-E1", result=PaymentResult.SUCCEEDED
    )
    assert extra.sequence == first.sequence + 1  # the invoices' own gapless numbering
    assert extra.total == charge.amount
    assert extra.total + first.total == edited.total  # the customer holds what they paid
    assert extra.tax_rate == first.tax_rate == Decimal("0.2000")
    assert (extra.subtotal, extra.tax_total, extra.shipping_total) == (
        Decimal("15.00"),
        Decimal("3.00"),
        Decimal("0.00"),
    )
    (line,) = extra.lines
    assert (line["sku"], line["quantity"], line["unit_price"], line["line_total"]) == (
        "MUG-1",
        2,
        "7.50",
        "15.00",
    )
    assert (line["tax"], line["tax_rate"]) == ("3.00", "0.2000")
    # The order's invoice is still the first; the document names it.
    assert order_invoice(order=edited) == first
    assert list(order_supplementary_invoices(order=edited)) == [extra]
    doc = document_for(invoice=extra)
    assert (doc.title, doc.supplements, doc.refers_to) == (
        "Supplementary invoice",
        first.number,
        "",
    )


def test_raising_a_quantity_invoices_only_the_units_added(vat, lamp):
    order = place(user=UserFactory(), items=[(lamp, 2)])
    order = change_order_line(
        order=order, sku="LAMP-1", quantity=5, user=StaffUserFactory(), payment_token="tok_x"
    )
    extra = order_supplementary_invoices(order=order).get()
    (line,) = extra.lines
    assert (line["quantity"], line["line_total"]) == (3, "60.00")
    assert extra.total == Decimal("72.00")


def test_an_edit_that_lowers_the_total_issues_no_invoice(edited):
    change_order_line(order=edited, sku="MUG-1", quantity=1, user=StaffUserFactory())
    assert order_supplementary_invoices(order=edited).count() == 1  # the earlier increase's
    assert edited.invoices.filter(kind=InvoiceKind.CREDIT_NOTE).count() == 1


def test_the_customer_s_order_page_links_its_pdf_and_nobody_else_gets_it(
    edited, django_assert_max_num_queries
):
    extra = order_supplementary_invoices(order=edited).get()
    client = Client()
    client.force_login(edited.user)
    url = reverse("orders:supplementary-invoice-pdf", args=[edited.number, extra.number])
    page = client.get(f"/orders/{edited.number}/").content.decode()
    assert url in page
    assert f"/orders/{edited.number}/invoice/pdf/" in page  # the first invoice, as before
    with django_assert_max_num_queries(9):
        response = client.get(url)
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert f"Supplementary invoice number: {extra.number}" in text
    assert f"Supplements invoice: {order_invoice(order=edited).number}" in text
    first = order_invoice(order=edited).number
    assert client.get(f"/orders/{edited.number}/invoices/{first}/pdf/").status_code == 404
    stranger = Client()
    stranger.force_login(UserFactory())
    assert stranger.get(url).status_code == 404


def test_the_admin_workspace_lists_it_with_its_pdf(edited, client):
    extra = order_supplementary_invoices(order=edited).get()
    client.force_login(StaffUserFactory())
    page = client.get(reverse("admin:orders_order_change", args=[edited.pk])).content.decode()
    assert f"Supplementary invoice {extra.number}" in page
    assert reverse("admin:orders_invoice_pdf", args=[extra.pk]) in page


def test_charges_and_invoices_agree_after_several_edits(vat, lamp, mug):
    order = place(user=UserFactory(), items=[(lamp, 1)])
    staff = StaffUserFactory()
    order = add_order_line(order=order, sku="MUG-1", quantity=1, user=staff, payment_token="tok_x")
    order = add_order_line(order=order, sku="LAMP-1", quantity=1, user=staff, payment_token="tok_x")
    invoiced = sum(i.total for i in order.invoices.filter(kind=InvoiceKind.INVOICE))
    charged = sum(
        p.amount
        for p in Payment.objects.filter(
            order=order, kind=PaymentKind.CHARGE, result=PaymentResult.SUCCEEDED
        )
    )
    assert invoiced == charged == order.total
