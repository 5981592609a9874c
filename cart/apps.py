from django.apps import AppConfig


class CartConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "cart"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from cart import receivers

        user_logged_in.connect(
            receivers.merge_cart_after_login, dispatch_uid="cart.merge_cart_after_login"
        )
        receivers.connect()
