"""Optional OpenTelemetry tracing: off by default, a clear start-up error when asked for without the
extra, and a span per request, named by its route template, when on."""

from __future__ import annotations

import sys

import httpx
import pytest

from app.edge.tracing import EXTRA_MISSING
from app.kit.config import Settings
from app.main import create_app
from tests.conftest import Tenant, personal_project_id


def _settings(database_url: str, **overrides: object) -> Settings:
    return Settings(database_url=database_url, run_migrations=False, log_requests=False, **overrides)  # type: ignore[arg-type]


def _client(app: object, api_key: str = "") -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
        base_url="http://testserver",
        headers=headers,
    )


def _has_tracing_middleware(app: object) -> bool:
    # Set by FastAPIInstrumentor.instrument_app.
    return bool(getattr(app, "_is_instrumented_by_opentelemetry", False))


async def test_tracing_is_off_by_default_and_needs_no_extra(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # As if the extra were not installed: importing it fails.
    monkeypatch.setitem(sys.modules, "opentelemetry.instrumentation.fastapi", None)
    app = create_app(_settings(database_url))
    assert not _has_tracing_middleware(app)
    async with app.router.lifespan_context(app), _client(app) as client:
        assert (await client.get("/v1/health/live")).status_code == 200

    with pytest.raises(RuntimeError) as refused:
        create_app(_settings(database_url, tracing_enabled=True))
    assert str(refused.value) == EXTRA_MISSING


async def test_tracing_on_records_a_span_per_request_named_by_its_route(database_url: str, tenant: Tenant) -> None:
    pytest.importorskip("opentelemetry.instrumentation.fastapi")
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    project_id = await personal_project_id(tenant)

    app = create_app(_settings(database_url, tracing_enabled=True), tracer_provider=provider)
    assert _has_tracing_middleware(app)
    async with app.router.lifespan_context(app), _client(app, tenant.api_key) as client:
        assert (await client.get(f"/v1/projects/{project_id}")).status_code == 200
        assert (await client.get("/v1/health")).status_code == 200  # probes are not traced
        assert (await client.get("/metrics")).status_code == 200

    servers = [span for span in exporter.get_finished_spans() if span.kind.name == "SERVER"]
    assert [span.name for span in servers] == ["GET /v1/projects/{id}"]
    attributes = dict(servers[0].attributes or {})
    assert attributes["http.route"] == "/v1/projects/{id}"
    assert attributes.get("http.status_code", attributes.get("http.response.status_code")) == 200
    # The raw path (with the id) is there as the target, never as the span's name.
    assert project_id not in servers[0].name
