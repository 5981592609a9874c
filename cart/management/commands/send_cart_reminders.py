from django.core.management.base import BaseCommand

from cart.reminders import send_cart_reminders


class Command(BaseCommand):
    help = (
        "Email one reminder per open cart untouched for SHOP_CART_REMINDER_HOURS (signed-in "
        "shoppers, guests who gave an email at checkout; opt-outs respected). Daily."
    )

    def handle(self, *args, **options) -> None:
        total = 0
        while count := send_cart_reminders():
            total += count
        self.stdout.write(f"Queued {total} abandoned-cart reminder(s).")
