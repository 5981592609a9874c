from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from cart import views

app_name = "cart"

urlpatterns = [
    path("", views.cart_detail, name="detail"),
    path("add/", views.cart_add, name="add"),
    path("lines/<int:line_id>/", views.line_update, name="line-update"),
    path("lines/<int:line_id>/remove/", views.line_remove, name="line-remove"),
    path(
        "reminders/opt-out/<str:token>/",
        csrf_exempt(views.reminder_opt_out),
        name="reminder-opt-out",
    ),
    path("voucher/", views.voucher_apply, name="voucher-apply"),
    path("voucher/remove/", views.voucher_remove, name="voucher-remove"),
]
