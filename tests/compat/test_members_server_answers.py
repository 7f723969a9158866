"""The real server's answers (`AP_COMPAT=server`) where project roles and members differ from the
documented ones: the edition gate is 402, a taken name 409, another platform's members 403."""

from __future__ import annotations

from app.kit.db import Database
from tests.conftest import TenantFactory
from tests.member_fixtures import insert_member

FEATURE_DISABLED = {"code": "FEATURE_DISABLED", "params": {"message": "Feature is disabled"}}


async def test_the_edition_gate_is_402(make_tenant: TenantFactory) -> None:
    client = (await make_tenant("PRO")).client
    create = await client.post("/v1/project-roles", json={"name": "X", "permissions": [], "type": "CUSTOM"})
    assert create.status_code == 402
    assert create.json() == FEATURE_DISABLED
    community = (await make_tenant("COMMUNITY")).client
    members = await community.get("/v1/project-members", params={"projectId": "zzzzzzzzzzzzzzzzzzzzz"})
    assert members.status_code == 402
    assert members.json() == FEATURE_DISABLED


async def test_a_taken_name_is_409(make_tenant: TenantFactory) -> None:
    client = (await make_tenant()).client
    response = await client.post("/v1/project-roles", json={"name": "editor", "permissions": [], "type": "CUSTOM"})
    assert response.status_code == 409
    assert response.json() == {"code": "VALIDATION", "params": {"message": "Project role name already exists: editor"}}


async def test_another_platforms_members_are_403(make_tenant: TenantFactory, db: Database) -> None:
    mine, theirs = await make_tenant(), await make_tenant()
    platform_id, client = mine.platform_id, mine.client
    other_platform_id, other = theirs.platform_id, theirs.client
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
