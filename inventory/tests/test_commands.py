from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from inventory.models import Reservation
from inventory.tests.factories import ReservationFactory

pytestmark = pytest.mark.django_db


def test_release_expired_reservations_deletes_only_expired_holds():
    ReservationFactory(expires_at=timezone.now() - timedelta(seconds=1))
    ReservationFactory(expires_at=timezone.now() - timedelta(hours=1))
    live = ReservationFactory()
    out = StringIO()
    call_command("release_expired_reservations", stdout=out)
    assert "Released 2 expired reservation(s)." in out.getvalue()
    assert list(Reservation.objects.all()) == [live]
    out = StringIO()
    call_command("release_expired_reservations", stdout=out)
    assert "Released 0" in out.getvalue()
