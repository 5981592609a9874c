from django.core.management.base import BaseCommand

from orders.checkout.recovery import recover_stale_checkouts


class Command(BaseCommand):
    help = (
        "Undo stale checkouts, which died between the charge and the order (older than "
        "CHECKOUT_TIMEOUT): refund, deallocate, end the cart's checkout. Safe to run from "
        "cron every minute, even twice at once."
    )

    def handle(self, *args, **options) -> None:
        numbers = recover_stale_checkouts()
        for number in numbers:
            self.stdout.write(f"Recovered checkout {number}.")
        self.stdout.write(f"Recovered {len(numbers)} checkout(s).")
