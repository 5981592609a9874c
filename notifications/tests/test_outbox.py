"""The transactional outbox: an email's row commits with the change that causes it, or not at all.

The failures here are real: the database itself refuses outbox rows (a trigger), nothing of
ours is patched.
"""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django_tasks_db.models import DBTaskResult

from accounts.models import User
from accounts.services import register_user
from cart.models import Cart, CartStatus
from cart.services import add_item, get_cart_for
from inventory.models import StockItem
from inventory.services import adjust
from notifications.models import Notification, NotificationKind, NotificationStatus
from notifications.tests.factories import StaffFactory, StockItemFactory, UserFactory
from orders.checkout.services import place_order
from orders.errors import CheckoutFailed
from orders.models import Order, Payment
from orders.payments.gateways import MockGateway

pytestmark = pytest.mark.django_db

ADDRESS = {
    "full_name": "Ada Lovelace",
    "line1": "12 Analytical Street",
    "city": "London",
    "postal_code": "N1 9GU",
    "country": "GB",
}


@pytest.fixture(autouse=True)
def _fresh_gateway():
    MockGateway.reset()
    yield
    MockGateway.reset()


@pytest.fixture
def outbox_refuses_writes():
    """Make the database refuse every new outbox row, as a full or broken table would.

    The trigger is created inside the test's transaction and goes away with its rollback.
    """
    table = Notification._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION refuse_outbox_row() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'outbox unavailable'; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                f"CREATE TRIGGER refuse_outbox_row BEFORE INSERT ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION refuse_outbox_row()"
            )
        else:
            cursor.execute(
                f"CREATE TRIGGER refuse_outbox_row BEFORE INSERT ON {table} "
                "BEGIN SELECT RAISE(ABORT, 'outbox unavailable'); END"
            )


def cart_of(user: User, *, sku: str, quantity: int = 2) -> Cart:
    cart = get_cart_for(user=user, create=True)
    add_item(cart=cart, sku=sku, quantity=quantity)
    return cart


def stocked(sku: str, *, on_hand: int = 50) -> StockItem:
    return StockItemFactory(
        on_hand=on_hand,
        low_stock_threshold=5,
        low_stock_alerted=False,
        variant__sku=sku,
        variant__price=Decimal("12.50"),
    )


def test_the_confirmation_row_is_written_in_the_order_transaction_before_any_delivery(
    smtp_server, django_capture_on_commit_callbacks
):
    stocked("MUG-01")
    customer = UserFactory()
    cart = cart_of(customer, sku="MUG-01")

    with django_capture_on_commit_callbacks(execute=False) as after_commit:
        order = place_order(
            user=customer, cart=cart, shipping_address=ADDRESS, payment_token="tok_success"
        )
        # Nothing has committed yet and no after-commit work has run: the row is already there.
        row = Notification.objects.get(kind=NotificationKind.ORDER_CONFIRMATION)
        assert (row.recipient, row.event_key) == (customer.email, f"order_placed:{order.pk}")
        assert (row.status, row.attempts) == (NotificationStatus.PENDING, 0)
        assert smtp_server.messages == []

    for callback in after_commit:  # what the commit does next: queue (and here run) delivery
        callback()
    row.refresh_from_db()
    assert row.status == NotificationStatus.SENT
    assert [m.subject for m in smtp_server.messages] == [f"Order {order.number} confirmed"]


def test_a_rolled_back_order_leaves_no_email_and_queues_no_delivery(
    smtp_server, django_capture_on_commit_callbacks
):
    stocked("MUG-01")
    customer = UserFactory()
    cart = cart_of(customer, sku="MUG-01")

    def order_then_fail() -> None:
        with transaction.atomic():
            place_order(
                user=customer, cart=cart, shipping_address=ADDRESS, payment_token="tok_success"
            )
            raise RuntimeError("a later step failed")

    with (
        django_capture_on_commit_callbacks(execute=True) as after_commit,
        pytest.raises(RuntimeError, match="a later step failed"),
    ):
        order_then_fail()

    assert not Order.objects.exists()
    assert not Notification.objects.exists()
    assert after_commit == []
    assert smtp_server.messages == []


def test_a_rolled_back_sign_up_leaves_no_welcome_email(
    smtp_server, django_capture_on_commit_callbacks
):
    def sign_up_then_fail() -> None:
        with transaction.atomic():
            register_user(email="new@example.com", password="s3cure-Passw0rd")
            raise RuntimeError("a later step failed")

    with (
        django_capture_on_commit_callbacks(execute=True) as after_commit,
        pytest.raises(RuntimeError, match="a later step failed"),
    ):
        sign_up_then_fail()

    assert not User.objects.filter(email="new@example.com").exists()
    assert not Notification.objects.exists()
    assert after_commit == []


def test_an_order_whose_confirmation_cannot_be_recorded_is_refunded_not_placed(
    smtp_server, outbox_refuses_writes, django_capture_on_commit_callbacks
):
    item = stocked("MUG-01")
    customer = UserFactory()
    cart = cart_of(customer, sku="MUG-01")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(CheckoutFailed):
        place_order(user=customer, cart=cart, shipping_address=ADDRESS, payment_token="tok_success")

    # No committed order without its email: the order went, and the charge was given back.
    assert not Order.objects.exists()
    assert not Notification.objects.exists()
    payments = list(Payment.objects.order_by("id").values_list("kind", "result"))
    assert payments == [("charge", "succeeded"), ("refund", "succeeded")]
    item.refresh_from_db()
    assert (item.on_hand, item.allocated) == (50, 0)
    cart.refresh_from_db()
    assert cart.status == CartStatus.OPEN


def test_a_sign_up_whose_welcome_email_cannot_be_recorded_fails_as_a_server_error(
    smtp_server, outbox_refuses_writes, django_capture_on_commit_callbacks
):
    # A database error (a 500), never misreported as "this email is taken" (a ValidationError).
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(DatabaseError):
        register_user(email="new@example.com", password="s3cure-Passw0rd")

    assert not User.objects.filter(email="new@example.com").exists()


def test_a_stock_change_whose_low_stock_alert_cannot_be_recorded_is_undone(
    smtp_server, outbox_refuses_writes, settings, django_capture_on_commit_callbacks
):
    settings.SHOP_STAFF_EMAILS = []
    StaffFactory()
    item = stocked("MUG-01", on_hand=8)

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(DatabaseError):
        adjust(variant=item.variant, delta=-4, reason="damage")

    item.refresh_from_db()
    assert (item.on_hand, item.low_stock_alerted) == (8, False)


@pytest.mark.django_db(transaction=True)
def test_the_committed_order_has_its_pending_email_row_until_the_worker_delivers_it(
    smtp_server, settings
):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "email"]}
    }
    stocked("MUG-01")
    customer = UserFactory()
    cart = cart_of(customer, sku="MUG-01")

    order = place_order(
        user=customer, cart=cart, shipping_address=ADDRESS, payment_token="tok_success"
    )

    # Committed: the row is there, delivery is only queued.
    row = Notification.objects.get(kind=NotificationKind.ORDER_CONFIRMATION)
    assert (row.status, row.attempts, row.event_key) == (
        NotificationStatus.PENDING,
        0,
        f"order_placed:{order.pk}",
    )
    assert DBTaskResult.objects.filter(queue_name="email", status="READY").count() == 1
    assert smtp_server.messages == []

    call_command(
        "db_worker",
        "--batch",
        "--queue-name=email",
        "--no-startup-delay",
        "--no-reload",
        verbosity=0,
    )

    row.refresh_from_db()
    assert row.status == NotificationStatus.SENT
    assert [m.subject for m in smtp_server.messages] == [f"Order {order.number} confirmed"]
