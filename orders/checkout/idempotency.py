"""Idempotency-Key handling shared by the API and the HTML checkout (API.md, "Orders and
checkout").

A request *claims* its key before the checkout runs: the key row is inserted (``in_progress``)
and committed with the order number the checkout will place the order under and a lease
(``SHOP_IDEMPOTENCY_LEASE_SECONDS``). A key belongs to its *owner*: the member, or for a
guest the cart token (so two guests never share a key). Then:

- Two concurrent requests with one key cannot both run: the unique constraint on
  (owner, scope, key) lets one insert; the other answers 409 ``idempotency_key_in_use``, or
  replays the stored answer once the first has placed the order.
- Only a placed order is kept against the key. A failure (validation error, empty cart, stock
  short, price changed, cart changed, payment declined or unavailable, and every other
  ``DomainError`` of the checkout, all of which leave stock and cart as they were) releases
  the key, so a retry with it runs the checkout again.
- A request that died with its process (a killed worker) leaves its row ``in_progress``.
  Once the lease has run out, the next request with the key *takes it over*: it recovers what
  the dead checkout left half-done (``recovery.recover_checkout``: refund, deallocate, end the
  cart's checkout), then replays the order if the dead request had placed it (found by the
  order number on the row; a guest's order token is kept on the row too, so the replay
  carries it) with ``replayed=True``, or runs the checkout again under a new number. So a
  client that retries with its key never ends up with an order it was not told about. An
  unexpected exception (a bug, a lost database) is treated the same way: the lease is ended
  at once and the next retry finds out what happened.

The lease must outlast the longest a request can run (gunicorn recycles a worker stuck for
``GUNICORN_TIMEOUT`` seconds, 30 by default; the lease is 120): a takeover presumes the
first request dead. Should it be alive after all, the checkout's own locking still holds
(recovery and ``_finalize`` both lock the cart; a recovered checkout refunds its charge), and
every write to a claimed row is conditional on the order number of the attempt that claimed
it, so an attempt that was taken over never overwrites its successor's row.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from orders.checkout.recovery import recover_checkout
from orders.checkout.services import new_order_number
from orders.errors import IdempotencyKeyInUse, IdempotencyKeyMismatch, IdempotencyKeyRequired
from orders.models import IdempotencyKey, IdempotencyState, Order
from shop.errors import DomainError, validation_error_body, validation_errors

MAX_KEY_LENGTH = 255

# What the caller runs: place the order under the given number; return (status, JSON body).
CheckoutAction = Callable[[str], tuple[int, dict]]
# How the caller answers for an order placed by a request that died before answering.
OrderReplay = Callable[[Order], tuple[int, dict]]


@dataclass(frozen=True)
class IdempotentResult:
    status: int
    body: dict
    replayed: bool


def ttl() -> timedelta:
    """Return how long a key is kept (``SHOP_IDEMPOTENCY_TTL_HOURS``, default 24 hours)."""
    return timedelta(hours=getattr(settings, "SHOP_IDEMPOTENCY_TTL_HOURS", 24))


def lease() -> timedelta:
    """How long a claimed key stays ``in_progress`` before another request may take it over."""
    return timedelta(seconds=getattr(settings, "SHOP_IDEMPOTENCY_LEASE_SECONDS", 120))


def payload_hash(*, payload: dict) -> str:
    """Return the sha256 of the payload's canonical JSON (sorted keys, no spaces)."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
    return hashlib.sha256(canonical.encode()).hexdigest()


def validate_key(*, key: str | None) -> str:
    """Return the key, or raise ``IdempotencyKeyRequired`` if missing, blank, too long or
    holding control characters (a NUL byte cannot even be stored)."""
    if (
        key is None
        or not (1 <= len(key) <= MAX_KEY_LENGTH)
        or not key.strip()
        or not key.isprintable()
    ):
        raise IdempotencyKeyRequired()
    return key


def _jsonable(body: dict) -> dict:
    jsonable: dict = json.loads(json.dumps(body, cls=DjangoJSONEncoder))
    return jsonable


def _stored_result(record: IdempotencyKey) -> IdempotentResult:
    # run_idempotent writes the state ``completed`` and the response (an ``action`` returns a
    # status and a dict) in one UPDATE: a completed key without them is a corrupt row.
    if record.response_status is None or record.response_body is None:
        raise RuntimeError(f"Idempotency key {record.pk} is completed but holds no response.")
    return IdempotentResult(record.response_status, record.response_body, True)


def key_owner(*, user: User | None, cart_token: UUID | str | None) -> dict:
    """Return the lookup naming a key's owner: the member, else the guest's cart token.

    Raises ``ValueError`` when neither is given (a guest without a cart has nothing to key).
    """
    if user is not None and user.is_authenticated:
        return {"user": user, "cart_token": None}
    if cart_token:
        return {"user": None, "cart_token": UUID(str(cart_token))}
    raise ValueError("An idempotency key needs a user or a cart token.")


def _lease_ended(record: IdempotencyKey, now: datetime) -> bool:
    expires_at = record.lease_expires_at or record.created_at + lease()
    return expires_at <= now


def _claim(
    *, lookup: dict, request_hash: str, number: str, order_token: str
) -> IdempotencyKey | None:
    """Insert the key row for this attempt (``lookup``: owner, scope and key); return it, or
    None if the key already has one."""
    try:
        with transaction.atomic():
            return IdempotencyKey.objects.create(
                **lookup,
                request_hash=request_hash,
                state=IdempotencyState.IN_PROGRESS,
                order_number=number,
                order_token=order_token,
                lease_expires_at=timezone.now() + lease(),
            )
    except IntegrityError:
        return None


def _forget_expired(lookup: dict) -> bool:
    """Delete the key's row if it is older than the retention window (an expired key is
    unused); return whether there was one. Asked only when a claim found the key taken, so
    a new key costs no extra query."""
    expired = IdempotencyKey.objects.filter(**lookup, created_at__lt=timezone.now() - ttl())
    deleted, _ = expired.delete()
    return bool(deleted)


def _take_over(
    *, record: IdempotencyKey, number: str, now: datetime, order_token: str = ""
) -> bool:
    """Claim the row of a request whose lease ran out for this attempt; return whether this
    attempt won (of several retries racing for it, exactly one does)."""
    lease_over = Q(lease_expires_at__lte=now) | Q(lease_expires_at__isnull=True)
    return bool(
        IdempotencyKey.objects.filter(
            lease_over,
            pk=record.pk,
            state=IdempotencyState.IN_PROGRESS,
            order_number=record.order_number,
        ).update(order_number=number, order_token=order_token, lease_expires_at=now + lease())
    )


def _release(pk: int, number: str) -> None:
    """Forget the key (the attempt ``number`` left nothing behind): a retry runs afresh."""
    IdempotencyKey.objects.filter(pk=pk, order_number=number).delete()


def _end_lease(pk: int, number: str) -> None:
    """End the lease of attempt ``number`` now: the next retry takes the key over."""
    IdempotencyKey.objects.filter(
        pk=pk, order_number=number, state=IdempotencyState.IN_PROGRESS
    ).update(lease_expires_at=timezone.now())


def _complete(pk: int, *, claimed_as: str, number: str, status: int, body: dict) -> None:
    # The order token has done its job once the answer (which carries it) is stored.
    IdempotencyKey.objects.filter(pk=pk, order_number=claimed_as).update(
        state=IdempotencyState.COMPLETED,
        order_number=number,
        order_token="",
        lease_expires_at=None,
        response_status=status,
        response_body=body,
    )


def run_idempotent(
    *,
    user: User | None,
    cart_token: UUID | str | None = None,
    key: str | None,
    scope: str,
    payload: dict,
    action: CheckoutAction,
    replay: OrderReplay,
    order_token: str = "",
) -> IdempotentResult:
    """Run the checkout ``action`` at most once per (owner, scope, key); return its answer.

    The owner is ``user`` for a member, else ``cart_token`` (a guest's keys are scoped per
    cart token, so two guests never share a key). ``order_token`` (a guest's checkout) is the
    order token ``action`` places the order with: kept on the key row while the checkout
    runs, so that the replay of an order placed by a dead request can carry it (it is set as
    ``order.order_token`` before ``replay`` is called).

    ``action(order_number)`` places the order under that number (chosen and recorded on the
    key row before it runs) and returns ``(status, body)``; ``replay(order)`` answers for an
    order a dead request placed. Runs outside any transaction of ours (both own theirs).

    - New key: claim it (``in_progress``, with a lease), run ``action``; a 2xx answer is stored
      (``completed``) and returned with ``replayed=False``.
    - Same key, same payload, completed: the stored answer, ``replayed=True``.
    - Same key, different payload: raises ``IdempotencyKeyMismatch`` (422).
    - Same key, claimed by a request whose lease is still running: raises
      ``IdempotencyKeyInUse`` (409).
    - Same key, lease run out (the request died): take the key over, recover the dead
      checkout, then replay its order (``replayed=True``) or run ``action`` again. Raises
      ``IdempotencyKeyInUse`` when that checkout is still finishing or its refund cannot go
      through yet (the next retry looks again).
    - ``action`` raising a ``DomainError`` or ``ValidationError``: the key is released (the
      checkout left nothing behind) and the error is returned as the answer
      (``replayed=False``; a 5xx ``DomainError`` is raised instead). Any other exception ends
      the lease at once and propagates.

    Keys older than ``SHOP_IDEMPOTENCY_TTL_HOURS`` are treated as unused. Raises
    ``IdempotencyKeyRequired`` for a missing, blank or over-long key.
    """
    key = validate_key(key=key)
    request_hash = payload_hash(payload=payload)
    owner = key_owner(user=user, cart_token=cart_token)
    lookup = {**owner, "scope": scope, "key": key}
    number = new_order_number()
    claim = partial(
        _claim, lookup=lookup, request_hash=request_hash, number=number, order_token=order_token
    )
    record = claim()
    if record is None and _forget_expired(lookup):
        record = claim()
    if record is None:
        existing = IdempotencyKey.objects.filter(**lookup).first()
        if existing is None:
            # The request holding the key failed and released it since our insert: try again.
            record = claim()
            if record is None:
                raise IdempotencyKeyInUse()
        else:
            if existing.request_hash != request_hash:
                raise IdempotencyKeyMismatch()
            if existing.state == IdempotencyState.COMPLETED:
                return _stored_result(existing)
            now = timezone.now()
            if not _lease_ended(existing, now) or not _take_over(
                record=existing, number=number, order_token=order_token, now=now
            ):
                raise IdempotencyKeyInUse()
            record = existing
            try:
                replayed = _settle_dead_attempt(
                    user=owner["user"],
                    previous=existing.order_number,
                    previous_token=existing.order_token,
                    replay=replay,
                )
            except BaseException:
                _end_lease(record.pk, number)
                raise
            if replayed is not None:
                _complete(
                    record.pk,
                    claimed_as=number,
                    number=existing.order_number,
                    status=replayed.status,
                    body=replayed.body,
                )
                return replayed
    return _run(pk=record.pk, number=number, action=action)


def _settle_dead_attempt(
    *, user: User | None, previous: str, previous_token: str, replay: OrderReplay
) -> IdempotentResult | None:
    """After a takeover: undo what the dead attempt ``previous`` left half-done, and return
    its order's answer if it had placed one (None: run the checkout again). ``user`` is the
    key's member, None for a guest's key (whose order has no user; ``previous_token`` is its
    order token). Raises ``IdempotencyKeyInUse`` when that checkout is still finishing or
    cannot be undone yet."""
    if not previous:
        return None
    # Recover first, then look for the order: recovery locks the cart, so once it returns
    # the dead attempt has either committed its order or can no longer do so.
    if not recover_checkout(order_number=previous):
        raise IdempotencyKeyInUse()
    orders = Order.objects.filter(number=previous)
    if user is not None:
        orders = orders.filter(user=user)
    order = orders.first()
    if order is None:
        return None
    if user is None:
        # The number was claimed under this guest's key: the order is theirs (even if an
        # account has since been given it; the token keeps working).
        order.order_token = previous_token  # type: ignore[attr-defined]
    status, body = replay(order)
    return IdempotentResult(status, _jsonable(body), True)


def _run(*, pk: int, number: str, action: CheckoutAction) -> IdempotentResult:
    try:
        status, body = action(number)
    except DomainError as exc:
        _release(pk, number)
        if exc.status_code >= 500:
            raise
        return IdempotentResult(exc.status_code, _jsonable(exc.as_dict()), False)
    except ValidationError as exc:
        _release(pk, number)
        return IdempotentResult(400, validation_error_body(validation_errors(exc)), False)
    except BaseException:
        _end_lease(pk, number)
        raise
    body = _jsonable(body)
    if status >= 400:
        _release(pk, number)
    else:
        _complete(pk, claimed_as=number, number=number, status=status, body=body)
    return IdempotentResult(status, body, False)


def purge_expired_keys(*, now: datetime | None = None) -> int:
    """Delete keys older than the retention window; return how many."""
    cutoff = (now or timezone.now()) - ttl()
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
