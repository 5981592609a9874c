from django.urls import path

from orders import views
from orders.reports import dashboard

app_name = "orders"

urlpatterns = [
    path("checkout/", views.checkout, name="checkout"),
    path("checkout/done/<str:number>/", views.confirmation, name="confirmation"),
    path("orders/", views.order_list, name="list"),
    path("orders/<str:number>/", views.order_detail, name="detail"),
    path("orders/<str:number>/cancel/", views.order_cancel, name="cancel"),
    path("orders/<str:number>/returns/", views.order_return, name="return"),
    path("staff/dashboard/", dashboard.dashboard_view, name="staff-dashboard"),
]
