"""Courier seam: book a shipment, get a carrier name and a tracking number, and the
carrier's tracking page for it."""

import secrets
from dataclasses import dataclass
from urllib.parse import quote

from django.conf import settings
from django.utils.module_loading import import_string

from orders.models import Order


@dataclass(frozen=True)
class Booking:
    carrier: str
    tracking_number: str


class Courier:
    """What the shop needs from a carrier integration.

    ``tracking_url_template``: the carrier's public tracking page, with ``{number}`` where
    the (URL-quoted) tracking number goes; empty when the carrier has none.
    """

    carrier = ""
    tracking_url_template = ""

    def book(self, *, order: Order) -> Booking:
        raise NotImplementedError

    def tracking_url(self, *, tracking_number: str) -> str:
        """Return the carrier's tracking page for ``tracking_number`` ("" if none)."""
        if not self.tracking_url_template or not tracking_number:
            return ""
        return self.tracking_url_template.format(number=quote(tracking_number, safe=""))


class MockCourier(Courier):
    """Books instantly and returns a random tracking number."""

    carrier = "MockPost"
    tracking_url_template = "https://tracking.mockpost.example/track?number={number}"

    def book(self, *, order: Order) -> Booking:
        return Booking(self.carrier, f"MP{secrets.randbelow(10**10):010d}")


def get_courier() -> Courier:
    """Return the courier named by ``settings.SHOP_COURIER`` (a dotted path)."""
    path = getattr(settings, "SHOP_COURIER", "orders.fulfilment.couriers.MockCourier")
    courier_class: type[Courier] = import_string(path)
    return courier_class()


def tracking_url(*, carrier: str, tracking_number: str) -> str:
    """Return the tracking page of a shipment booked with ``carrier`` when that is the active
    courier's carrier, else "" (a shipment of a courier no longer configured)."""
    courier = get_courier()
    if courier.carrier != carrier:
        return ""
    return courier.tracking_url(tracking_number=tracking_number)
