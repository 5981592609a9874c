"""The ``X-Shop-Signature`` header: ``t=<unix>,v1=<hex HMAC-SHA256 of "t.body">``."""

import hashlib
import hmac

SIGNATURE_HEADER = "X-Shop-Signature"


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """Return the hex HMAC-SHA256 of ``b"<timestamp>." + body`` keyed with ``secret``."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(*, secret: str, timestamp: int, body: bytes) -> str:
    """Return the value of ``X-Shop-Signature`` for ``body`` sent at ``timestamp``."""
    return f"t={timestamp},v1={signature(secret=secret, timestamp=timestamp, body=body)}"


def verify_signature(*, secret: str, header: str, body: bytes) -> bool:
    """Return whether ``header`` is a valid signature of ``body`` (what a receiver does)."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    expected = signature(secret=secret, timestamp=timestamp, body=body)
    return hmac.compare_digest(expected, fields.get("v1", ""))
