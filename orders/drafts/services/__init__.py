"""Draft orders for phone customers: staff build an order, then send it as a payment link or
mark it paid offline (README, "Draft orders").

A draft is an ``Order`` in ``draft``: hidden from the customer, holding no stock, its lines
priced at the variants' current prices by the checkout's own rules (``cart.pricing``: the
shipping quotes for the address, ``price_cart`` for tax and totals; drafts take no voucher or
promotion). Every change runs in one transaction that locks the order row first and records
an event.

Leaving ``draft``:

* ``send_payment_link``: allocates the stock (``inventory.allocate``; ``InsufficientStock``
  409 when short, nothing changes), moves the order to ``pending_payment`` and emails the
  customer a signed link to ``/orders/<number>/pay/`` that works for
  ``SHOP_PAYMENT_LINK_DAYS``. ``pay_order`` charges it through the configured gateway exactly
  as checkout does (reference = the order number, so it is never charged twice); 3-D Secure
  leaves it pending until the provider's webhook confirms it. ``cancel_expired_payments``
  cancels a link order once its link has expired.
* ``mark_paid_offline`` (bank transfer, cash, card terminal): records an ``offline`` payment
  with the staff's reference and confirms the order (allocating a draft's stock).

Either way the paid order is ``received``/``paid`` through ``orders.lifecycle``: invoice,
``order_placed`` (confirmation email, ``order.created``/``order.paid`` webhooks).
"""

from orders.drafts.services.building import (
    MAX_LINE_QUANTITY,
    cancel_draft_order,
    create_draft_order,
    delete_draft_order,
    set_draft_address,
    set_draft_customer,
    set_draft_line,
    set_draft_shipping_method,
)
from orders.drafts.services.links import (
    link_expired,
    link_version,
    payment_link_days,
    payment_link_matches,
    payment_link_path,
    payment_link_token,
    send_payment_link,
)
from orders.drafts.services.paying import PayResult, check_payable, mark_paid_offline, pay_order

__all__ = [
    "MAX_LINE_QUANTITY",
    "PayResult",
    "cancel_draft_order",
    "check_payable",
    "create_draft_order",
    "delete_draft_order",
    "link_expired",
    "link_version",
    "mark_paid_offline",
    "pay_order",
    "payment_link_days",
    "payment_link_matches",
    "payment_link_path",
    "payment_link_token",
    "send_payment_link",
    "set_draft_address",
    "set_draft_customer",
    "set_draft_line",
    "set_draft_shipping_method",
]
