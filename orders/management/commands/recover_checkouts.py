from datetime import timedelta

from django.core.management.base import BaseCommand

from orders.checkout.recovery import recover_stale_checkouts, refund_unanswered_charges


class Command(BaseCommand):
    help = (
        "Undo stale checkouts, which died between the charge and the order (older than "
        "CHECKOUT_TIMEOUT, or --older-than seconds): refund, deallocate, end the cart's "
        "checkout; then refund charges the provider made although every attempt failed for "
        "us (found by their reference). Safe to run from cron every minute, even twice at once."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--older-than",
            type=int,
            default=None,
            metavar="SECONDS",
            help="Recover checkouts started this many seconds ago or earlier (default: "
            "CHECKOUT_TIMEOUT). Only when no checkout that young can still be running, e.g. "
            "with the web server stopped.",
        )

    def handle(self, *args, older_than: int | None = None, **options) -> None:
        age = timedelta(seconds=older_than) if older_than is not None else None
        numbers = recover_stale_checkouts(older_than=age)
        for number in numbers:
            self.stdout.write(f"Recovered checkout {number}.")
        self.stdout.write(f"Recovered {len(numbers)} checkout(s).")
        for number in refund_unanswered_charges(older_than=age):
            self.stdout.write(f"Refunded the unanswered charge of {number}.")
