"""The back office's admin site: branded from ``SHOP_NAME``, apps grouped by the staff's tasks.

Django's admin lists models per app; staff think in tasks. ``GROUPS`` maps each model to the
task it belongs to (Sales, Catalogue, Stock, Customers, Settings); a model that is not
listed falls back to its app's task, then to Settings. Tables that belong to libraries
(sign-in lock-outs, JWT blacklists, task results, thumbnail caches) are only shown to, and
only open for, superusers: they are for debugging, not for daily work.
"""

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminPasswordChangeForm
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.views import PasswordChangeView
from django.http import HttpRequest, HttpResponseBase
from django.urls import reverse

SALES, CATALOGUE, STOCK, CUSTOMERS, SETTINGS, LIBRARY = (
    "Sales",
    "Catalogue",
    "Stock",
    "Customers",
    "Settings",
    "Library tables (superusers)",
)
GROUP_ORDER = (SALES, CATALOGUE, STOCK, CUSTOMERS, SETTINGS, LIBRARY)

#: ``"app_label.Model"`` or ``"app_label"`` → task group. Most specific wins.
GROUPS: dict[str, str] = {
    "orders": SALES,
    "cart": SALES,
    "catalog": CATALOGUE,
    "inventory": STOCK,
    "accounts": CUSTOMERS,
    "notifications": CUSTOMERS,
    "auth": SETTINGS,
    # Prices the shop is configured with, and integrations: set up once, not daily work.
    "cart.ShippingZone": SETTINGS,
    "cart.ShippingMethod": SETTINGS,
    "cart.ShippingRate": SETTINGS,
    "cart.TaxRate": SETTINGS,
    "notifications.WebhookEndpoint": SETTINGS,
    "notifications.WebhookDelivery": SETTINGS,
    "notifications.WebhookAttempt": SETTINGS,
}
#: Models listed first in their group, in this order (the daily work first); others follow
#: alphabetically.
FIRST = (
    "orders.Order",
    "orders.ReturnRequest",
    "orders.PackingTask",
    "catalog.Product",
    "catalog.Variant",
    "inventory.StockItem",
    "accounts.User",
)
#: Apps whose tables are library internals: superusers only.
LIBRARY_APPS = frozenset(
    {"axes", "token_blacklist", "django_tasks_database", "easy_thumbnails", "sites"}
)


def group_of(*, app_label: str, object_name: str) -> str:
    """Return the task group a model is listed under."""
    if app_label in LIBRARY_APPS:
        return LIBRARY
    return GROUPS.get(f"{app_label}.{object_name}", GROUPS.get(app_label, SETTINGS))


def _position(model: dict) -> tuple[int, str]:
    label = model["_label"]
    return (FIRST.index(label) if label in FIRST else len(FIRST), str(model["name"]))


class ShopAdminSite(admin.AdminSite):
    """The admin with the shop's name and the task grouping (see module docstring)."""

    index_title = "Back office"
    #: The form of the admin's "change password" page; the accounts app sets its own (which
    #: also clears ``must_change_password``) from its admin module.
    password_change_form: type[PasswordChangeForm] | None = None

    def password_change(  # type: ignore[override]
        self, request: HttpRequest, extra_context=None
    ) -> HttpResponseBase:
        """The admin's password change page, with ``password_change_form`` (a redirect once
        the password is changed)."""
        request.current_app = self.name
        return PasswordChangeView.as_view(
            form_class=self.password_change_form or AdminPasswordChangeForm,
            success_url=reverse("admin:password_change_done", current_app=self.name),
            extra_context={**self.each_context(request), **(extra_context or {})},
        )(request)

    @property
    def site_header(self) -> str:  # type: ignore[override]
        return f"{settings.SHOP_NAME} back office"

    @property
    def site_title(self) -> str:  # type: ignore[override]
        return str(settings.SHOP_NAME)

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict]:
        apps = super().get_app_list(request, app_label)
        if app_label is not None:
            return apps
        grouped: dict[str, list[dict]] = {}
        for app in apps:
            for model in app["models"]:
                label = f"{app['app_label']}.{model['object_name']}"
                group = group_of(app_label=app["app_label"], object_name=model["object_name"])
                grouped.setdefault(group, []).append({**model, "_label": label})
        for models in grouped.values():
            models.sort(key=_position)
        return [
            {
                "name": group,
                "app_label": group.split(" ")[0].lower(),
                "app_url": "",
                "has_module_perms": True,
                "models": grouped[group],
            }
            for group in GROUP_ORDER
            if group in grouped
        ]


class SuperuserOnlyAdmin:
    """Mixin for library tables: nobody but a superuser sees or opens them."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request: HttpRequest, *args) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_active and request.user.is_superuser


def tuck_away_library_tables(site: admin.AdminSite) -> None:
    """Re-register every library model's admin with ``SuperuserOnlyAdmin`` in front."""
    for model, model_admin in list(site._registry.items()):
        if model._meta.app_label not in LIBRARY_APPS or isinstance(model_admin, SuperuserOnlyAdmin):
            continue
        cls = type(model_admin)
        site.unregister(model)
        site.register(model, type(f"SuperuserOnly{cls.__name__}", (SuperuserOnlyAdmin, cls), {}))
