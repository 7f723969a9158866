"""The real server's answers (`AP_COMPAT=server`) where project roles and members differ from the
documented ones: the edition gate is 402, a taken name 409, another platform's members 403."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from app.kit.config import Settings
from app.kit.db import Database
from app.main import create_app
from app.projects.provisioning import PlatformProvisioning
from tests.conftest import TEST_ENCRYPTION_KEY
from tests.member_fixtures import insert_member

ServerTenant = Callable[..., Awaitable[tuple[str, httpx.AsyncClient]]]


@pytest.fixture(scope="module")
async def server_app(database_url: str) -> AsyncIterator[object]:
    application = create_app(
        Settings(
            database_url=database_url,
            run_migrations=False,
            encryption_key=TEST_ENCRYPTION_KEY,
            compat="server",
            log_requests=False,
            db_pool_size=2,
            db_max_overflow=2,
        )
    )
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def server_tenant(server_app: object) -> AsyncIterator[ServerTenant]:
    clients: list[httpx.AsyncClient] = []

    async def make(edition: str = "ENTERPRISE") -> tuple[str, httpx.AsyncClient]:
        created = await PlatformProvisioning(server_app.state.db).create_platform("P", edition)  # type: ignore[attr-defined]
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=server_app),  # type: ignore[arg-type]
            base_url="http://testserver",
            headers={"Authorization": f"Bearer {created.api_key}"},
        )
        clients.append(client)
        return created.platform_id, client

    yield make
    for client in clients:
        await client.aclose()


FEATURE_DISABLED = {"code": "FEATURE_DISABLED", "params": {"message": "Feature is disabled"}}


async def test_the_edition_gate_is_402(server_tenant: ServerTenant) -> None:
    _, client = await server_tenant("PRO")
    create = await client.post("/v1/project-roles", json={"name": "X", "permissions": [], "type": "CUSTOM"})
    assert create.status_code == 402
    assert create.json() == FEATURE_DISABLED
    _, community = await server_tenant("COMMUNITY")
    members = await community.get("/v1/project-members", params={"projectId": "zzzzzzzzzzzzzzzzzzzzz"})
    assert members.status_code == 402
    assert members.json() == FEATURE_DISABLED


async def test_a_taken_name_is_409(server_tenant: ServerTenant) -> None:
    _, client = await server_tenant()
    response = await client.post("/v1/project-roles", json={"name": "editor", "permissions": [], "type": "CUSTOM"})
    assert response.status_code == 409
    assert response.json() == {"code": "VALIDATION", "params": {"message": "Project role name already exists: editor"}}


async def test_another_platforms_members_are_403(server_tenant: ServerTenant, db: Database) -> None:
    platform_id, client = await server_tenant()
    other_platform_id, other = await server_tenant()
    page = (await other.get("/v1/projects", params={"types": "PERSONAL"})).json()
    other_project_id = page["data"][0]["id"]
    owner_id = page["data"][0]["ownerId"]
    member_id = await insert_member(db, other_platform_id, other_project_id, owner_id)
    listed = await client.get("/v1/project-members", params={"projectId": other_project_id})
    assert listed.status_code == 403
    assert listed.json() == {
        "code": "AUTHORIZATION",
        "params": {
            "message": "Service is not allowed to access this project",
            "projectId": other_project_id,
            "platformId": platform_id,
        },
    }
    for response in [
        await client.post(f"/v1/project-members/{member_id}", json={"role": "Admin"}),
        await client.delete(f"/v1/project-members/{member_id}"),
    ]:
        assert response.status_code == 403
        assert response.json() == {
            "code": "AUTHORIZATION",
            "params": {"message": "Service is not allowed to access this project", "platformId": platform_id},
        }
    # Another platform's role stays a 404.
    role = await other.post("/v1/project-roles", json={"name": "Theirs", "permissions": [], "type": "CUSTOM"})
    missing = await client.get(f"/v1/project-roles/{role.json()['id']}")
    assert missing.status_code == 404
