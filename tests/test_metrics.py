"""`GET /metrics` (Prometheus): requests by route template, method and status, latency, errors by
code, the database pools; liveness and readiness; several workers counted as one server."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.edge import metrics
from app.kit.config import Settings
from app.kit.db import Database
from app.main import create_app
from tests.conftest import Tenant, personal_project_id
from tests.processes import running_server

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
MISSING_PROJECT = "aaaaaaaaaaaaaaaaaaaaa"


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return parse(response.text)


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


@pytest.mark.sends_invalid_requests("sends one invalid body to count a 400")
async def test_requests_are_counted_by_route_template_method_and_status(
    tenant: Tenant, anonymous: httpx.AsyncClient
) -> None:
    project_id = await personal_project_id(tenant)
    before = await scrape(anonymous)

    for path in (f"/v1/projects/{project_id}", f"/v1/projects/{project_id}", f"/api/v1/projects/{project_id}"):
        assert (await tenant.client.get(path)).status_code == 200
    missing = await tenant.client.get(f"/v1/projects/{MISSING_PROJECT}")
    assert missing.status_code == 404
    refused = await anonymous.get(f"/v1/projects/{project_id}")  # no key: answered by the edge
    assert refused.status_code == 401
    unknown = await tenant.client.get("/v1/no-such-thing/at-all")
    assert unknown.status_code == 404
    invalid = await tenant.client.post("/v1/projects", json={"displayName": 7})
    assert invalid.status_code == 400

    after = await scrape(anonymous)
    by_id = {"method": "GET", "route": "/v1/projects/{id}"}
    requests = "openpieces_http_requests_total"
    assert delta(before, after, requests, **by_id, status="200") == 3  # /api/v1 counted as /v1
    assert delta(before, after, requests, **by_id, status="404") == 1
    assert delta(before, after, requests, **by_id, status="401") == 1
    assert delta(before, after, requests, method="GET", route="unmatched", status="404") == 1
    assert delta(before, after, requests, method="POST", route="/v1/projects", status="400") == 1

    errors = "openpieces_http_errors_total"
    assert missing.json()["code"] == "ENTITY_NOT_FOUND"
    assert delta(before, after, errors, **by_id, status="404", code="ENTITY_NOT_FOUND") == 1
    assert delta(before, after, errors, **by_id, status="401", code=refused.json()["code"]) == 1
    assert delta(before, after, errors, method="GET", route="unmatched", status="404", code=unknown.json()["code"]) == 1
    assert delta(before, after, errors, method="POST", route="/v1/projects", status="400", code="VALIDATION") == 1
    assert delta(before, after, errors, **by_id, status="200", code="UNKNOWN") == 0  # successes are no errors

    latency = "openpieces_http_request_duration_seconds"
    assert delta(before, after, f"{latency}_count", **by_id) == 5
    assert delta(before, after, f"{latency}_bucket", **by_id, le="+Inf") == 5
    assert 0 < delta(before, after, f"{latency}_sum", **by_id) < 60
    buckets = sorted(
        float(dict(labels)["le"])
        for name, labels in after
        if name == f"{latency}_bucket"
        and dict(labels)["route"] == "/v1/projects/{id}"
        and dict(labels)["method"] == "GET"
    )
    assert buckets == [*metrics.LATENCY_BUCKETS, float("inf")]

    # A raw path (with an id) is never a label: the series stay few whatever the traffic.
    assert not any(project_id in label for _, labels in after for _, label in labels)


async def test_database_pools_are_reported_for_both_pools(anonymous: httpx.AsyncClient, tenant: Tenant) -> None:
    await personal_project_id(tenant)  # both pools used at least once
    samples = await scrape(anonymous)
    series = {
        (name, tuple(sorted(dict(labels).items()))) for name, labels in samples if name.startswith("openpieces_db_pool")
    }
    assert series == {
        (name, labels)
        for pool in ("sqlalchemy", "asyncpg")
        for name, labels in (
            ("openpieces_db_pool_connections", (("pool", pool), ("state", "idle"))),
            ("openpieces_db_pool_connections", (("pool", pool), ("state", "in_use"))),
            ("openpieces_db_pool_waiting", (("pool", pool),)),
            ("openpieces_db_pool_limit", (("pool", pool),)),
        )
    }
    settings = Settings()
    assert (
        value(samples, "openpieces_db_pool_limit", pool="sqlalchemy")
        == settings.db_pool_size + settings.db_max_overflow
    )
    assert value(samples, "openpieces_db_pool_limit", pool="asyncpg") == settings.db_pool_size
    # The scrape itself holds no connection; the requests before it have given theirs back.
    assert value(samples, "openpieces_db_pool_connections", pool="asyncpg", state="in_use") == 0
    assert value(samples, "openpieces_db_pool_connections", pool="asyncpg", state="idle") >= 1


async def test_callers_queued_for_a_full_pool_are_counted_as_waiting(database_url: str) -> None:
    db = Database(database_url, pool_size=1, max_overflow=0)
    try:
        async with db.fast_read(), db.read():
            waiters = [asyncio.create_task(_fast_read_once(db)), asyncio.create_task(_read_once(db))]
            await asyncio.sleep(0.2)
            stats = {pool.name: pool for pool in db.pool_stats()}
            assert (stats["asyncpg"].in_use, stats["asyncpg"].waiting, stats["asyncpg"].limit) == (1, 1, 1)
            assert (stats["sqlalchemy"].in_use, stats["sqlalchemy"].waiting, stats["sqlalchemy"].limit) == (1, 1, 1)
            metrics.record_pools(db.pool_stats())
            text = metrics.scrape().decode()
            assert 'openpieces_db_pool_waiting{pool="asyncpg"} 1.0' in text
            assert 'openpieces_db_pool_waiting{pool="sqlalchemy"} 1.0' in text
        await asyncio.gather(*waiters)
        stats = {pool.name: pool for pool in db.pool_stats()}
        assert [(s.in_use, s.idle, s.waiting) for s in stats.values()] == [(0, 1, 0), (0, 1, 0)]
    finally:
        await db.dispose()


async def _fast_read_once(db: Database) -> None:
    async with db.fast_read() as conn:
        await conn.execute("SELECT 1")


async def _read_once(db: Database) -> None:
    async with db.read() as conn:
        await conn.exec_driver_sql("SELECT 1")


async def test_liveness_needs_no_database_and_readiness_does(anonymous: httpx.AsyncClient) -> None:
    for prefix in ("/v1", "/api/v1"):
        for probe in ("/health", "/health/live", "/health/ready"):
            response = await anonymous.get(f"{prefix}{probe}")
            assert (response.status_code, response.json()) == (200, {"status": "ok"})

    # A database nothing listens on: the process is alive, but not ready.
    app = create_app(
        Settings(
            database_url="postgresql+asyncpg://postgres@127.0.0.1:9/none", run_migrations=False, log_requests=False
        )
    )
    async with app.router.lifespan_context(app), _client(app) as client:
        live = await client.get("/v1/health/live")
        assert (live.status_code, live.json()) == (200, {"status": "ok"})
        for path in ("/v1/health/ready", "/v1/health"):
            response = await client.get(path)
            assert response.status_code == 503
            assert response.json()["code"] == "SERVICE_UNAVAILABLE"


async def test_metrics_can_be_turned_off(database_url: str) -> None:
    app = create_app(
        Settings(database_url=database_url, run_migrations=False, metrics_enabled=False, log_requests=False)
    )
    async with app.router.lifespan_context(app), _client(app) as client:
        response = await client.get("/metrics")
        assert (response.status_code, response.json()["code"]) == (404, "ENTITY_NOT_FOUND")


def _client(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")  # type: ignore[arg-type]


@pytest.mark.slow
def test_several_workers_are_scraped_as_one_server(database_url: str, tmp_path: Path) -> None:
    """`serve --workers 2`: whichever worker answers a scrape counts every worker's requests."""
    env = {"AP_DATABASE_URL": database_url, "AP_DATA_DIR": str(tmp_path), "AP_RUN_MIGRATIONS": "false"}
    with running_server(env, workers=2) as base_url:
        sent = 60
        for _ in range(sent):
            # A new connection each time, so the kernel spreads them over both workers.
            response = httpx.get(f"{base_url}/v1/health/live", headers={"Connection": "close"})
            assert response.status_code == 200
        time.sleep(1.5)  # every worker has written its pool gauges
        for _ in range(4):
            samples = parse(httpx.get(f"{base_url}/metrics", headers={"Connection": "close"}).text)
            live = value(samples, "openpieces_http_requests_total", method="GET", route="/v1/health/live", status="200")
            assert live == sent
            # Gauges add up over the live workers: two pools of the default size.
            assert value(samples, "openpieces_db_pool_limit", pool="asyncpg") == 2 * Settings().db_pool_size
            assert not any("pid" in dict(labels) for _, labels in samples)
