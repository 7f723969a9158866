"""Optional OpenTelemetry tracing: a span per request, named by its route template. Off unless
`AP_TRACING_ENABLED=true`, which needs the extra (`pip install 'openpieces[otel]'`); without it,
nothing of OpenTelemetry is imported. Spans go to an OTLP/HTTP collector configured by the standard
variables (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, ...)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

EXTRA_MISSING = "AP_TRACING_ENABLED=true needs the tracing extra: pip install 'openpieces[otel]'"

# Probes and scrapes every few seconds would drown the traces worth reading.
EXCLUDED_URLS = "/metrics,/v1/health,/api/v1/health"


def install_tracing(app: FastAPI, tracer_provider: Any = None) -> None:
    try:
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    except ImportError as exc:
        raise RuntimeError(EXTRA_MISSING) from exc
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=tracer_provider or _otlp_provider(), excluded_urls=EXCLUDED_URLS
    )


def _otlp_provider() -> Any:
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        raise RuntimeError(EXTRA_MISSING) from exc
    # OTEL_SERVICE_NAME, when set, wins over this default.
    provider = TracerProvider(resource=Resource.create({"service.name": "openpieces"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider
