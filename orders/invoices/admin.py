"""The PDF of an invoice or credit note in the admin.

``InvoicePdfAdminMixin`` gives the invoices admin (``orders.payments.admin.InvoiceAdmin``) a
"PDF" column and field, and the ``<pk>/pdf/`` view serving the document to staff holding
``orders.view_invoice``; the order workspace (``orders.admin``) links the same view.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html

from orders.invoices.pdf import invoice_pdf_response
from orders.models import Invoice

VIEW_PERMISSION = "orders.view_invoice"
PDF_URL_NAME = "orders_invoice_pdf"


def pdf_link(invoice: Invoice) -> str:
    """Return an HTML link to the admin's PDF of ``invoice``."""
    if not invoice.pk:
        return ""
    url = reverse(f"admin:{PDF_URL_NAME}", args=[invoice.pk])
    return format_html('<a href="{}">{}.pdf</a>', url, invoice.number)


class InvoicePdfAdminMixin:
    """Add the PDF view and link to an ``Invoice`` model admin."""

    admin_site: admin.AdminSite

    @admin.display(description="PDF")
    def pdf(self, invoice: Invoice) -> str:
        return pdf_link(invoice)

    def get_urls(self):
        pdf_view = self.admin_site.admin_view(self.pdf_view)
        return [path("<int:pk>/pdf/", pdf_view, name=PDF_URL_NAME), *super().get_urls()]  # type: ignore[misc]

    def pdf_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Serve the PDF of invoice or credit note ``pk`` to staff who may view invoices."""
        if not request.user.has_perm(VIEW_PERMISSION):
            raise PermissionDenied
        invoice = Invoice.objects.select_related("order").filter(pk=pk).first()
        if invoice is None:
            raise Http404
        return invoice_pdf_response(invoice=invoice)
