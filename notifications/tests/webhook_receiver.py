"""A real HTTP server receiving webhooks on an ephemeral port, which a test can take down."""

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class ReceivedWebhook:
    headers: dict[str, str]
    body: bytes

    @property
    def payload(self) -> dict:
        return json.loads(self.body)

    @property
    def type(self) -> str:
        return self.payload["type"]


@dataclass
class WebhookReceiver:
    """Collects POSTs; answers ``status`` (default 204). ``stop()``/``start()`` on one port."""

    status: int = 204
    received: list[ReceivedWebhook] = field(default_factory=list)
    port: int = 0
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/shop"

    def types(self) -> list[str]:
        return [hook.type for hook in self.received]

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if 200 <= receiver.status < 300:
                    receiver.received.append(ReceivedWebhook(dict(self.headers.items()), body))
                self.send_response(receiver.status)
                if 300 <= receiver.status < 400:
                    self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Take the server down: connections are refused until ``start()``."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def webhook_receiver(settings):
    settings.SHOP_WEBHOOKS_ALLOW_PRIVATE = True
    settings.SHOP_WEBHOOK_TIMEOUT = 5
    receiver = WebhookReceiver()
    receiver.start()
    yield receiver
    receiver.stop()
