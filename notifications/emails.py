"""Render a Notification into an email (subject, plain text and HTML parts).

Templates live in ``templates/notifications/``: ``<kind>_subject.txt``, ``<kind>.txt`` and
``<kind>.html``; the bodies extend ``base.txt`` / ``base.html`` (the shared layout with the
shop's name).
"""

from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

# Context keys whose values are secrets (a live password-reset link): hidden in the admin
# and erased from the row once the email has been sent.
SENSITIVE_KEYS = frozenset({"reset_url"})
REDACTED = "[redacted after sending]"


def template_context(*, kind: str, context: dict, subject: str = "") -> dict:
    return {
        **context,
        "kind": kind,
        "subject": subject,
        "shop_name": settings.SHOP_NAME,
        "shop_url": settings.SHOP_BASE_URL.rstrip("/") + "/",
    }


def render_subject(*, kind: str, context: dict) -> str:
    """Return the one-line subject for a notification of ``kind``."""
    text = render_to_string(
        f"notifications/{kind}_subject.txt", template_context(kind=kind, context=context)
    )
    return " ".join(text.split())[:255]


def _message_id(notification) -> str:
    # Stable across retries, so a mail client can drop a copy that a crash made us resend.
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
    stamp = int(notification.created_at.timestamp())
    return f"<notification.{notification.pk}.{stamp}@{domain}>"


def build_message(notification) -> EmailMultiAlternatives:
    """Return the email for ``notification``: text body plus an HTML alternative."""
    ctx = template_context(
        kind=notification.kind, context=notification.context, subject=notification.subject
    )
    text = render_to_string(f"notifications/{notification.kind}.txt", ctx)
    html = render_to_string(f"notifications/{notification.kind}.html", ctx)
    message = EmailMultiAlternatives(
        subject=notification.subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.recipient],
        reply_to=[settings.SHOP_REPLY_TO] if settings.SHOP_REPLY_TO else None,
        headers={"Message-ID": _message_id(notification), "Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(html, "text/html")
    return message
