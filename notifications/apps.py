from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "notifications"

    def ready(self) -> None:
        from notifications import receivers  # noqa: F401  (connects the signal receivers)

        # Webhooks: their signal receivers, and their admin (kept out of notifications/admin.py).
        from notifications.webhooks import admin as webhook_admin  # noqa: F401
        from notifications.webhooks import receivers as webhook_receivers  # noqa: F401
