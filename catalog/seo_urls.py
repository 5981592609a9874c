"""``/sitemap.xml`` and ``/robots.txt`` (names ``sitemap`` and ``robots``, no namespace)."""

from django.contrib.sitemaps.views import sitemap
from django.urls import path

from catalog.seo import SITEMAPS, robots_txt

urlpatterns = [
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("robots.txt", robots_txt, name="robots"),
]
