"""Translated from `packages/server/api/test/integration/ce/helper/pagination.test.ts`
(activepieces/activepieces). Upstream pages folders and tables, which this API does not serve; the
same cursor paginator serves projects here, so the cases run on `GET /v1/projects`. Rows that must
share a timestamp are arranged in the database, as upstream does."""

from __future__ import annotations

import base64
import json
from datetime import datetime

import pytest
from sqlalchemy import text

from app.kit.db import Database
from tests.conftest import Tenant
from tests.upstream.helpers import create_team_project

SHARED_CREATED = "2026-01-01T00:00:00.000Z"


async def seed_projects(tenant: Tenant, count: int) -> list[str]:
    return [(await create_team_project(tenant, f"project-{index}"))["id"] for index in range(count)]


async def share_created(db: Database, tenant: Tenant, created: str) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            text("UPDATE project SET created = :created WHERE platform_id = :platform_id"),
            {"created": datetime.fromisoformat(created), "platform_id": tenant.platform_id},
        )


async def list_all_pages(tenant: Tenant, limit: int) -> tuple[list[str], int]:
    ids: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, object] = {"limit": limit, "types": "TEAM", **({"cursor": cursor} if cursor else {})}
        response = await tenant.client.get("/v1/projects", params=params)
        assert response.status_code == 200
        body = response.json()
        ids.extend(row["id"] for row in body["data"])
        cursor = body["next"]
        pages += 1
        if cursor is None or pages >= 10:
            return ids, pages


def encode_cursor(inner: str) -> str:
    """Upstream's own cursor encoding: base64 of `next_` and a base64 payload."""
    return base64.b64encode(f"next_{base64.b64encode(inner.encode()).decode()}".encode()).decode()


# "cursor pagination with duplicate timestamps" / "returns every row when all rows share the same created timestamp"
async def test_returns_every_row_when_all_rows_share_the_same_created_timestamp(tenant: Tenant, db: Database) -> None:
    seeded = await seed_projects(tenant, 15)
    await share_created(db, tenant, SHARED_CREATED)
    ids, pages = await list_all_pages(tenant, 10)
    assert pages == 2
    assert len(ids) == 15 and len(set(ids)) == 15
    assert sorted(ids) == sorted(seeded)


# "cursor pagination with duplicate timestamps" / "returns every row when timestamps carry microsecond precision"
async def test_returns_every_row_when_timestamps_carry_microsecond_precision(tenant: Tenant, db: Database) -> None:
    seeded = await seed_projects(tenant, 15)
    await share_created(db, tenant, "2026-01-01T00:00:00.123456+00:00")
    ids, _ = await list_all_pages(tenant, 10)
    assert len(ids) == 15 and len(set(ids)) == 15
    assert sorted(ids) == sorted(seeded)


# "cursor pagination with duplicate timestamps" / "pages backward to the first page with the previous cursor"
async def test_pages_backward_to_the_first_page_with_the_previous_cursor(tenant: Tenant, db: Database) -> None:
    await seed_projects(tenant, 15)
    await share_created(db, tenant, SHARED_CREATED)
    params = {"limit": 10, "types": "TEAM"}
    first = (await tenant.client.get("/v1/projects", params=params)).json()
    second = (await tenant.client.get("/v1/projects", params={**params, "cursor": first["next"]})).json()
    back = await tenant.client.get("/v1/projects", params={**params, "cursor": second["previous"]})
    assert back.status_code == 200
    assert [row["id"] for row in back.json()["data"]] == [row["id"] for row in first["data"]]


# "cursor pagination with duplicate timestamps" / "treats a cursor carrying %s as the first page"
@pytest.mark.parametrize(
    "payload",
    [
        {"created": "not-a-date", "id": "x"},
        {"created": "2026-13-45T99:99:99", "id": "x"},
        {"created": "0000-00-00T00:00:00", "id": "x"},
        {"created": "12345", "id": "x"},
        {"id": "zzzzzzzzzzzzzzzzzzzzz"},
    ],
    ids=[
        "an unparseable timestamp",
        "an out-of-range date",
        "a zero date",
        "bare digits",
        "no leading order field",
    ],
)
async def test_treats_a_cursor_carrying_garbage_as_the_first_page(tenant: Tenant, payload: dict) -> None:
    await seed_projects(tenant, 5)
    response = await tenant.client.get(
        "/v1/projects", params={"limit": 10, "types": "TEAM", "cursor": encode_cursor(json.dumps(payload))}
    )
    assert response.status_code == 200
    assert len(response.json()["data"]) == 5


# "cursor pagination with duplicate timestamps" / "accepts a legacy single-key cursor without failing"
async def test_accepts_a_legacy_single_key_cursor_without_failing(tenant: Tenant) -> None:
    await seed_projects(tenant, 5)
    response = await tenant.client.get(
        "/v1/projects", params={"limit": 10, "cursor": encode_cursor("created:1767225600000")}
    )
    assert response.status_code == 200
