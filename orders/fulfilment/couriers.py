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


#: Carriers staff can pick when they enter a tracking number themselves, with the public
#: tracking page of each (``{}`` is the tracking number).
TRACKING_URLS: dict[str, str] = {
    "DHL": "https://www.dhl.com/en/express/tracking.html?AWB={}",
    "DPD": "https://track.dpd.co.uk/parcels/{}",
    "FedEx": "https://www.fedex.com/fedextrack/?trknbr={}",
    "Royal Mail": "https://www.royalmail.com/track-your-item#/tracking-results/{}",
    "UPS": "https://www.ups.com/track?tracknum={}",
    "USPS": "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
}


def tracking_url(*, carrier: str, tracking_number: str) -> str:
    """Return the public tracking page of a shipment: the active courier's own page when it
    booked the shipment, else the page of a carrier staff picked by hand ("" if unknown)."""
    courier = get_courier()
    if courier.carrier == carrier:
        return courier.tracking_url(tracking_number=tracking_number)
    pattern = TRACKING_URLS.get(carrier)
    return pattern.format(quote(tracking_number, safe="")) if pattern else ""
