from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.home, name="home"),
    path("c/<slug:slug>/", views.category_page, name="category"),
    path("search/", views.search, name="search"),
    path("search/suggest/", views.search_suggestions, name="suggest"),
    path("p/<slug:slug>/", views.product_page, name="product"),
    path("p/<slug:slug>/reviews/", views.review_product, name="review"),
    path("wishlist/", views.wishlist_page, name="wishlist"),
    path("alerts/", views.stock_alert_subscribe, name="alert-subscribe"),
    path(
        "alerts/unsubscribe/<str:token>/",
        csrf_exempt(views.stock_alert_unsubscribe),
        name="alert-unsubscribe",
    ),
    path("wishlist/<slug:slug>/toggle/", views.wishlist_toggle, name="wishlist-toggle"),
]
