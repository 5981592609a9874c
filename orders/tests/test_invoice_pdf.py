"""PDF invoices and credit notes: what they say (read back with pypdf), who may get them, and
that rendering fetches nothing but our static files."""

import io
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader
from rest_framework.test import APIClient

from accounts.tests.factories import StaffUserFactory, UserFactory
from catalog.tests.factories import make_variant
from orders.invoices.documents import invoice_document, order_invoice
from orders.invoices.pdf import (
    BASE_URL,
    ResourceRefused,
    StaticFilesFetcher,
    html_to_pdf,
    invoice_pdf_response,
    render_document_pdf,
    static_file_path,
)
from orders.lifecycle import cancel_order
from orders.models import Invoice, InvoiceKind
from orders.tests.factories import fast_gateway, place  # noqa: F401 (fixture)

pytestmark = pytest.mark.usefixtures("fast_gateway", "legal_identity")

ORDERS = "/api/v1/orders/"


@pytest.fixture
def legal_identity(settings):
    settings.SHOP_LEGAL_NAME = "Analytical Goods Ltd"
    settings.SHOP_LEGAL_ADDRESS = "7 Engine Street, London EC1A 1BB, United Kingdom"
    settings.SHOP_TAX_ID = "GB987654321"
    settings.SHOP_TIME_ZONE = "Europe/Berlin"


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture
def order(db):
    user = UserFactory()
    items = [
        (make_variant(on_hand=10, price=Decimal("19.99"), sku="PDF-MUG"), 3),
        (make_variant(on_hand=10, price=Decimal("7.35"), sku="PDF-PEN"), 1),
    ]
    return place(user=user, items=items)


def test_the_invoice_pdf_shows_seller_buyer_lines_and_totals_to_the_cent(order):
    invoice = order_invoice(order=order)
    client = APIClient()
    client.force_authenticate(order.user)

    response = client.get(f"{ORDERS}{order.number}/invoice/", {"format": "pdf"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="{invoice.number}.pdf"'
    text = pdf_text(response.content)
    for expected in (
        "Analytical Goods Ltd",
        "7 Engine Street",
        "London EC1A 1BB",
        "Tax ID: GB987654321",
        "Ada Lovelace",
        "1 Analytical Way",
        "N1 9GU London",
        f"Invoice number: {invoice.number}",
        f"Order: {order.number}",
        "PDF-MUG",
        "PDF-PEN",
        "19.99",
        "59.97",
        "7.35",
    ):
        assert expected in text, expected
    assert re.search(rf"Subtotal\s*{order.subtotal} {order.currency}", text)
    assert re.search(rf"Shipping\s*{order.shipping_total} {order.currency}", text)
    assert re.search(rf"Total\s*{order.total} {order.currency}", text)
    assert order.subtotal == Decimal("67.32")


def test_the_invoice_date_is_the_shop_time_zone_s(order, settings):
    invoice = order_invoice(order=order)
    Invoice.objects.filter(pk=invoice.pk).update(
        issued_at="2026-03-01T23:30:00+00:00"  # 00:30 on 2 March in Berlin
    )
    invoice.refresh_from_db()
    assert invoice_document(invoice=invoice).issued_on == "2026-03-02"
    settings.SHOP_TIME_ZONE = "America/New_York"
    assert invoice_document(invoice=invoice).issued_on == "2026-03-01"


def test_discount_and_tax_per_rate_are_rendered_when_the_record_holds_them(order):
    invoice = order_invoice(order=order)
    lines = [dict(line) for line in invoice.lines]
    lines[0]["discount"] = "6.00"
    Invoice.objects.filter(pk=invoice.pk).update(lines=lines)
    invoice.refresh_from_db()
    invoice.tax_breakdown = [  # what pricing adds: the tax per rate
        {"rate": "0.2000", "base": "53.97", "tax": "10.79"},
        {"rate": "0.0500", "base": "7.35", "tax": "0.37"},
    ]

    document = invoice_document(invoice=invoice)

    assert document.discount == Decimal("6.00")
    assert [(t.percent, t.tax) for t in document.taxes] == [
        ("20", Decimal("10.79")),
        ("5", Decimal("0.37")),
    ]
    text = pdf_text(render_document_pdf(document=document))
    assert re.search(r"Discount\s*-6.00", text)
    assert "Tax 20% on 53.97" in text
    assert "Tax 5% on 7.35" in text
    assert "10.79" in text
    assert "0.37" in text


def test_an_invoice_without_discount_has_no_discount_row(order):
    pdf = invoice_pdf_response(invoice=order_invoice(order=order)).content
    assert "Discount" not in pdf_text(pdf)


def test_a_credit_note_lists_json_and_renders_a_pdf_naming_the_invoice(order):
    cancel_order(order=order, user=order.user)
    note = order.invoices.get(kind=InvoiceKind.CREDIT_NOTE)
    invoice = order_invoice(order=order)
    client = APIClient()
    client.force_authenticate(order.user)

    listing = client.get(f"{ORDERS}{order.number}/credit-notes/")

    assert listing.status_code == 200
    body = listing.json()
    assert [n["number"] for n in body] == [note.number]
    assert body[0]["totals"]["total"] == f"{order.total}"
    pdf_url = body[0]["pdf_url"]
    assert pdf_url == f"{ORDERS}{order.number}/credit-notes/{note.number}/?format=pdf"
    detail = client.get(f"{ORDERS}{order.number}/credit-notes/{note.number}/")
    assert (detail.status_code, detail.json()["number"]) == (200, note.number)

    response = client.get(pdf_url)

    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="{note.number}.pdf"'
    text = pdf_text(response.content)
    assert f"Credit note number: {note.number}" in text
    assert f"Corrects invoice: {invoice.number}" in text
    assert re.search(rf"Total credited\s*{note.total} {note.currency}", text)


def test_unknown_credit_notes_and_other_users_orders_are_404(order):
    cancel_order(order=order, user=order.user)
    note = order.invoices.get(kind=InvoiceKind.CREDIT_NOTE)
    client = APIClient()
    client.force_authenticate(order.user)
    assert client.get(f"{ORDERS}{order.number}/credit-notes/CN-999999/").status_code == 404
    invoice = order_invoice(order=order)
    # An invoice number is not a credit note.
    assert client.get(f"{ORDERS}{order.number}/credit-notes/{invoice.number}/").status_code == 404

    stranger = APIClient()
    stranger.force_authenticate(UserFactory())
    for url in (
        f"{ORDERS}{order.number}/invoice/?format=pdf",
        f"{ORDERS}{order.number}/credit-notes/",
        f"{ORDERS}{order.number}/credit-notes/{note.number}/?format=pdf",
    ):
        assert stranger.get(url).status_code == 404, url
        assert APIClient().get(url).status_code == 404, url
    html = Client()
    html.force_login(UserFactory())
    assert html.get(f"/orders/{order.number}/invoice/pdf/").status_code == 404
    assert html.get(f"/orders/{order.number}/credit-notes/{note.number}/pdf/").status_code == 404


def test_staff_need_the_view_invoice_permission_for_another_customer_s_pdf(order):
    cancel_order(order=order, user=order.user)
    note = order.invoices.get(kind=InvoiceKind.CREDIT_NOTE)
    urls = [
        f"{ORDERS}{order.number}/invoice/?format=pdf",
        f"{ORDERS}{order.number}/credit-notes/",
        f"{ORDERS}{order.number}/credit-notes/{note.number}/?format=pdf",
    ]
    fulfilment, customer_service = APIClient(), APIClient()
    fulfilment.force_authenticate(StaffUserFactory(roles=["Fulfilment"]))
    customer_service.force_authenticate(StaffUserFactory(roles=["Customer service"]))
    for url in urls:
        denied = fulfilment.get(url)
        assert (denied.status_code, denied.json()["code"]) == (403, "permission_denied")
        assert customer_service.get(url).status_code == 200


def test_the_order_page_links_the_pdfs_and_they_open_in_constant_queries(
    order, django_assert_max_num_queries
):
    cancel_order(order=order, user=order.user)
    note = order.invoices.get(kind=InvoiceKind.CREDIT_NOTE)
    client = Client()
    client.force_login(order.user)

    page = client.get(f"/orders/{order.number}/").content.decode()

    assert f"/orders/{order.number}/invoice/pdf/" in page
    assert f"/orders/{order.number}/credit-notes/{note.number}/pdf/" in page
    with django_assert_max_num_queries(8):
        response = client.get(f"/orders/{order.number}/invoice/pdf/")
    assert response["Content-Type"] == "application/pdf"
    with django_assert_max_num_queries(8):
        response = client.get(f"/orders/{order.number}/credit-notes/{note.number}/pdf/")
    assert f"Credit note number: {note.number}" in pdf_text(response.content)


def test_a_member_s_anonymous_click_is_asked_to_sign_in(order):
    response = Client().get(f"/orders/{order.number}/invoice/pdf/")
    assert response.status_code == 302
    assert "/login" in response["Location"]


def test_static_fetcher_serves_our_stylesheet_and_refuses_everything_else():
    path = static_file_path(f"{BASE_URL}static/orders/invoice_pdf.css")
    assert path.name == "invoice_pdf.css"
    fetched = StaticFilesFetcher().fetch(f"{BASE_URL}static/orders/invoice_pdf.css")
    assert b"Liberation Sans" in fetched.read()
    for url in (
        "http://127.0.0.1:9/static/orders/invoice_pdf.css",
        "https://example.com/logo.png",
        "file:///etc/passwd",
        f"{BASE_URL}static/../shop/settings/base.py",
        f"{BASE_URL}media/secret.png",
        f"{BASE_URL}static/orders/no-such-file.css",
    ):
        with pytest.raises(ResourceRefused):
            static_file_path(url)


def test_rendering_never_opens_a_connection_for_outside_resources():
    """An outside image is skipped (the fetcher refuses it) and the PDF still renders."""
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.2)
    port = server.getsockname()[1]
    try:
        pdf = html_to_pdf(html=f'<p>Hello</p><img src="http://127.0.0.1:{port}/x.png">')
        with pytest.raises(TimeoutError):
            server.accept()
    finally:
        server.close()
    assert "Hello" in pdf_text(pdf)


@pytest.fixture
def guest(db):
    """A guest's placed order and its order token."""
    from cart.services import add_item, get_cart_for
    from orders.checkout.services import place_guest_order
    from orders.tests.factories import ADDRESS

    cart = get_cart_for(user=None, create=True)
    add_item(cart=cart, sku=make_variant(on_hand=5, price=Decimal("12.40")).sku, quantity=2)
    return place_guest_order(
        email="guest@example.com",
        cart=cart,
        shipping_address=dict(ADDRESS),
        payment_token="tok_success",
    )


def test_a_guest_gets_the_pdfs_with_the_order_token_and_nobody_without(guest):
    order, token = guest.order, guest.order_token
    cancel_order(order=order, user=None)
    note = order.invoices.get(kind=InvoiceKind.CREDIT_NOTE)
    api = APIClient()
    for url in (
        f"{ORDERS}{order.number}/invoice/?format=pdf",
        f"{ORDERS}{order.number}/credit-notes/{note.number}/?format=pdf",
    ):
        assert api.get(url, HTTP_X_ORDER_TOKEN=token)["Content-Type"] == "application/pdf"
        assert api.get(url).status_code == 404
        assert api.get(url, HTTP_X_ORDER_TOKEN="x" * 43).status_code == 404
    listing = api.get(f"{ORDERS}{order.number}/credit-notes/", HTTP_X_ORDER_TOKEN=token)
    assert [n["number"] for n in listing.json()] == [note.number]

    browser = Client()
    pdf_path = f"/orders/{order.number}/invoice/pdf/"
    assert browser.get(pdf_path).status_code == 404
    assert browser.get(pdf_path, {"token": "x" * 43}).status_code == 404
    link = browser.get(pdf_path, {"token": token})  # the email's link
    assert (link.status_code, link["Location"]) == (302, pdf_path)
    response = browser.get(pdf_path)
    assert response["Content-Type"] == "application/pdf"
    assert "guest@example.com" in pdf_text(response.content)
    note_pdf = browser.get(f"/orders/{order.number}/credit-notes/{note.number}/pdf/")
    assert note_pdf["Content-Type"] == "application/pdf"


def test_the_confirmation_email_links_the_invoice_pdf(db, django_capture_on_commit_callbacks):
    from django.core import mail

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        order = place(user=UserFactory())
    [message] = [m for m in mail.outbox if order.number in m.subject]
    link = f"/orders/{order.number}/invoice/pdf/"
    assert f"Your invoice (PDF): http://127.0.0.1:8000{link}\n" in message.body
    html = message.alternatives[0][0]
    assert f'{link}"' in html
    assert "Download your invoice (PDF)" in html
    assert not message.attachments


def test_a_guest_s_confirmation_email_links_the_pdf_with_the_token(
    db, django_capture_on_commit_callbacks
):
    from django.core import mail

    from cart.services import add_item, get_cart_for
    from orders.checkout.services import place_guest_order
    from orders.tests.factories import ADDRESS

    cart = get_cart_for(user=None, create=True)
    add_item(cart=cart, sku=make_variant(on_hand=5, price=Decimal("3.00")).sku, quantity=1)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        placed = place_guest_order(
            email="g@example.com",
            cart=cart,
            shipping_address=dict(ADDRESS),
            payment_token="tok_success",
        )
    [message] = [m for m in mail.outbox if placed.order.number in m.subject]
    url = re.search(r"Your invoice \(PDF\): (\S+)", message.body)[1]
    path = url.split("://", 1)[1].split("/", 1)[1]
    browser = Client()
    browser.get("/" + path)
    response = browser.get(f"/orders/{placed.order.number}/invoice/pdf/")
    assert response["Content-Type"] == "application/pdf"


def test_the_admin_links_the_pdfs_on_the_order_and_credit_note_pages(order, client):
    cancel_order(order=order, user=order.user)
    invoice = order_invoice(order=order)
    note = order.invoices.get(kind=InvoiceKind.CREDIT_NOTE)
    client.force_login(StaffUserFactory(roles=["Customer service"]))

    order_page = client.get(reverse("admin:orders_order_change", args=[order.pk]))
    note_page = client.get(reverse("admin:orders_invoice_change", args=[note.pk]))
    listing = client.get(reverse("admin:orders_invoice_changelist"), {"q": order.number})

    invoice_pdf = reverse("admin:orders_invoice_pdf", args=[invoice.pk])
    note_pdf = reverse("admin:orders_invoice_pdf", args=[note.pk])
    assert invoice_pdf in order_page.content.decode()
    assert note_pdf in order_page.content.decode()
    assert note_pdf in note_page.content.decode()
    assert invoice_pdf in listing.content.decode()
    response = client.get(note_pdf)
    assert response["Content-Type"] == "application/pdf"
    assert f"Credit note number: {note.number}" in pdf_text(response.content)
    assert client.get(reverse("admin:orders_invoice_pdf", args=[10**9])).status_code == 404


def test_the_admin_pdf_needs_the_view_invoice_permission(order, client):
    invoice = order_invoice(order=order)
    client.force_login(StaffUserFactory(roles=["Fulfilment"]))
    assert client.get(reverse("admin:orders_invoice_pdf", args=[invoice.pk])).status_code == 403


def _figure(text: str, label: str) -> Decimal:
    match = re.search(rf"^{label}\s*(-?\d+\.\d\d) [A-Z]{{3}}$", text, flags=re.MULTILINE)
    assert match, f"{label} not found in:\n{text}"
    return Decimal(match[1])


def test_the_pdf_shows_the_order_s_figures_to_the_cent_over_many_random_carts(settings):
    import random

    settings.SHOP_TAX_RATE = "0.2"
    rng = random.Random(14)  # noqa: S311 (test data)
    for cart_number in range(8):
        items = [
            (
                make_variant(
                    on_hand=50,
                    price=Decimal(rng.randint(1, 9999)) / 100,
                    sku=f"RND-{cart_number}-{index}",
                ),
                rng.randint(1, 7),
            )
            for index in range(rng.randint(1, 4))
        ]
        order = place(items=items)
        text = pdf_text(invoice_pdf_response(invoice=order_invoice(order=order)).content)
        assert _figure(text, "Subtotal") == order.subtotal
        assert _figure(text, "Shipping") == order.shipping_total
        # One tax row per rate ("Tax 20% on 172.74"); with a single rate it is the total.
        assert _figure(text, r"Tax(?: [\d.]+%)?(?: on [\d.]+)?") == order.tax_total
        assert _figure(text, "Total") == order.total
        assert order.subtotal + order.shipping_total + order.tax_total == order.total
        for line in order.lines.all():
            assert f"{line.sku}" in text
            assert f"{line.line_total}" in text


def test_listing_credit_notes_takes_constant_queries(order):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from orders.invoices.services import issue_credit_note

    client = APIClient()
    client.force_authenticate(order.user)
    url = f"{ORDERS}{order.number}/credit-notes/"
    line = {"sku": "", "description": "Goodwill", "quantity": 1}
    queries = []
    for count in (1, 4):
        while order.invoices.filter(kind=InvoiceKind.CREDIT_NOTE).count() < count:
            issue_credit_note(
                order=order,
                lines=[{**line, "unit_price": "1.00", "line_total": "1.00"}],
                subtotal=Decimal("1.00"),
                shipping_total=Decimal("0"),
                tax_total=Decimal("0"),
                total=Decimal("1.00"),
            )
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert len(response.json()) == count
        queries.append(len(captured))
    assert queries[0] == queries[1], queries


def test_the_printable_page_reads_the_same_document_as_the_pdf(order, settings):
    settings.SHOP_TAX_RATE = "0.2"
    client = Client()
    client.force_login(order.user)
    invoice = order_invoice(order=order)

    page = client.get(f"/orders/{order.number}/invoice/").content.decode()

    assert "Analytical Goods Ltd" in page
    assert "Tax ID: GB987654321" in page
    assert f'href="/orders/{order.number}/invoice/pdf/"' in page
    assert f'id="invoice-total">{order.total} {order.currency}<' in page
    assert invoice.number in pdf_text(client.get(f"/orders/{order.number}/invoice/pdf/").content)
