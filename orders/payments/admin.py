"""Payments, invoices and credit notes in the back office: read-only records.

Financial records are never deleted or edited in place (corrections are new records, such as a
credit note), so these admins only list and show them.
"""

from django.contrib import admin
from django.http import HttpRequest

from orders.invoices.admin import InvoicePdfAdminMixin
from orders.models import Invoice, Payment


class FinancialRecordAdmin(admin.ModelAdmin):
    """View only: no add, change or delete for anyone, superusers included."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(FinancialRecordAdmin):
    list_display = ["created_at", "order", "kind", "result", "money", "gateway", "reference"]
    list_filter = ["kind", "result", "gateway"]
    search_fields = ["order__number", "reference", "gateway_transaction_id"]
    list_select_related = ["order"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    @admin.display(description="amount", ordering="amount")
    def money(self, obj: Payment) -> str:
        return f"{obj.amount:,.2f} {obj.currency}"


@admin.register(Invoice)
class InvoiceAdmin(InvoicePdfAdminMixin, FinancialRecordAdmin):
    """Invoices (issued at placement) and credit notes (issued with each refund), each with
    a link to its PDF."""

    list_display = ["number", "kind", "order", "money", "issued_at", "pdf"]
    readonly_fields = ["pdf"]
    list_filter = ["kind"]
    search_fields = ["number", "order__number", "order__email"]
    list_select_related = ["order"]
    date_hierarchy = "issued_at"
    show_full_result_count = False

    @admin.display(description="total", ordering="total")
    def money(self, obj: Invoice) -> str:
        return f"{obj.total:,.2f} {obj.currency}"
