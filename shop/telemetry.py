"""Observability: OpenTelemetry traces (only when an endpoint is configured) and log context.

With ``OTEL_EXPORTER_OTLP_ENDPOINT`` set, ``configure_tracing`` (called by ``manage.py`` and
``shop/wsgi.py`` before Django starts) exports, from the web and the worker alike:

- a span per request (opentelemetry-instrumentation-django),
- a span per database query (opentelemetry-instrumentation-psycopg), under its request or task,
- a span per background task run (``django_tasks`` ``Task.call``, wrapped here), whichever
  backend runs it: inline (``ImmediateBackend``) under the request that enqueued it, or in
  ``manage.py db_worker`` as the root of its own trace.

Log records get ``trace_id`` and ``span_id`` of the active span (``current_trace_ids``, used by
``shop.middleware.RequestIdLogFilter``) so a log line leads to its trace; ``JsonFormatter``
writes one JSON object per line (``LOG_FORMAT=json``).

Without the variable nothing of OpenTelemetry is imported or patched, so tracing costs nothing.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Tracer

NO_ID = "-"
TASK_SPAN_PREFIX = "task "
_configured = False


def configure_tracing(*, exporter: SpanExporter | None = None) -> bool:
    """Instrument Django, psycopg and background tasks; return whether tracing is on.

    Spans go to the OTLP/HTTP endpoint of ``OTEL_EXPORTER_OTLP_ENDPOINT`` in batches, or,
    when ``exporter`` is given (tests: an ``InMemorySpanExporter``), to it as each span ends.
    Without either nothing is imported or patched. Idempotent: a second call does nothing.
    """
    global _configured
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
    if _configured or (not endpoint and exporter is None):
        return _configured
    from opentelemetry import trace
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    service_name = os.environ.get("OTEL_SERVICE_NAME", "shop")
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    DjangoInstrumentor().instrument()
    PsycopgInstrumentor().instrument()
    _instrument_tasks(trace.get_tracer(__name__))
    _configured = True
    return True


def _instrument_tasks(tracer: Tracer) -> None:
    """Run every background task inside a span named ``task <module.function>``.

    Both task runners (the inline backend and ``db_worker``) call ``Task.call``, so wrapping
    it covers them; an exception the task raises is recorded on the span (status ERROR) and
    propagates unchanged to the runner, which records the failure as usual.
    """
    from django_tasks_db.compat import Task
    from opentelemetry.trace import SpanKind

    original = Task.call
    if getattr(original, "__shop_traced__", False):
        return

    def call(self, *args: Any, **kwargs: Any) -> Any:
        attributes = {
            "messaging.system": "django_tasks",
            "messaging.operation.type": "process",
            "messaging.destination.name": self.queue_name,
            "code.function.name": self.module_path,
            "shop.task.backend": self.backend,
        }
        with tracer.start_as_current_span(
            f"{TASK_SPAN_PREFIX}{self.module_path}", kind=SpanKind.CONSUMER, attributes=attributes
        ):
            return original(self, *args, **kwargs)

    call.__shop_traced__ = True  # type: ignore[attr-defined]
    Task.call = call  # type: ignore[method-assign]


def current_trace_ids() -> tuple[str, str]:
    """Return ``(trace_id, span_id)`` of the active span in hex, or ``("-", "-")``.

    Imports nothing: when OpenTelemetry was never loaded no span can be active.
    """
    trace = sys.modules.get("opentelemetry.trace")
    if trace is None:
        return NO_ID, NO_ID
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return NO_ID, NO_ID
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


class JsonFormatter(logging.Formatter):
    """One JSON object per log line (``LOG_FORMAT=json``), for log collectors.

    Keys: ``time`` (ISO 8601, UTC), ``level``, ``logger``, ``message``, ``request_id``,
    ``trace_id``, ``span_id`` (the last three from ``RequestIdLogFilter``, ``"-"`` when there
    is none), and ``exc_info`` / ``stack_info`` when the record has them.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", NO_ID),
            "trace_id": getattr(record, "trace_id", NO_ID),
            "span_id": getattr(record, "span_id", NO_ID),
        }
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)
