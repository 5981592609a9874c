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

        # Stripe.js needs its origins in the CSP while the Stripe adapter is active; shop's
        # middleware may not import orders, so orders hands the sources over.
        from orders.payments.csp import payment_csp_sources
        from shop.middleware import register_csp_sources

        register_csp_sources(sources=payment_csp_sources)

        # The Stripe settings join the fail-closed production checks (registered on import).
        import orders.checks  # noqa: F401

        # Verified buyers for reviews and the best-selling summary (orders.catalog_hooks).
        from orders import catalog_hooks

        catalog_hooks.connect()
