"""The shop's URLs plus the benchmark's ceiling page (served by the benchmark server only)."""

from django.shortcuts import render
from django.urls import path

from catalog.models import Product
from shop.urls import handler404, handler500
from shop.urls import urlpatterns as shop_urlpatterns

__all__ = ["handler404", "handler500", "urlpatterns"]


def ceiling(request):
    """Bare Django: a plain template rendering 20 product rows from one query.

    What Django itself costs for a page on this machine, through the same middleware,
    database and gunicorn as the shop's pages; the bench prints each page as a ratio of it.
    """
    products = Product.objects.only("name", "slug", "created_at").order_by("id")[:20]
    return render(request, "bench/ceiling.html", {"products": products})


urlpatterns = [path("bench/ceiling/", ceiling, name="bench-ceiling"), *shop_urlpatterns]
