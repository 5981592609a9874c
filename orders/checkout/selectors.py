"""Reads for the checkout page: what its address section starts with."""

from collections.abc import Sequence
from dataclasses import dataclass, field

from accounts.addresses.rules import ADDRESS_FIELD_NAMES, address_snapshot
from accounts.models import Address, User
from orders.models import Order


@dataclass(frozen=True)
class AddressPrefill:
    """How a signed-in shopper's checkout starts: the saved address chosen (``address_id``,
    None for a new address), what the new-address fields show, and whether "save this
    address" starts ticked."""

    address_id: int | None
    new_address: dict[str, str] = field(default_factory=dict)
    save_address: bool = False


def last_shipping_address(*, user: User) -> dict[str, str] | None:
    """Return the shipping address of the user's latest order (every address field), or None."""
    last = (
        Order.objects.filter(user=user)
        .order_by("-created_at", "-id")
        .values_list("shipping_address", flat=True)
        .first()
    )
    if not isinstance(last, dict):
        return None
    return {name: str(last.get(name) or "") for name in ADDRESS_FIELD_NAMES}


def address_prefill(*, user: User, addresses: Sequence[Address]) -> AddressPrefill:
    """Return what the checkout's address section starts with for ``user``.

    With an address book: the entry the last order went to, else the default one. Without:
    a new address filled with the last order's address, else with the account's name. The
    new-address fields always start with the account's name (when it has one) unless they
    show the last order's address. "Save this address" starts ticked for an empty book.
    """
    name = f"{user.first_name} {user.last_name}".strip()
    named = {"full_name": name} if name else {}
    last = last_shipping_address(user=user)
    if addresses:
        used = next((a for a in addresses if last and address_snapshot(a) == last), None)
        default = next((a for a in addresses if a.is_default), addresses[0])
        return AddressPrefill(address_id=(used or default).pk, new_address=named)
    return AddressPrefill(address_id=None, new_address=last or named, save_address=True)
