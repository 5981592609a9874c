"""Which URLs an endpoint may have: no server-side request forgery through webhooks."""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError


def _private_allowed() -> bool:
    return bool(getattr(settings, "SHOP_WEBHOOKS_ALLOW_PRIVATE", False))


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve_host(host: str, port: int) -> list[str]:
    """Return every address ``host`` resolves to (empty when it does not resolve)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return sorted({str(info[4][0]) for info in infos})


def validate_webhook_url(url: str) -> None:
    """Raise ``ValidationError`` unless ``url`` is a safe target for webhook deliveries.

    The URL must be ``https`` and its host must resolve, and only to public addresses (not
    loopback, private, link-local, reserved or multicast networks), unless
    ``SHOP_WEBHOOKS_ALLOW_PRIVATE`` is true (development and tests), which allows ``http`` and
    any address. Delivery checks again before every attempt, since DNS answers change.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("Enter an absolute http(s) URL.", code="invalid")
    if parts.username or parts.password:
        raise ValidationError("The URL must not contain credentials.", code="invalid")
    if _private_allowed():
        return
    if parts.scheme != "https":
        raise ValidationError("Webhook URLs must use https.", code="insecure")
    try:
        port = parts.port or 443
    except ValueError as exc:
        raise ValidationError("The URL has an invalid port.", code="invalid") from exc
    addresses = resolve_host(parts.hostname, port)
    if not addresses:
        raise ValidationError("The URL's host does not resolve.", code="unresolvable")
    if not all(_is_public(address) for address in addresses):
        raise ValidationError(
            "The URL resolves to a loopback or private network address.", code="private"
        )
