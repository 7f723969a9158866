"""What replicas share through PostgreSQL, seen from one process: a change another replica announces
(LISTEN/NOTIFY) is obeyed at once, also after the listening connection was cut; the request log
stays bounded. The multi-process view is tests/test_replicas.py."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import text

from app.admin.traffic import RequestLog
from app.kit.changes import LISTENER_APPLICATION_NAME, ChangeConfirmation, publish
from app.kit.db import Database
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


async def test_a_confirmed_change_is_applied_by_every_listener_before_the_confirmation_returns(
    tenant: Tenant, db: Database
) -> None:
    """The maker of a change answers only once every listening process has applied it: here the
    app's listener has forgotten the key by the time the confirmation returns, with no polling."""
    assert (await tenant.client.get("/v1/projects")).status_code == 200  # cached
    confirmation = ChangeConfirmation(db.connect_direct)
    started = time.monotonic()
    async with confirmation.expecting("change-1") as change:
        async with db.transaction() as conn:
            await conn.execute(text("DELETE FROM platform WHERE id = :id"), {"id": tenant.platform_id})
            await publish(conn, "platform_deleted", change_id=change.id, platformId=tenant.platform_id)
    assert set(await listening_backends(db)) <= change.acknowledged
    assert time.monotonic() - started < 1.0  # acknowledged, not timed out
    assert (await tenant.client.get("/v1/projects")).status_code == 401


async def test_a_confirmation_no_listener_answers_gives_up_after_its_timeout(db: Database) -> None:
    # A backend named like a listener that never acknowledges (a replica whose process froze).
    mute = await db.connect_direct(LISTENER_APPLICATION_NAME)
    try:
        confirmation = ChangeConfirmation(db.connect_direct, timeout=0.3)
        started = time.monotonic()
        async with confirmation.expecting("change-2") as change:
            async with db.transaction() as conn:
                await publish(conn, "reset", change_id=change.id)
        assert 0.3 <= time.monotonic() - started < 2.0
        assert mute.get_server_pid() not in change.acknowledged
    finally:
        await mute.close()
