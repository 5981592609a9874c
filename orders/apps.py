from django.apps import AppConfig


class OrdersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "orders"

    def ready(self) -> None:
        # The cart runs this when a shopper touches a cart whose checkout is stale; cart may
        # not import orders, so orders hands it over.
        from cart.checkout import register_stale_checkout_recovery
        from orders.checkout.recovery import recover_stale_checkout

        register_stale_checkout_recovery(recovery=recover_stale_checkout)

        # Verified buyers for reviews and the best-selling summary (orders.catalog_hooks).
        from orders import catalog_hooks

        catalog_hooks.connect()
