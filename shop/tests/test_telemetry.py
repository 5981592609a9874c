"""Observability: OTLP tracing only when configured, and request ids in the logs.

Tracing tests run in a subprocess: instrumenting Django patches process-wide state
(middleware, the global tracer provider) that must not leak into the rest of the suite.
"""

import io
import json
import logging
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from shop import telemetry
from shop.middleware import RequestIdLogFilter

BASE_DIR = Path(__file__).resolve().parents[2]

# Runs in a child process: set up tracing exactly like manage.py / wsgi.py do, serve one
# request through Django's test client, flush, and report what was loaded.
CHILD_SCRIPT = """
import json, os, sys
from shop.telemetry import configure_tracing

configured = configure_tracing()

import django
django.setup()
from django.test import Client

response = Client().get("/api/ping/", HTTP_X_REQUEST_ID="trace-me-1")
flushed = None
if configured:
    from opentelemetry import trace
    flushed = trace.get_tracer_provider().force_flush(timeout_millis=10000)
print(json.dumps({
    "configured": configured,
    "status": response.status_code,
    "flushed": flushed,
    "otel_modules": sorted(m for m in sys.modules if m.startswith("opentelemetry")),
}))
"""


def _child_env(**overrides: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("OTEL_") and key != "DJANGO_SETTINGS_MODULE"
    }
    env["DJANGO_SETTINGS_MODULE"] = "shop.settings.test"
    env["PYTHONPATH"] = str(BASE_DIR)
    env.update(overrides)
    return env


def _run_child(env: dict[str, str]) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", CHILD_SCRIPT],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


class _Collector(BaseHTTPRequestHandler):
    """A minimal OTLP/HTTP receiver: records every POST and answers an empty success."""

    received: list[tuple[str, str, bytes]]

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        self.server.received.append((self.path, self.headers.get("Content-Type", ""), body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args):  # keep test output quiet
        return


@pytest.fixture
def otlp_collector():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _wait_for(predicate, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_tracing_is_off_without_an_endpoint(monkeypatch):
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.setattr(telemetry, "_configured", False)
    assert telemetry.configure_tracing() is False


def test_blank_endpoint_counts_as_unset(monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "   ")
    monkeypatch.setattr(telemetry, "_configured", False)
    assert telemetry.configure_tracing() is False


def test_without_an_endpoint_nothing_is_imported_or_instrumented():
    report = _run_child(_child_env())
    assert report["configured"] is False
    assert report["status"] == 200
    assert report["otel_modules"] == []


def test_with_an_endpoint_spans_reach_the_otlp_collector(otlp_collector):
    endpoint = f"http://127.0.0.1:{otlp_collector.server_address[1]}"
    report = _run_child(
        _child_env(OTEL_EXPORTER_OTLP_ENDPOINT=endpoint, OTEL_SERVICE_NAME="shop-test")
    )
    assert report["configured"] is True
    assert report["status"] == 200
    assert report["flushed"] is True
    assert "opentelemetry.instrumentation.django" in report["otel_modules"]

    assert _wait_for(lambda: any(p == "/v1/traces" for p, _, _ in otlp_collector.received))
    path, content_type, body = next(r for r in otlp_collector.received if r[0] == "/v1/traces")
    assert content_type == "application/x-protobuf"

    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    export = ExportTraceServiceRequest.FromString(body)
    services = {
        attr.value.string_value
        for resource_spans in export.resource_spans
        for attr in resource_spans.resource.attributes
        if attr.key == "service.name"
    }
    spans = [
        span
        for resource_spans in export.resource_spans
        for scope_spans in resource_spans.scope_spans
        for span in scope_spans.spans
    ]
    assert services == {"shop-test"}
    assert any("api/ping/" in span.name for span in spans), [s.name for s in spans]


@pytest.fixture
def request_log():
    """Capture `shop.requests` lines formatted exactly as the configured console handler does."""
    configured = [
        handler
        for handler in logging.getLogger().handlers
        if any(isinstance(f, RequestIdLogFilter) for f in handler.filters)
    ]
    assert configured, "LOGGING must attach RequestIdLogFilter to the console handler"
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(configured[0].formatter)
    for log_filter in configured[0].filters:
        handler.addFilter(log_filter)
    logger = logging.getLogger("shop.requests")
    previous_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous_level)


def test_the_request_log_line_carries_the_incoming_request_id(client, request_log):
    response = client.get("/api/ping/", HTTP_X_REQUEST_ID="req-42.abc")
    assert response["X-Request-ID"] == "req-42.abc"
    lines = [line for line in request_log.getvalue().splitlines() if "/api/ping/" in line]
    assert len(lines) == 1
    assert "[req-42.abc] shop.requests: GET /api/ping/ 200" in lines[0]


def test_a_generated_request_id_is_logged_and_echoed(client, request_log):
    response = client.get("/api/ping/")
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    assert f"[{request_id}] shop.requests: GET /api/ping/ 200" in request_log.getvalue()


def test_an_unsafe_request_id_is_replaced_not_logged(client, request_log):
    response = client.get("/api/ping/", HTTP_X_REQUEST_ID="bad id\nforged line")
    request_id = response["X-Request-ID"]
    assert request_id != "bad id\nforged line"
    output = request_log.getvalue()
    assert "forged line" not in output
    assert f"[{request_id}]" in output


def test_log_lines_outside_a_request_show_a_dash():
    record = logging.LogRecord("shop", logging.INFO, __file__, 1, "hello", None, None)
    assert RequestIdLogFilter().filter(record) is True
    assert record.request_id == "-"


def test_the_request_log_line_carries_the_client_ip(client, request_log, settings):
    settings.NUM_PROXIES = 1
    client.get("/api/ping/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7")
    [line] = [line for line in request_log.getvalue().splitlines() if "/api/ping/" in line]
    assert line.endswith("client=198.51.100.7")
    record = logging.LogRecord("shop", logging.INFO, __file__, 1, "hello", None, None)
    RequestIdLogFilter().filter(record)
    assert record.client_ip == "-"
