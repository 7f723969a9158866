"""What replicas share through PostgreSQL, seen from one process: a change another replica announces
(LISTEN/NOTIFY) is obeyed at once, also after the listening connection was cut; the request log
stays bounded. The multi-process view is tests/test_replicas.py."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import text

from app.admin.traffic import RequestLog
from app.kit.changes import publish
from app.kit.db import Database
from app.main import LISTENER_APPLICATION_NAME
from tests.conftest import Tenant


async def listening_backends(db: Database) -> list[int]:
    async with db.read() as conn:
        rows = await conn.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = :name"),
            {"name": LISTENER_APPLICATION_NAME},
        )
        return [row.pid for row in rows]


async def delete_as_another_replica(db: Database, platform_id: str) -> None:
    async with db.transaction() as conn:
        await conn.execute(text("DELETE FROM platform WHERE id = :id"), {"id": platform_id})
        await publish(conn, "platform_deleted", platformId=platform_id)


async def refused_within(tenant: Tenant, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if (await tenant.client.get("/v1/projects")).status_code == 401:
            return True
        await asyncio.sleep(0.005)
    return False


async def test_a_deletion_announced_by_another_replica_is_obeyed_at_once(tenant: Tenant, db: Database) -> None:
    assert (await tenant.client.get("/v1/projects")).status_code == 200  # cached for AP_AUTH_CACHE_TTL_SECONDS
    await delete_as_another_replica(db, tenant.platform_id)
    assert await refused_within(tenant, 0.1)


async def test_the_listener_reconnects_when_its_connection_is_cut(tenant: Tenant, db: Database) -> None:
    cut = await listening_backends(db)  # this app's (and any other app's on this database)
    assert cut
    async with db.read() as conn:
        for pid in cut:
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    deadline = time.monotonic() + 10
    while len(set(await listening_backends(db)) - set(cut)) < len(cut):
        assert time.monotonic() < deadline, "the listener did not reconnect"
        await asyncio.sleep(0.05)
    assert (await tenant.client.get("/v1/projects")).status_code == 200
    await delete_as_another_replica(db, tenant.platform_id)
    assert await refused_within(tenant, 0.1)


async def test_the_request_log_keeps_only_the_newest_entries(db: Database) -> None:
    log = RequestLog(size=5)
    log.db = db
    for number in range(12):
        entry = {"method": "GET", "path": f"/v1/x/{number}", "status": 200, "ms": 1.0, "bodySize": 0}
        log.record(entry | {"requestId": f"r{number}"})
        if number % 4 == 3:
            await log.flush()
    await log.flush()
    assert [entry["requestId"] for entry in await log.last(100)] == [f"r{number}" for number in range(7, 12)]
    async with db.read() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM admin_request_log"))).scalar_one() == 5
