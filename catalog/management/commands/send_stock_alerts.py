from django.core.management.base import BaseCommand

from catalog.alerts import expire_alerts, send_due_alerts


class Command(BaseCommand):
    help = (
        "Email one batch (SHOP_STOCK_ALERT_BATCH) of back-in-stock alerts whose variant is "
        "available again, after expiring old alerts; run every minute. --batches N sends more."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--batches", type=int, default=1)

    def handle(self, *args, batches: int, **options) -> None:
        expired = expire_alerts()
        sent = 0
        for _ in range(max(1, batches)):
            count = send_due_alerts()
            sent += count
            if not count:
                break
        self.stdout.write(f"Queued {sent} back-in-stock email(s); expired {expired} alert(s).")
