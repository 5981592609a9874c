"""Recovery asks the provider: a checkout that died after the provider charged but before the
charge (or the order) was recorded is found by its reference and refunded."""

import io
import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from accounts.tests.factories import UserFactory
from cart.checkout import start_checkout
from cart.models import Cart
from catalog.tests.factories import make_variant
from inventory import services as inventory
from inventory.models import StockItem
from inventory.services import StockLine
from orders.checkout.recovery import recover_stale_checkouts
from orders.models import Order, Payment, PaymentKind, PaymentResult
from orders.payments.gateways import MockGateway
from orders.tests.factories import cart_with, fast_gateway  # noqa: F401

BASE_DIR = Path(__file__).resolve().parents[2]

CHILD = """
import sys
from accounts.models import User
from cart.services import get_cart_for
from orders.checkout.services import place_order
from orders.tests.factories import ADDRESS
user = User.objects.get(email=sys.argv[-1])
place_order(user=user, cart=get_cart_for(user=user), shipping_address=dict(ADDRESS),
            payment_token="pm_card_visa")
print("UNREACHABLE: the order was placed")
"""


def _database_url() -> str:
    db = connection.settings_dict
    credentials = db["USER"] or "postgres"
    if db["PASSWORD"]:
        credentials += f":{db['PASSWORD']}"
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    return f"postgres://{credentials}@{host}:{port}/{db['NAME']}"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_checkout_killed_while_stripe_answered_is_found_and_refunded(
    stripe_api, settings, tmp_path
):
    """A real crash: the checkout runs in its own process, which the stand-in SIGKILLs after
    taking the money and before answering. Nothing of the charge is recorded on our side."""
    settings.SHOP_PAYMENT_RETRY_BASE_DELAY = 0
    variant = make_variant(on_hand=5, price=Decimal("20.00"))
    user = UserFactory(email="crash@example.com")
    cart = cart_with(user, (variant, 2))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "shop.settings.test",
        "DATABASE_URL": _database_url(),
        "SHOP_PAYMENT_GATEWAY": "orders.payments.stripe.StripeGateway",
        "STRIPE_SECRET_KEY": "sk_test_shop",
        "STRIPE_API_BASE": stripe_api.url,
        "PYTHONUNBUFFERED": "1",
    }
    script = tmp_path / "child.py"
    script.write_text(
        "import django, os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'shop.settings.test')"
        "\ndjango.setup()\n" + CHILD
    )
    child = subprocess.Popen(
        [sys.executable, str(script), user.email],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    killed = threading.Event()

    def kill_the_checkout(intent: dict) -> None:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
        killed.set()

    stripe_api.on_charge = kill_the_checkout
    output = child.communicate(timeout=60)[0].decode()
    assert killed.wait(10), output
    assert child.returncode == -signal.SIGKILL, output

    (intent,) = stripe_api.charges()
    cart.refresh_from_db()
    number = cart.checkout_order_number
    assert intent["metadata"] == {"order_number": number}
    assert not Order.objects.exists()
    assert not Payment.objects.exists()  # died before recording the answer
    assert StockItem.objects.get().allocated == 2

    assert recover_stale_checkouts(older_than=timedelta(0)) == [number]
    (refund,) = stripe_api.refunds.values()
    assert (refund["payment_intent"], refund["amount"]) == (intent["id"], intent["amount"])
    rows = Payment.objects.order_by("id")
    assert [(r.kind, r.result, r.gateway_transaction_id) for r in rows] == [
        (PaymentKind.CHARGE, PaymentResult.SUCCEEDED, intent["id"]),
        (PaymentKind.REFUND, PaymentResult.SUCCEEDED, refund["id"]),
    ]
    assert StockItem.objects.get().allocated == 0
    cart.refresh_from_db()
    assert (cart.status, cart.checkout_order_number) == ("open", "")
    # Running again does nothing more.
    assert recover_stale_checkouts(older_than=timedelta(0)) == []
    assert len(stripe_api.refunds) == 1


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_gateway")
def test_the_mock_gateway_ledger_is_looked_up_the_same_way():
    """The mock charged (its ledger, a table every worker shares, has the charge) but the
    process died before our Payment row: recovery finds it by the reference and refunds it."""
    variant = make_variant(on_hand=5, price=Decimal("20.00"))
    user = UserFactory()
    cart = cart_with(user, (variant, 1))
    number = "SO-DEAD-0001"
    inventory.allocate(
        lines=[StockLine(variant.pk, 1, variant.sku)], order_number=number, cart_token=cart.token
    )
    start_checkout(
        cart=Cart.objects.get(pk=cart.pk),
        order_number=number,
        started_at=timezone.now() - timedelta(hours=1),
    )
    charge = MockGateway().charge(
        amount=Decimal("25.00"), currency="USD", token="tok_success", reference=number
    )
    assert not Payment.objects.exists()

    assert recover_stale_checkouts() == [number]
    charge_row, refund_row = Payment.objects.order_by("id")
    assert (charge_row.kind, charge_row.gateway_transaction_id, charge_row.amount) == (
        PaymentKind.CHARGE,
        charge.charge_id,
        Decimal("25.00"),
    )
    assert (refund_row.kind, refund_row.result, refund_row.reference) == (
        PaymentKind.REFUND,
        PaymentResult.SUCCEEDED,
        f"{number}-void",
    )
    assert MockGateway._refunds.get(f"{number}-void").charge_id == charge.charge_id
    assert StockItem.objects.get().allocated == 0


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_gateway")
def test_recovery_waits_when_the_provider_cannot_be_asked(stripe_api):
    variant = make_variant(on_hand=5, price=Decimal("20.00"))
    user = UserFactory()
    cart = cart_with(user, (variant, 1))
    number = "SO-DEAD-0002"
    inventory.allocate(
        lines=[StockLine(variant.pk, 1, variant.sku)], order_number=number, cart_token=cart.token
    )
    start_checkout(
        cart=Cart.objects.get(pk=cart.pk),
        order_number=number,
        started_at=timezone.now() - timedelta(hours=1),
    )
    stripe_api.fail_next = [503]
    assert recover_stale_checkouts() == []
    assert StockItem.objects.get().allocated == 1
    assert recover_stale_checkouts() == [number]
    assert StockItem.objects.get().allocated == 0


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_gateway")
def test_a_charge_whose_answers_were_all_lost_is_found_and_refunded(stripe_api):
    """Stripe charged on the first attempt but its answer was lost, and the retries found
    Stripe unreachable: the shopper was told 503 and the stock given back. The recovery job
    asks Stripe by the reference and refunds the money."""
    from django.core.management import call_command

    from orders.errors import PaymentUnavailableError
    from orders.tests.factories import place
    from orders.tests.stripe_server import LOSE_ANSWER

    stripe_api.fail_next = [LOSE_ANSWER, 503, 503]
    with pytest.raises(PaymentUnavailableError):
        place(token="pm_card_visa")
    (intent,) = stripe_api.charges()
    number = intent["metadata"]["order_number"]
    assert not Order.objects.exists()
    assert StockItem.objects.get().allocated == 0
    assert Cart.objects.get().status == "open"
    assert [p.result for p in Payment.objects.order_by("id")] == [PaymentResult.FAILED] * 3

    out = io.StringIO()
    call_command("recover_checkouts", "--older-than", "0", stdout=out)
    assert f"Refunded the unanswered charge of {number}." in out.getvalue()
    (refund,) = stripe_api.refunds.values()
    assert (refund["payment_intent"], refund["amount"]) == (intent["id"], intent["amount"])
    # Once: the next runs find it settled.
    call_command("recover_checkouts", "--older-than", "0", stdout=io.StringIO())
    assert len(stripe_api.refunds) == 1
    assert Payment.objects.filter(kind=PaymentKind.REFUND).count() == 1


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_gateway")
def test_failed_attempts_that_charged_nothing_are_left_alone(stripe_api):
    from orders.checkout.recovery import refund_unanswered_charges
    from orders.errors import PaymentUnavailableError
    from orders.tests.factories import place

    stripe_api.fail_next = [503, 503, 503]
    with pytest.raises(PaymentUnavailableError):
        place(token="pm_card_visa")
    assert refund_unanswered_charges(older_than=timedelta(0)) == []
    assert stripe_api.refunds == {}
    assert not Payment.objects.filter(kind=PaymentKind.REFUND).exists()
