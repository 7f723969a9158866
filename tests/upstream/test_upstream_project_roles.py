"""Translated from `packages/server/api/test/integration/ee/project-role/project-role.test.ts`
(activepieces/activepieces), over HTTP with API keys (a platform key acts as the platform's owner),
with the real server's answers. The cases about a user who is not the platform's owner (403) have
no API-key form: a platform's key is its owner."""

from __future__ import annotations

from app.kit.db import Database
from app.kit.ids import new_id
from tests.conftest import Tenant
from tests.member_fixtures import insert_custom_role


def mock_project_role(platform_id: str, **overrides: object) -> dict[str, object]:
    """The upstream `createMockProjectRole`: a whole role, sent as the request body."""
    return {
        "id": new_id(),
        "name": f"role{new_id()[:8]}",
        "created": "2026-11-30T10:00:00.000Z",
        "updated": "2026-11-30T10:00:00.000Z",
        "permissions": [],
        "platformId": platform_id,
        "type": "CUSTOM",
        **overrides,
    }


# "Create Project Role" / "should create a new project role"
async def test_should_create_a_new_project_role(tenant: Tenant) -> None:
    project_role = mock_project_role(tenant.platform_id)
    response = await tenant.client.post("/v1/project-roles", json=project_role)
    assert response.status_code == 201
    body = response.json()
    assert body["id"]
    assert body["platformId"] == tenant.platform_id
    assert body["name"] == project_role["name"]
    assert body["permissions"] == project_role["permissions"]


# "Get Project Role" / "should get all project roles"
async def test_should_get_all_project_roles(tenant: Tenant) -> None:
    response = await tenant.client.get("/v1/project-roles")
    assert response.status_code == 200


# "Update Project Role" / "should update a project role"
async def test_should_update_a_project_role(tenant: Tenant, db: Database) -> None:
    role_id = await insert_custom_role(db, tenant.platform_id, "lorem", [])
    response = await tenant.client.post(
        f"/v1/project-roles/{role_id}", json={"name": "ipsum", "permissions": ["read", "write"]}
    )
    assert response.status_code == 200


# "Delete Project Role" / "should delete a project role"
async def test_should_delete_a_project_role(tenant: Tenant, db: Database) -> None:
    await insert_custom_role(db, tenant.platform_id, "dolor", [])
    response = await tenant.client.delete("/v1/project-roles/dolor")
    assert response.status_code == 200


# "Delete Project Role" / "should fail to delete a project role if project role does not exist"
async def test_should_fail_to_delete_a_project_role_if_project_role_does_not_exist(tenant: Tenant) -> None:
    response = await tenant.client.delete("/v1/project-roles/sit")
    assert response.status_code == 404
