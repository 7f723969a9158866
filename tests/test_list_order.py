"""Each list in the real server's order, page by page forward and back, ties included, in both
compat modes (the docs say nothing of order, so the real server is the answer in both):

- projects: `type` ascending (PERSONAL before TEAM), then `displayName`, then `id`
  (`ee/projects/platform-project-service.ts`, `getForPlatform`);
- flows: `status` descending (ENABLED first), then `updated` descending, then `id`
  (`flows/flow/flow.service.ts`, `list`);
- connections, global and a project's: oldest first, `created` then `id`
  (`app-connection/app-connection-service/app-connection-service.ts`, `list`: `order: 'ASC'`).

The real paginator breaks ties on `id` in the direction of the last sort key
(`helper/pagination/paginator.ts`, `withIdTiebreaker`). Timestamps that must tie are set in the
database, as the real server's own pagination tests do."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text

from app.kit.config import Settings
from app.kit.db import Database
from app.main import create_app
from tests.conftest import TEST_ENCRYPTION_KEY, Tenant, TenantFactory, personal_project_id

LIMIT = 2
SAME_MOMENT = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="session", params=["docs", "server"])
async def app(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[object]:
    """The suite's app once per compat mode: the order is the same in both."""
    application = create_app(
        Settings(
            database_url=database_url,
            run_migrations=False,
            encryption_key=TEST_ENCRYPTION_KEY,
            compat=request.param,
            log_requests=False,
            db_pool_size=2,
            db_max_overflow=2,
        )
    )
    async with application.router.lifespan_context(application):
        yield application


async def walk(tenant: Tenant, path: str, params: dict[str, Any]) -> list[str]:
    """Every page forward (LIMIT rows each), then back from the deepest one by `previous`: both walks
    must see the same pages. Returns the ids in the order the pages gave them."""

    async def get(cursor: str | None) -> dict[str, Any]:
        response = await tenant.client.get(
            path, params={**params, "limit": LIMIT, **({"cursor": cursor} if cursor else {})}
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    pages = [await get(None)]
    while pages[-1]["next"] is not None:
        pages.append(await get(pages[-1]["next"]))
        assert len(pages) < 20, "the pages never end"
    back = [pages[-1]]
    while back[-1]["previous"] is not None:
        back.append(await get(back[-1]["previous"]))
        assert len(back) < 20, "the pages never end"
    forward_ids = [[row["id"] for row in page["data"]] for page in pages]
    assert [[row["id"] for row in page["data"]] for page in reversed(back)] == forward_ids
    assert pages[0]["previous"] is None and all(len(ids) == LIMIT for ids in forward_ids[:-1])
    return [row_id for ids in forward_ids for row_id in ids]


async def set_columns(db: Database, table: str, row_id: str, **values: Any) -> None:
    assignments = ", ".join(f"{column} = :{column}" for column in values)
    async with db.transaction() as conn:
        await conn.execute(text(f"UPDATE {table} SET {assignments} WHERE id = :row_id"), {"row_id": row_id, **values})


async def test_projects_personal_first_then_by_name_then_id(make_tenant: TenantFactory) -> None:
    tenant = await make_tenant()
    personal = await personal_project_id(tenant)
    made = []
    for name in ("beta", "alpha", "beta", "Gamma", "alpha", "beta"):
        response = await tenant.client.post("/v1/projects", json={"displayName": name})
        assert response.status_code == 201, response.text
        made.append((name, response.json()["id"]))
    team = [row_id for _, row_id in sorted(made)]  # displayName, then id (the C collation: "Gamma" first)

    assert await walk(tenant, "/v1/projects", {}) == [personal, *team]
    assert await walk(tenant, "/v1/projects", {"types": "TEAM"}) == team
    assert await walk(tenant, "/v1/projects", {"displayName": "ET"}) == [
        row_id for name, row_id in sorted(made) if "et" in name
    ]


async def test_flows_enabled_first_then_most_recently_updated_then_id(tenant: Tenant, db: Database) -> None:
    project_id = await personal_project_id(tenant)
    flows: list[tuple[str, datetime, str]] = []  # (status, updated, id)
    plan = [
        ("DISABLED", SAME_MOMENT),
        ("ENABLED", datetime(2025, 6, 1, tzinfo=UTC)),
        ("DISABLED", datetime(2026, 3, 1, tzinfo=UTC)),
        ("ENABLED", SAME_MOMENT),
        ("DISABLED", SAME_MOMENT),
        ("ENABLED", SAME_MOMENT),
        ("DISABLED", datetime(2024, 1, 1, tzinfo=UTC)),
    ]
    for index, (status, updated) in enumerate(plan):
        response = await tenant.client.post("/v1/flows", json={"displayName": f"Flow {index}", "projectId": project_id})
        assert response.status_code == 201, response.text
        flow_id = response.json()["id"]
        await set_columns(db, "flow", flow_id, status=status, updated=updated)
        flows.append((status, updated, flow_id))
    expected = [flow_id for _, _, flow_id in sorted(flows, reverse=True)]  # ENABLED > DISABLED, all descending

    assert await walk(tenant, "/v1/flows", {"projectId": project_id}) == expected
    disabled = [flow_id for status, _, flow_id in sorted(flows, reverse=True) if status == "DISABLED"]
    assert await walk(tenant, "/v1/flows", {"projectId": project_id, "status": "DISABLED"}) == disabled


def connection(external_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "externalId": external_id,
        "displayName": f"Slack {external_id}",
        "pieceName": "@activepieces/piece-slack",
        "type": "SECRET_TEXT",
        "value": {"type": "SECRET_TEXT", "secret_text": "s3cret"},
        **extra,
    }


async def made_oldest_first(tenant: Tenant, db: Database, path: str, extra: dict[str, Any]) -> list[str]:
    """Seven connections, some of one `created` moment; their ids oldest first (ties by id)."""
    created = [
        datetime(2026, 3, 1, tzinfo=UTC),
        SAME_MOMENT,
        datetime(2025, 1, 1, tzinfo=UTC),
        SAME_MOMENT,
        datetime(2026, 5, 1, tzinfo=UTC),
        SAME_MOMENT,
        datetime(2024, 1, 1, tzinfo=UTC),
    ]
    made = []
    for index, moment in enumerate(created):
        response = await tenant.client.post(path, json=connection(f"row-{index}", **extra))
        assert response.status_code == 201, response.text
        await set_columns(db, "app_connection", response.json()["id"], created=moment)
        made.append((moment, response.json()["id"]))
    return [row_id for _, row_id in sorted(made)]


async def test_global_connections_oldest_first_then_id(tenant: Tenant, db: Database) -> None:
    expected = await made_oldest_first(tenant, db, "/v1/global-connections", {"scope": "PLATFORM", "projectIds": []})
    assert await walk(tenant, "/v1/global-connections", {}) == expected


async def test_project_connections_oldest_first_then_id(tenant: Tenant, db: Database) -> None:
    project_id = await personal_project_id(tenant)
    expected = await made_oldest_first(tenant, db, "/v1/app-connections", {"projectId": project_id})
    assert await walk(tenant, "/v1/app-connections", {"projectId": project_id}) == expected
