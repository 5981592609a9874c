"""Invoices and credit notes in the admin: read-only records with a link to their PDF.

``InvoiceAdmin`` lists every invoice and credit note (never added, changed or deleted here:
they are financial records) and serves ``<pk>/pdf/`` to staff holding
``orders.view_invoice``; ``InvoiceInline`` shows an order's documents on its page with the
same links. Registered on import by ``orders.admin``.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html

from orders.invoices.pdf import invoice_pdf_response
from orders.models import Invoice

VIEW_PERMISSION = "orders.view_invoice"


def pdf_link(invoice: Invoice) -> str:
    """Return an HTML link to the admin's PDF of ``invoice``."""
    if not invoice.pk:
        return ""
    url = reverse("admin:orders_invoice_pdf", args=[invoice.pk])
    return format_html('<a href="{}">{}.pdf</a>', url, invoice.number)


class InvoiceInline(admin.TabularInline):
    model = Invoice
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ["number", "kind", "issued_at", "total", "currency", "pdf"]
    readonly_fields = fields
    ordering = ["issued_at", "id"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="PDF")
    def pdf(self, invoice: Invoice) -> str:
        return pdf_link(invoice)


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = ["number", "kind", "order", "total", "currency", "issued_at", "pdf"]
    list_filter = ["kind", "issued_at"]
    search_fields = ["number", "order__number", "order__email"]
    list_select_related = ["order"]
    date_hierarchy = "issued_at"
    raw_id_fields = ["order"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Invoice._meta.fields] + ["pdf"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="PDF")
    def pdf(self, invoice: Invoice) -> str:
        return pdf_link(invoice)

    def get_urls(self):
        pdf_view = self.admin_site.admin_view(self.pdf_view)
        return [path("<int:pk>/pdf/", pdf_view, name="orders_invoice_pdf"), *super().get_urls()]

    def pdf_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Serve the PDF of invoice or credit note ``pk`` to staff who may view invoices."""
        if not request.user.has_perm(VIEW_PERMISSION):
            raise PermissionDenied
        invoice = Invoice.objects.select_related("order").filter(pk=pk).first()
        if invoice is None:
            raise Http404
        return invoice_pdf_response(invoice=invoice)
