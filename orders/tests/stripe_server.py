"""A local stand-in for the parts of Stripe's API the adapter uses (tests; no internet).

An in-process ``ThreadingHTTPServer`` on 127.0.0.1 answering, with the response shapes of
Stripe's API reference:

* ``POST /v1/payment_intents`` (``confirm=true`` with a ``payment_method``),
* ``GET /v1/payment_intents/{id}``, ``GET /v1/payment_intents/search``,
* ``POST /v1/payment_intents/{id}/cancel``,
* ``POST /v1/refunds``;

and, for pages using Stripe.js (publishable key, CORS): ``GET /v3/`` (a small
Stripe.js-compatible script, ``stripe_js_standin.js``), ``POST /v1/payment_methods`` and
``POST /v1/payment_intents/{id}/authenticate`` (the 3-D Secure challenge's answer). With
``webhook_url`` set it delivers signed ``payment_intent.*`` events there, as Stripe does.

Like Stripe it replays the first response for a repeated ``Idempotency-Key`` (errors that
happened before the request ran, the injected ``fail_next`` ones, are not stored). Test
PaymentMethods: ``pm_card_chargeDeclined`` -> ``402 card_error``;
``pm_card_threeDSecure2Required`` -> ``requires_action`` with ``next_action`` (finish it with
``StripeStandIn.succeed(intent_id)``); any other ``pm_*`` succeeds; anything else -> ``400
resource_missing``.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

STRIPE_GATEWAY = "orders.payments.stripe.StripeGateway"
WEBHOOK_SECRET = "whsec_test_secret"
LOSE_ANSWER = "lose"
STRIPE_JS = Path(__file__).with_name("stripe_js_standin.js")
# Stripe's test card numbers -> the PaymentMethod createPaymentMethod makes of them.
TEST_CARD_NUMBERS = {
    "4242424242424242": "pm_card_visa",
    "4000002760003184": "pm_card_threeDSecure2Required",
    "4000000000000002": "pm_card_chargeDeclined",
}
DECLINE_CARDS = {"pm_card_chargeDeclined", "pm_card_visa_chargeDeclined"}
THREE_D_SECURE_CARDS = {"pm_card_threeDSecure2Required", "pm_card_authenticationRequired"}


def parse_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Turn Stripe's form encoding (``metadata[order_number]=X``) into nested dicts."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        target = result
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    return result


def _id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


class StripeStandIn:
    """The server's state. ``fail_next`` holds statuses (500, 429, ...) to answer the next
    requests with before anything runs (``LOSE_ANSWER``: run it, then answer 500 as if the
    answer were lost on the way); ``requests`` logs ``(method, path, idempotency_key)``."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.intents: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.idempotent: dict[str, tuple[int, dict[str, Any]]] = {}
        self.fail_next: list[int | str] = []
        self.requests: list[tuple[str, str, str]] = []
        # Called with a new intent that took money, before its answer is sent (a test may
        # kill the client there: the charge made, its answer never received).
        self.on_charge: Callable[[dict[str, Any]], None] | None = None
        # Where Stripe would deliver events (the shop's endpoint), signed with this secret;
        # empty: no deliveries. ``delivered`` logs ``(event type, HTTP status)``.
        self.webhook_url = ""
        self.webhook_secret = WEBHOOK_SECRET
        self.delivered: list[tuple[str, int]] = []
        self._event_number = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> StripeStandIn:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def succeed(self, intent_id: str) -> dict[str, Any]:
        """The customer finished 3-D Secure: the intent succeeds; return it (and deliver its
        ``payment_intent.succeeded`` event when ``webhook_url`` is set)."""
        with self.lock:
            intent = self.intents[intent_id]
            intent.update(
                status="succeeded",
                next_action=None,
                amount_received=intent["amount"],
                latest_charge=_id("ch"),
            )
            snapshot = dict(intent)
        self.deliver("payment_intent.succeeded", snapshot)
        return snapshot

    def deliver(self, kind: str, obj: dict[str, Any]) -> None:
        """Send a signed event to ``webhook_url`` from another thread, as Stripe does."""
        if not self.webhook_url:
            return
        with self.lock:
            self._event_number += 1
            event_id = f"evt_standin_{self._event_number}_{uuid.uuid4().hex[:8]}"
        payload, signature = signed_event(kind, obj, event_id, secret=self.webhook_secret)

        def send() -> None:
            request = urllib.request.Request(
                self.webhook_url,
                data=payload.encode(),
                headers={"Content-Type": "application/json", "Stripe-Signature": signature},
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                    status = response.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            with self.lock:
                self.delivered.append((kind, status))

        threading.Thread(target=send, daemon=True).start()

    def fail(self, intent_id: str) -> dict[str, Any]:
        """The customer failed 3-D Secure: the intent needs another payment method."""
        snapshot = self._fail(intent_id)
        self.deliver("payment_intent.payment_failed", snapshot)
        return snapshot

    def _fail(self, intent_id: str) -> dict[str, Any]:
        with self.lock:
            intent = self.intents[intent_id]
            intent.update(
                status="requires_payment_method",
                next_action=None,
                last_payment_error={
                    "code": "payment_intent_authentication_failure",
                    "message": "The provided PaymentMethod has failed authentication.",
                    "type": "card_error",
                },
            )
            return dict(intent)

    def charges(self) -> list[dict[str, Any]]:
        """The intents that took money."""
        return [i for i in self.intents.values() if i["status"] == "succeeded"]

    # -- the API ------------------------------------------------------------------------------
    def handle(
        self, method: str, path: str, params: dict[str, Any], key: str
    ) -> tuple[int, dict[str, Any]]:
        lost = False
        with self.lock:
            self.requests.append((method, path, key))
            if self.fail_next:
                failure = self.fail_next.pop(0)
                if failure != LOSE_ANSWER:
                    status = int(failure)
                    return status, _error("api_error", "Injected failure.", status=status)
                lost = True
            if method == "POST" and key and key in self.idempotent and not lost:
                return self.idempotent[key]
            answer = self._route(method, path, params)
            if method == "POST" and key:
                self.idempotent[key] = answer
        if lost:
            # Done, but the answer never reaches the client (it sees a server error).
            return 500, _error("api_error", "Injected failure after the request ran.")
        status, body = answer
        if self.on_charge and path == "/v1/payment_intents" and body.get("status") == "succeeded":
            self.on_charge(body)
        return answer

    # -- what Stripe.js calls with the publishable key ---------------------------------------
    def handle_public(self, path: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """``POST /v1/payment_methods`` (createPaymentMethod) and the stand-in's
        ``POST /v1/payment_intents/{id}/authenticate`` (the customer's answer to the 3-D Secure
        challenge that Stripe shows in its frame: ``result=pass`` or ``fail``)."""
        if path == "/v1/payment_methods":
            number = re.sub(r"\D", "", str((params.get("card") or {}).get("number", "")))
            if len(number) < 12:
                return 402, _error(
                    "card_error", "Your card number is incomplete.", "incomplete_number"
                )
            payment_method = TEST_CARD_NUMBERS.get(number, "pm_card_visa")
            return 200, {
                "id": payment_method,
                "object": "payment_method",
                "type": "card",
                "card": {"brand": "visa", "last4": number[-4:]},
            }
        match = re.fullmatch(r"/v1/payment_intents/(\w+)/authenticate", path)
        intent = self.intents.get(match.group(1)) if match else None
        if intent is None or params.get("client_secret") != intent["client_secret"]:
            return 404, _error(
                "invalid_request_error", "No such payment_intent", "resource_missing"
            )
        if intent["status"] != "requires_action":
            return 200, dict(intent)
        if params.get("result") == "fail":
            failed = self.fail(intent["id"])
            body = _error(
                "card_error",
                failed["last_payment_error"]["message"],
                "payment_intent_authentication_failure",
            )
            body["error"]["payment_intent"] = failed
            return 402, body
        return 200, self.succeed(intent["id"])

    def _route(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method == "POST" and path == "/v1/payment_intents":
            return self._create_intent(params)
        if method == "GET" and path == "/v1/payment_intents/search":
            return self._search(params)
        match = re.fullmatch(r"/v1/payment_intents/([\w]+)", path)
        if method == "GET" and match:
            intent = self.intents.get(match.group(1))
            if intent is None:
                return 404, _error(
                    "invalid_request_error", "No such payment_intent", "resource_missing"
                )
            return 200, dict(intent)
        match = re.fullmatch(r"/v1/payment_intents/([\w]+)/cancel", path)
        if method == "POST" and match:
            return self._cancel(match.group(1))
        if method == "POST" and path == "/v1/refunds":
            return self._refund(params)
        return 404, _error("invalid_request_error", f"Unrecognized request URL ({method}: {path}).")

    def _create_intent(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        payment_method = params.get("payment_method", "")
        if not str(payment_method).startswith("pm_"):
            return 400, _error(
                "invalid_request_error",
                f"No such PaymentMethod: '{payment_method}'",
                "resource_missing",
                param="payment_method",
            )
        intent_id = _id("pi")
        intent: dict[str, Any] = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": int(params["amount"]),
            "amount_received": 0,
            "currency": params["currency"],
            "status": "requires_confirmation",
            "client_secret": f"{intent_id}_secret_{uuid.uuid4().hex[:12]}",
            "capture_method": "automatic",
            "confirmation_method": "automatic",
            "created": int(time.time()),
            "description": params.get("description"),
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": params.get("metadata", {}),
            "next_action": None,
            "payment_method": payment_method,
            "payment_method_types": ["card"],
        }
        self.intents[intent_id] = intent
        if params.get("confirm") != "true":
            return 200, dict(intent)
        if payment_method in DECLINE_CARDS:
            error = {
                "code": "card_declined",
                "decline_code": "generic_decline",
                "message": "Your card was declined.",
                "type": "card_error",
            }
            intent.update(status="requires_payment_method", last_payment_error=error)
            body = _error("card_error", "Your card was declined.", "card_declined")
            body["error"].update(decline_code="generic_decline", payment_intent=dict(intent))
            return 402, body
        if payment_method in THREE_D_SECURE_CARDS:
            intent.update(
                status="requires_action",
                next_action={
                    "type": "use_stripe_sdk",
                    "use_stripe_sdk": {"type": "three_d_secure_redirect", "stripe_js": ""},
                },
            )
            return 200, dict(intent)
        intent.update(status="succeeded", amount_received=intent["amount"], latest_charge=_id("ch"))
        return 200, dict(intent)

    def _cancel(self, intent_id: str) -> tuple[int, dict[str, Any]]:
        intent = self.intents.get(intent_id)
        if intent is None:
            return 404, _error(
                "invalid_request_error", "No such payment_intent", "resource_missing"
            )
        if intent["status"] in {"succeeded", "canceled"}:
            body = _error(
                "invalid_request_error",
                f"You cannot cancel this PaymentIntent because it has a status of "
                f"{intent['status']}.",
                "payment_intent_unexpected_state",
            )
            body["error"]["payment_intent"] = dict(intent)
            return 400, body
        intent.update(status="canceled", next_action=None, cancellation_reason="abandoned")
        return 200, dict(intent)

    def _search(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        match = re.fullmatch(r"metadata\['(\w+)'\]:'((?:[^'\\]|\\.)*)'", params.get("query", ""))
        if not match:
            return 400, _error("invalid_request_error", "Unsupported query.", param="query")
        field, value = match.group(1), re.sub(r"\\(.)", r"\1", match.group(2))
        found = [i for i in self.intents.values() if i["metadata"].get(field) == value]
        return 200, {
            "object": "search_result",
            "url": "/v1/payment_intents/search",
            "has_more": False,
            "next_page": None,
            "data": [dict(i) for i in reversed(found)],
        }

    def _refund(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        intent = self.intents.get(params.get("payment_intent", ""))
        if intent is None or intent["status"] != "succeeded":
            return 400, _error(
                "invalid_request_error", "No such payment_intent", "resource_missing"
            )
        refunded = sum(
            r["amount"] for r in self.refunds.values() if r["payment_intent"] == intent["id"]
        )
        amount = int(params.get("amount", intent["amount"] - refunded))
        if refunded + amount > intent["amount"]:
            return 400, _error(
                "invalid_request_error",
                "Refund amount is greater than the amount left to refund.",
                "amount_too_large",
                param="amount",
            )
        refund = {
            "id": _id("re"),
            "object": "refund",
            "amount": amount,
            "charge": intent["latest_charge"],
            "created": int(time.time()),
            "currency": intent["currency"],
            "metadata": params.get("metadata", {}),
            "payment_intent": intent["id"],
            "reason": params.get("reason"),
            "status": "succeeded",
        }
        self.refunds[refund["id"]] = refund
        return 200, dict(refund)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def _answer(self, method: str) -> None:
                parts = urlsplit(self.path)
                if method == "GET" and parts.path == "/v3/":
                    self._script()
                    return
                pairs = parse_qsl(parts.query, keep_blank_values=True)
                if method == "POST":
                    length = int(self.headers.get("Content-Length") or 0)
                    body = self.rfile.read(length).decode()
                    pairs += parse_qsl(body, keep_blank_values=True)
                params = parse_form(pairs)
                if str(params.get("key", "")).startswith("pk_") and method == "POST":
                    status, payload = stand_in.handle_public(parts.path, params)
                elif not (self.headers.get("Authorization") or "").startswith("Bearer sk_"):
                    status, payload = 401, _error("invalid_request_error", "Invalid API Key")
                else:
                    status, payload = stand_in.handle(
                        method,
                        parts.path,
                        params,
                        self.headers.get("Idempotency-Key") or "",
                    )
                data = json.dumps(payload).encode()
                self.send_response(status)
                # Stripe.js calls the API from the shop's pages (another origin).
                self.send_header("Access-Control-Allow-Origin", "*")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", _id("req"))
                self.end_headers()
                self.wfile.write(data)

            def _script(self) -> None:
                data = STRIPE_JS.read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", "text/javascript; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                self._answer("GET")

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                self._answer("POST")

        return Handler


def _error(
    kind: str, message: str, code: str | None = None, *, param: str | None = None, status: int = 0
) -> dict[str, Any]:
    error: dict[str, Any] = {"type": kind, "message": message}
    if code:
        error["code"] = code
    if param:
        error["param"] = param
    return {"error": error}


@pytest.fixture
def stripe_api(settings) -> Iterator[StripeStandIn]:
    """A running stand-in, with the shop's Stripe settings (gateway, keys, webhook secret)
    pointing at it."""
    server = StripeStandIn().start()
    settings.SHOP_PAYMENT_GATEWAY = STRIPE_GATEWAY
    settings.STRIPE_SECRET_KEY = "sk_test_shop"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_shop"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = server.url
    settings.STRIPE_TIMEOUT = 5
    yield server
    server.stop()


def signed_event(
    kind: str, obj: dict[str, Any], event_id: str, *, secret: str = WEBHOOK_SECRET
) -> tuple[str, str]:
    """Return ``(payload, Stripe-Signature header)`` of an event, signed with the real
    library's scheme and the test webhook secret."""
    import stripe

    payload = json.dumps(
        {
            "id": event_id,
            "object": "event",
            "api_version": "2024-06-20",
            "created": int(time.time()),
            "livemode": False,
            "type": kind,
            "data": {"object": obj},
        }
    )
    return payload, stripe.WebhookSignature.generate_signature_header(payload, secret)
