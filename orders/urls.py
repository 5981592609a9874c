from django.urls import path

from orders import views
from orders.checkout import views as checkout_views
from orders.drafts import views as draft_views
from orders.editing import views as editing_views
from orders.reports import views as report_views
from orders.returns import views as return_views

app_name = "orders"

urlpatterns = [
    path("checkout/", checkout_views.checkout, name="checkout"),
    path("checkout/guest/", checkout_views.guest_start, name="checkout-guest"),
    path("checkout/done/<str:number>/", checkout_views.confirmation, name="confirmation"),
    path(
        "checkout/done/<str:number>/account/",
        checkout_views.create_account,
        name="confirmation-account",
    ),
    path("orders/", views.order_list, name="list"),
    path("orders/<str:number>/", views.order_detail, name="detail"),
    path("orders/<str:number>/cancel/", views.order_cancel, name="cancel"),
    path("orders/<str:number>/invoice/", views.order_invoice, name="invoice"),
    path("orders/<str:number>/invoice/pdf/", views.order_invoice_pdf, name="invoice-pdf"),
    path(
        "orders/<str:number>/invoices/<str:invoice>/pdf/",
        views.order_supplementary_invoice_pdf,
        name="supplementary-invoice-pdf",
    ),
    path(
        "orders/<str:number>/credit-notes/<str:credit_note>/pdf/",
        views.order_credit_note_pdf,
        name="credit-note-pdf",
    ),
    path("orders/<str:number>/returns/", return_views.order_return, name="return"),
    path("orders/<str:number>/pay/", draft_views.pay_view, name="pay"),
    path("staff/dashboard/", report_views.dashboard_view, name="staff-dashboard"),
    path("staff/orders/<str:number>/edit/", editing_views.edit_order_view, name="staff-edit"),
    path("staff/orders/drafts/new/", draft_views.new_draft_view, name="staff-draft-new"),
    path("staff/orders/<str:number>/draft/", draft_views.draft_view, name="staff-draft"),
]
