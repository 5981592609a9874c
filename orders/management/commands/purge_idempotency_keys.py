from django.core.management.base import BaseCommand

from orders.checkout.idempotency import purge_expired_keys


class Command(BaseCommand):
    help = "Delete Idempotency-Key records older than SHOP_IDEMPOTENCY_TTL_HOURS (24 h)."

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"Purged {purge_expired_keys()} idempotency key(s).")
