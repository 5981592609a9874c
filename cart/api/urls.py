from django.urls import path
from rest_framework.routers import SimpleRouter

from cart.api import views
from cart.pricing.api import VoucherViewSet

router = SimpleRouter()
router.register("vouchers", VoucherViewSet, basename="voucher")

urlpatterns = [
    path("cart/", views.CartDetailView.as_view(), name="api-cart"),
    path("cart/items/", views.CartItemsView.as_view(), name="api-cart-items"),
    path("cart/items/<str:line_id>/", views.CartItemView.as_view(), name="api-cart-item"),
    path("cart/merge/", views.CartMergeView.as_view(), name="api-cart-merge"),
    path("cart/reserve/", views.CartReserveView.as_view(), name="api-cart-reserve"),
    path("cart/voucher/", views.CartVoucherView.as_view(), name="api-cart-voucher"),
    path("shipping-methods/", views.ShippingMethodsView.as_view(), name="api-shipping-methods"),
]
urlpatterns += router.urls
