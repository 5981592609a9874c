"""Idempotency-Key handling shared by the API and the HTML checkout.

The key row is inserted (state ``in_progress``) and committed *before* the action runs: the
unique constraint on (owner, scope, key) — the owner is the member, or for a guest the cart
token — means two concurrent requests with one key cannot
both run; the loser sees the row and answers 409 ``idempotency_key_in_use`` (or replays, once
the winner completed). The action runs outside any transaction of ours (it owns its own).
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from orders.errors import IdempotencyKeyInUse, IdempotencyKeyMismatch, IdempotencyKeyRequired
from orders.models import IdempotencyKey, IdempotencyState
from shop.errors import DomainError, validation_error_body, validation_errors

MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class IdempotentResult:
    status: int
    body: dict
    replayed: bool


def ttl() -> timedelta:
    """Return how long a key is kept (``SHOP_IDEMPOTENCY_TTL_HOURS``, default 24 hours)."""
    return timedelta(hours=getattr(settings, "SHOP_IDEMPOTENCY_TTL_HOURS", 24))


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


def run_idempotent(
    *,
    user: User | None,
    cart_token: UUID | str | None = None,
    key: str | None,
    scope: str,
    payload: dict,
    action: Callable[[], tuple[int, dict]],
) -> IdempotentResult:
    """Run ``action`` at most once per (owner, scope, key) and return its (status, body).

    The owner is ``user`` for a member, else ``cart_token`` (a guest's keys are scoped per
    cart token, so two guests never share a key).

    - New key: the key row is committed as ``in_progress``, ``action`` runs, and its result
      (status, JSON body) is stored as ``completed`` and returned with ``replayed=False``.
      A ``DomainError`` below 500 or a ``ValidationError`` raised by ``action`` counts as a
      result (stored and replayed as its error body).
    - Same key, same payload, completed: the stored result, ``replayed=True``.
    - Same key, different payload: raises ``IdempotencyKeyMismatch`` (422).
    - Same key still running: raises ``IdempotencyKeyInUse`` (409).
    - A 5xx domain error, one marked ``releases_idempotency_key`` (``CartChanged``: the client
      asks again with the new total) or any unexpected exception deletes the key (so the
      client may retry) and propagates.
    Keys older than ``SHOP_IDEMPOTENCY_TTL_HOURS`` are treated as unused. Raises
    ``IdempotencyKeyRequired`` for a missing, blank or over-long key.
    """
    key = validate_key(key=key)
    request_hash = payload_hash(payload=payload)
    lookup = {**key_owner(user=user, cart_token=cart_token), "scope": scope, "key": key}
    IdempotencyKey.objects.filter(**lookup, created_at__lt=timezone.now() - ttl()).delete()
    try:
        with transaction.atomic():
            record = IdempotencyKey.objects.create(
                **lookup, request_hash=request_hash, state=IdempotencyState.IN_PROGRESS
            )
    except IntegrityError:
        existing = IdempotencyKey.objects.filter(**lookup).first()
        if existing is None:
            # The first request failed and freed the key between our insert and this read.
            raise IdempotencyKeyInUse() from None
        if existing.request_hash != request_hash:
            raise IdempotencyKeyMismatch() from None
        if existing.state != IdempotencyState.COMPLETED:
            raise IdempotencyKeyInUse() from None
        return _stored_result(existing)

    try:
        status, body = action()
    except DomainError as exc:
        if exc.status_code >= 500 or getattr(exc, "releases_idempotency_key", False):
            record.delete()
            raise
        status, body = exc.status_code, exc.as_dict()
    except ValidationError as exc:
        status, body = 400, validation_error_body(validation_errors(exc))
    except BaseException:
        record.delete()
        raise
    body = _jsonable(body)
    IdempotencyKey.objects.filter(pk=record.pk).update(
        state=IdempotencyState.COMPLETED, response_status=status, response_body=body
    )
    return IdempotentResult(status, body, False)


def purge_expired_keys(*, now: datetime | None = None) -> int:
    """Delete keys older than the retention window; return how many."""
    cutoff = (now or timezone.now()) - ttl()
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
