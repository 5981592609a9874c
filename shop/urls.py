from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from shop import views
from shop.api.health import health, ping
from shop.media import media_urlpatterns

api_v1 = [
    path("", include("accounts.api.urls")),
    path("", include("catalog.api.urls")),
    path("", include("inventory.api.urls")),
    path("", include("cart.api.urls")),
    path("", include("orders.api.urls")),
    path("", include("orders.payments.urls")),
    path("", include("notifications.webhooks.api.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/health/", health, name="health"),
    path("api/ping/", ping, name="ping"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    path("api/v1/", include(api_v1)),
    path("api/", views.api_not_found),
    path("api/<path:rest>", views.api_not_found),
    path("accounts/", include("accounts.urls")),
    path("cart/", include("cart.urls")),
    path("", include("orders.urls")),
    path("", include("catalog.urls")),
    # Uploaded images, while they are on local disk (DEBUG or not; see shop.media).
    *media_urlpatterns(),
]

handler404 = "shop.views.page_not_found"
handler500 = "shop.views.server_error"
