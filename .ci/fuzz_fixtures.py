"""Fixtures for the API fuzzing step (.ci/fuzz-api): run as `python .ci/fuzz_fixtures.py`.

On a seeded database, make a customer with an address, an order (so invoice, cancel and
return endpoints have something real to find) and a filled cart, and a staff member; print
their access tokens as JSON `{"customer": ..., "staff": ..., "order": ...}`. Everything goes
through the services, as the shop itself would do it.
"""

import json
import os
import secrets
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")

import django  # noqa: E402

django.setup()

from rest_framework_simplejwt.tokens import RefreshToken  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.services import create_address, ensure_superuser, register_user  # noqa: E402
from cart.services import add_item, get_cart_for  # noqa: E402
from catalog.models import Variant  # noqa: E402
from orders.checkout.services import place_order  # noqa: E402

ADDRESS = {
    "full_name": "Fuzz Customer",
    "line1": "1 Test Street",
    "city": "London",
    "postal_code": "N1 9GU",
    "country": "GB",
}


def main() -> None:
    run = secrets.token_hex(4)
    password = f"Fuzz-{secrets.token_hex(12)}"
    customer = register_user(email=f"fuzz-customer-{run}@example.com", password=password)
    address = create_address(user=customer, is_default=True, **ADDRESS)
    staff_email = f"fuzz-staff-{run}@example.com"
    ensure_superuser(email=staff_email, password=password, must_change_password=False)
    staff = User.objects.get(email=staff_email)

    variants = [
        v
        for v in Variant.objects.select_related("product", "stock").order_by("pk")[:50]
        if v.is_purchasable and v.stock.on_hand - v.stock.allocated >= 5
    ]
    cart = get_cart_for(user=customer, create=True)
    add_item(cart=cart, sku=variants[0].sku, quantity=1)
    order = place_order(
        user=customer, cart=cart, address_id=address.pk, payment_token="tok_success"
    )
    cart = get_cart_for(user=customer, create=True)
    for variant in variants[1:3]:
        add_item(cart=cart, sku=variant.sku, quantity=1)

    tokens = {
        "customer": str(RefreshToken.for_user(customer).access_token),
        "staff": str(RefreshToken.for_user(staff).access_token),
        "order": order.number,
    }
    sys.stdout.write(json.dumps(tokens) + "\n")


if __name__ == "__main__":
    main()
