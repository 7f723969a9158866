"""Translated from `packages/server/api/test/integration/ee/project-members/project-member.test.ts`
(activepieces/activepieces), over HTTP with API keys (a platform key acts as the platform's owner),
with the real server's answers. The cases about users' own tokens (a member without the
permission, the admin of another project, each role listing or deleting) have no API-key form."""

from __future__ import annotations

from app.kit.db import Database
from tests.conftest import Tenant, TenantFactory
from tests.member_fixtures import insert_custom_role, insert_member, insert_user
from tests.upstream.helpers import a_project_id


# "Update project member role" / "should update a project role for a member"
async def test_should_update_a_project_role_for_a_member(tenant: Tenant, db: Database) -> None:
    project_id = await a_project_id(tenant)
    role_id = await insert_custom_role(db, tenant.platform_id, "member writer", ["WRITE_PROJECT_MEMBER"])
    member_id = await insert_member(db, tenant.platform_id, project_id, tenant.owner_id, role_id=role_id)
    response = await tenant.client.post(f"/v1/project-members/{member_id}", json={"role": "VIEWER"})
    assert response.status_code == 200


# "List project members from api" / "should return project members"
async def test_should_return_project_members(tenant: Tenant, db: Database) -> None:
    project_id = await a_project_id(tenant)
    user_id = await insert_user(db, tenant.platform_id)
    member_id = await insert_member(db, tenant.platform_id, project_id, user_id, role="Viewer")
    response = await tenant.client.get("/v1/project-members", params={"projectId": project_id})
    assert response.status_code == 200
    body = response.json()
    assert len(body["data"]) == 1
    assert body["data"][0]["id"] == member_id


# "List project members from api" / "Lists project members for non owner project"
async def test_lists_project_members_for_non_owner_project(
    tenant: Tenant, make_tenant: TenantFactory, db: Database
) -> None:
    other = await make_tenant()
    other_project_id = await a_project_id(other)
    other_user_id = await insert_user(db, other.platform_id)
    await insert_member(db, other.platform_id, other_project_id, other_user_id, role="Viewer")
    response = await tenant.client.get("/v1/project-members", params={"projectId": other_project_id})
    assert response.status_code == 403


# "Delete project member Endpoint" / "Deletes project member"
# "Delete project member Endpoint" / "Delete project member from api"
async def test_delete_project_member_from_api(tenant: Tenant, db: Database) -> None:
    project_id = await a_project_id(tenant)
    user_id = await insert_user(db, tenant.platform_id)
    member_id = await insert_member(db, tenant.platform_id, project_id, user_id, role="Admin")
    response = await tenant.client.delete(f"/v1/project-members/{member_id}")
    assert response.status_code == 204


# "Delete project member Endpoint" / "Delete project member from api for non owner project"
async def test_delete_project_member_from_api_for_non_owner_project(
    tenant: Tenant, make_tenant: TenantFactory, db: Database
) -> None:
    other = await make_tenant()
    other_project_id = await a_project_id(other)
    other_user_id = await insert_user(db, other.platform_id)
    member_id = await insert_member(db, other.platform_id, other_project_id, other_user_id, role="Admin")
    response = await tenant.client.delete(f"/v1/project-members/{member_id}")
    assert response.status_code == 403
