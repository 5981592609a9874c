"""Observability: OTLP tracing only when configured (request, database and task spans), and
request, trace and span ids in the logs (text or JSON).

Tracing tests run in a subprocess: instrumenting Django patches process-wide state
(middleware, psycopg, the task runner, the global tracer provider) that must not leak into the
rest of the suite. The subprocess exports to OpenTelemetry's in-memory exporter and reports
what it got as JSON.
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
from shop.telemetry import JsonFormatter, current_trace_ids

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
    assert lines[0].endswith(" trace_id=- span_id=-")  # tracing is off in the test process


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
    assert (record.request_id, record.trace_id, record.span_id) == ("-", "-", "-")


def test_the_request_log_line_carries_the_client_ip(client, request_log, settings):
    settings.NUM_PROXIES = 1
    client.get("/api/ping/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7")
    [line] = [line for line in request_log.getvalue().splitlines() if "/api/ping/" in line]
    assert line.endswith("client=198.51.100.7 trace_id=- span_id=-")
    record = logging.LogRecord("shop", logging.INFO, __file__, 1, "hello", None, None)
    RequestIdLogFilter().filter(record)
    assert record.client_ip == "-"


def test_log_records_carry_the_ids_of_the_active_span():
    from opentelemetry.sdk.trace import TracerProvider

    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("work") as span:
        record = logging.LogRecord("shop", logging.INFO, __file__, 1, "hello", None, None)
        RequestIdLogFilter().filter(record)
        ids = current_trace_ids()
    context = span.get_span_context()
    assert (record.trace_id, record.span_id) == ids
    assert ids == (format(context.trace_id, "032x"), format(context.span_id, "016x"))
    assert current_trace_ids() == ("-", "-")


def test_the_json_formatter_writes_one_object_per_line_with_the_ids():
    try:
        raise ValueError("bad")
    except ValueError:
        record = logging.LogRecord(
            "shop.x", logging.ERROR, __file__, 1, "failed %s", ("twice",), sys.exc_info()
        )
    record.request_id, record.trace_id, record.span_id = "req-1", "a" * 32, "b" * 16
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["time"].endswith("+00:00")
    assert {k: entry[k] for k in ("level", "logger", "message", "request_id")} == {
        "level": "ERROR",
        "logger": "shop.x",
        "message": "failed twice",
        "request_id": "req-1",
    }
    assert (entry["trace_id"], entry["span_id"]) == ("a" * 32, "b" * 16)
    assert "ValueError: bad" in entry["exc_info"]


LOG_SCRIPT = """
import django
django.setup()
import logging
logging.getLogger("shop.example").warning("hello %s", "world")
"""


def test_log_format_json_makes_the_console_log_json():
    result = subprocess.run(
        [sys.executable, "-c", LOG_SCRIPT],
        cwd=BASE_DIR,
        env=_child_env(LOG_FORMAT="json"),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    entry = json.loads(result.stderr.strip().splitlines()[-1])
    assert (entry["logger"], entry["message"], entry["level"]) == (
        "shop.example",
        "hello world",
        "WARNING",
    )
    assert (entry["request_id"], entry["trace_id"]) == ("-", "-")


def test_an_unknown_log_format_is_refused_at_start_up():
    result = subprocess.run(
        [sys.executable, "-c", LOG_SCRIPT],
        cwd=BASE_DIR,
        env=_child_env(LOG_FORMAT="xml"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "LOG_FORMAT must be 'text' or 'json'" in result.stderr


# Runs in a child process: trace into the in-memory exporter, serve requests and run tasks,
# and report the finished spans and the captured log lines.
MEMORY_SCRIPT = """
import io, json, logging, os
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from shop.telemetry import configure_tracing

exporter = InMemorySpanExporter()
assert configure_tracing(exporter=exporter)

import django
django.setup()
from django.test import Client

console = next(h for h in logging.getLogger().handlers if h.filters)
stream = io.StringIO()
capture = logging.StreamHandler(stream)
capture.setFormatter(console.formatter)
for log_filter in console.filters:
    capture.addFilter(log_filter)
logging.getLogger().addHandler(capture)
logging.getLogger("shop.requests").setLevel(logging.INFO)

statuses = [Client().get(path).status_code for path in json.loads(os.environ["CHILD_PATHS"])]
if os.environ.get("CHILD_TASKS"):
    from shop.tests import telemetry_tasks
    telemetry_tasks.add.enqueue(2, 3)
    telemetry_tasks.fail.enqueue()
    if os.environ["CHILD_TASKS"] == "db":
        telemetry_tasks.count_users.enqueue()

spans = [
    {
        "name": span.name,
        "trace_id": format(span.context.trace_id, "032x"),
        "span_id": format(span.context.span_id, "016x"),
        "parent_id": format(span.parent.span_id, "016x") if span.parent else None,
        "kind": span.kind.name,
        "status": span.status.status_code.name,
        "attributes": {k: v for k, v in span.attributes.items() if isinstance(v, (str, int))},
        "events": [event.name for event in span.events],
    }
    for span in exporter.get_finished_spans()
]
print(json.dumps({"statuses": statuses, "spans": spans, "log": stream.getvalue()}))
"""


def _run_memory_child(paths: list[str], *, tasks: str = "", **env: str) -> dict:
    extra = {"CHILD_PATHS": json.dumps(paths), "CHILD_TASKS": tasks, **env}
    result = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT],
        cwd=BASE_DIR,
        env=_child_env(**extra),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    credentials = db["USER"] or "postgres"
    if db["PASSWORD"]:
        credentials += f":{db['PASSWORD']}"
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def test_each_log_line_of_a_traced_request_carries_its_trace_and_span_ids():
    report = _run_memory_child(["/api/ping/"])
    [server] = [s for s in report["spans"] if s["kind"] == "SERVER"]
    [line] = [x for x in report["log"].splitlines() if "GET /api/ping/ 200" in x]
    assert f"trace_id={server['trace_id']} span_id={server['span_id']}" in line


def test_json_log_lines_of_a_traced_request_carry_its_trace_id():
    report = _run_memory_child(["/api/ping/"], LOG_FORMAT="json")
    [server] = [s for s in report["spans"] if s["kind"] == "SERVER"]
    entries = [json.loads(x) for x in report["log"].splitlines()]
    [entry] = [e for e in entries if e["logger"] == "shop.requests"]
    assert (entry["trace_id"], entry["span_id"]) == (server["trace_id"], server["span_id"])
    assert len(entry["request_id"]) == 32


def test_every_background_task_run_gets_a_span_and_failures_are_recorded():
    report = _run_memory_child([], tasks="plain")
    spans = {s["name"]: s for s in report["spans"]}
    added = spans["task shop.tests.telemetry_tasks.add"]
    failed = spans["task shop.tests.telemetry_tasks.fail"]
    assert (added["kind"], added["status"]) == ("CONSUMER", "UNSET")
    assert added["attributes"]["messaging.destination.name"] == "default"
    assert added["attributes"]["code.function.name"] == "shop.tests.telemetry_tasks.add"
    assert failed["status"] == "ERROR"
    assert "exception" in failed["events"]


@pytest.mark.postgres
@pytest.mark.django_db
def test_database_queries_get_spans_under_their_request():
    report = _run_memory_child(["/api/health/"], DATABASE_URL=_database_url())
    assert report["statuses"] == [200]
    [server] = [s for s in report["spans"] if s["kind"] == "SERVER"]
    queries = [s for s in report["spans"] if s["attributes"].get("db.system") == "postgresql"]
    assert queries, [s["name"] for s in report["spans"]]
    select = next(s for s in queries if "SELECT" in s["name"])
    assert select["trace_id"] == server["trace_id"]
    assert select["parent_id"] == server["span_id"]


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_task_run_by_the_worker_is_a_trace_with_its_queries():
    """As ``db_worker`` runs it: no request around, the task span is the root."""
    report = _run_memory_child([], tasks="db", DATABASE_URL=_database_url())
    [task] = [s for s in report["spans"] if s["name"].endswith("telemetry_tasks.count_users")]
    assert task["parent_id"] is None
    queries = [s for s in report["spans"] if s["attributes"].get("db.system") == "postgresql"]
    assert any(
        q["parent_id"] == task["span_id"] and q["trace_id"] == task["trace_id"] for q in queries
    ), queries
