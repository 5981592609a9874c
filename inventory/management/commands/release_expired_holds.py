"""Delete expired stock holds (safe to run from cron every minute)."""

from django.core.management.base import BaseCommand

from inventory.services import release_expired_holds


class Command(BaseCommand):
    help = (
        "Delete expired cart holds of stock. Expired holds already count for nothing; this "
        "only keeps the table small. Idempotent and safe to run concurrently, e.g. every minute."
    )

    def handle(self, *args, **options):
        count = release_expired_holds()
        self.stdout.write(f"Released {count} expired hold(s).")
