from django.core.management.base import BaseCommand

from notifications import services


class Command(BaseCommand):
    help = (
        "Deliver every pending notification whose next attempt is due, synchronously "
        "(for cron, or when no task worker runs)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--retry-failed",
            action="store_true",
            help="First move failed notifications back to pending with a fresh attempt count.",
        )
        parser.add_argument(
            "--limit", type=int, default=None, help="Deliver at most this many notifications."
        )

    def handle(self, *args, retry_failed: bool = False, limit: int | None = None, **options):
        released = services.release_stale_claims()
        if released:
            self.stdout.write(f"Released {released} notification(s) stuck in sending.")
        if retry_failed:
            requeued = services.requeue_failed()
            self.stdout.write(f"Re-queued {requeued} failed notification(s).")
        counts = services.deliver_due(limit=limit)
        self.stdout.write(
            f"Sent {counts['sent']}, still pending {counts['pending']}, failed {counts['failed']}."
        )
