from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from inventory.models import StockHold
from inventory.tests.factories import StockHoldFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "command",
    ["release_expired_holds", "release_expired_reservations"],  # the old name stays for cron
)
def test_release_expired_holds_deletes_only_expired_holds(command):
    StockHoldFactory(expires_at=timezone.now() - timedelta(seconds=1))
    StockHoldFactory(expires_at=timezone.now() - timedelta(hours=1))
    live = StockHoldFactory()
    out = StringIO()
    call_command(command, stdout=out)
    assert "Released 2 expired hold(s)." in out.getvalue()
    assert list(StockHold.objects.all()) == [live]
    out = StringIO()
    call_command(command, stdout=out)
    assert "Released 0" in out.getvalue()
