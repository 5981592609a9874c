from django.apps import AppConfig


class ShopConfig(AppConfig):
    """The project package as an app: it owns the production system checks."""

    name = "shop"
    verbose_name = "Shop"

    def ready(self) -> None:
        from shop import checks  # noqa: F401 - registers the checks
