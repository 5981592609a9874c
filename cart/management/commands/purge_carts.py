from django.core.management.base import BaseCommand

from cart.services import purge_anonymous_carts


class Command(BaseCommand):
    help = "Delete anonymous carts not touched for --days days (default 30) and their holds."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--days", type=int, default=30)

    def handle(self, *args, days: int, **options) -> None:
        count = purge_anonymous_carts(older_than_days=days)
        self.stdout.write(f"Purged {count} anonymous cart(s) older than {days} days.")
