from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ShopConfig(AppConfig):
    """The project package as an app: it owns the production system checks."""

    name = "shop"
    verbose_name = "Shop"

    def ready(self) -> None:
        from shop import checks  # noqa: F401 - registers the checks


class ShopAdminConfig(admin_apps.AdminConfig):
    """``django.contrib.admin`` with the back office's site (``shop.admin_site``)."""

    default = False  # "shop" itself is ShopConfig

    default_site = "shop.admin_site.ShopAdminSite"

    def ready(self) -> None:
        super().ready()
        from django.contrib import admin

        from shop.admin_site import tuck_away_library_tables

        tuck_away_library_tables(admin.site)
