"""A rejected return emails the customer the reason, through the outbox, over real SMTP."""

from decimal import Decimal

import pytest

from accounts.tests.factories import StaffUserFactory
from catalog.tests.factories import make_variant
from notifications import services
from notifications.models import Notification, NotificationKind
from orders.models import OrderStatus
from orders.returns.services import reject_return, request_return
from orders.tests.factories import fast_gateway, order_in  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_gateway")]


def test_rejection_reason_is_emailed_to_the_customer(smtp_server):
    variant = make_variant(on_hand=5, price=Decimal("30.00"), sku="MAIL-REJ")
    order = order_in(OrderStatus.DELIVERED, items=[(variant, 1)])
    rr = request_return(order=order, user=order.user, lines=[{"sku": "MAIL-REJ", "quantity": 1}])
    reject_return(return_request=rr, user=StaffUserFactory(), reason="The seal was broken.")
    note = Notification.objects.get(kind=NotificationKind.RETURN_REJECTED)
    assert note.recipient == order.email
    services.deliver_due()
    [mail] = [m for m in smtp_server.to(order.email) if "not accepted" in m.subject]
    assert order.number in mail.subject
    assert "The seal was broken." in mail.text
    assert "The seal was broken." in mail.html
