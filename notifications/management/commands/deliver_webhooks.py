from django.core.management.base import BaseCommand

from notifications.webhooks import services


class Command(BaseCommand):
    help = (
        "Deliver every due webhook event of the active endpoints, in order, synchronously "
        "(for cron: retries when the tasks backend cannot defer, and events the worker missed)."
    )

    def handle(self, *args, **options):
        delivered = services.deliver_due()
        self.stdout.write(f"Delivered {delivered} webhook event(s).")
