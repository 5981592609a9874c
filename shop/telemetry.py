"""OpenTelemetry wiring: traces go out over OTLP only when an endpoint is configured."""

import os

_configured = False


def configure_tracing() -> bool:
    """Instrument Django when OTEL_EXPORTER_OTLP_ENDPOINT is set; return whether it did.

    Without the variable nothing is imported or patched, so tracing costs nothing.
    """
    global _configured
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
    if _configured or not endpoint:
        return _configured
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    service_name = os.environ.get("OTEL_SERVICE_NAME", "shop")
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    DjangoInstrumentor().instrument()
    _configured = True
    return True
