from django.core.management.base import BaseCommand

from orders.payments.confirmation import cancel_expired_payments


class Command(BaseCommand):
    help = (
        "Settle orders waiting in pending_payment (3-D Secure) for longer than "
        "SHOP_PAYMENT_TIMEOUT: confirm those the provider was paid for after all, cancel the "
        "others (stock released, the pending payment cancelled at the provider). Safe to run "
        "from cron every minute, even twice at once."
    )

    def handle(self, *args, **options) -> None:
        done = cancel_expired_payments()
        for line in done:
            self.stdout.write(f"Order {line}.")
        self.stdout.write(f"Settled {len(done)} expired pending payment(s).")
