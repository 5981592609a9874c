from django.core.management.base import BaseCommand

from catalog.popularity import refresh_popularity


class Command(BaseCommand):
    help = "Recompute units sold in the last 30 days per product (best-selling sort); daily."

    def handle(self, *args, **options) -> None:
        count = refresh_popularity()
        self.stdout.write(f"Refreshed the 30-day sales of {count} product(s).")
