"""A real SMTP server (aiosmtpd) in-process, and Django pointed at it."""

import email
import socket
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller


@dataclass
class ReceivedEmail:
    """One message as the SMTP server received it."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        return self.message.get_body(preferencelist=("plain",)).get_content()

    @property
    def html(self) -> str:
        return self.message.get_body(preferencelist=("html",)).get_content()

    def content_types(self) -> list[str]:
        return [part.get_content_type() for part in self.message.walk()]


class _Collector:
    """aiosmtpd handler: keep every message; refuse recipients at ``bounce.invalid``."""

    def __init__(self, server: "SMTPServer") -> None:
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith("@bounce.invalid"):
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.server.messages.append(
            ReceivedEmail(envelope.mail_from, list(envelope.rcpt_tos), message)
        )
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SMTPServer:
    """An SMTP server on 127.0.0.1 that can be stopped and restarted on the same port."""

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = _free_port()
        self.messages: list[ReceivedEmail] = []
        self._controller: Controller | None = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        if self._controller is None:
            self._controller = Controller(_Collector(self), hostname=self.host, port=self.port)
            self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list[ReceivedEmail]:
        return [m for m in self.messages if address in m.rcpt_tos]


@pytest.fixture
def smtp_server(settings):
    """Start an SMTP server and send Django's email through it (the SMTP backend)."""
    server = SMTPServer()
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = server.host
    settings.EMAIL_PORT = server.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""  # noqa: S105
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = "Test Shop <shop@shop.test>"
    settings.SHOP_REPLY_TO = "help@shop.test"
    settings.SHOP_NAME = "Test Shop"
    settings.SHOP_BASE_URL = "https://shop.test"
    settings.SHOP_STAFF_EMAILS = []
    yield server
    server.stop()


from notifications.tests.webhook_receiver import webhook_receiver  # noqa: E402, F401
from orders.tests.factories import fast_gateway  # noqa: E402, F401
