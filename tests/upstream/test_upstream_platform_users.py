"""Translated from `packages/server/api/test/integration/cloud/user/platform-user.test.ts` and its
older form `enterprise-user.test.ts` (activepieces/activepieces), over HTTP with API keys, with the
real server's answers. Cases that need a user's session token (a MEMBER refused with 403, a JWT
user) have no API-key form and are not translated."""

from __future__ import annotations

import pytest

from app.kit.db import Database
from app.kit.ids import new_id
from tests.conftest import Tenant, TenantFactory
from tests.upstream.helpers import add_user, create_team_project


# platform-user.test.ts: "List users endpoint" / "Allows service accounts"
async def test_list_users_allows_service_accounts(tenant: Tenant) -> None:
    response = await tenant.client.get("/api/v1/users", params={"platformId": tenant.platform_id})
    assert response.status_code == 200
    body = response.json()
    assert len(body) == 3
    assert len(body["data"]) == 1
    assert body["data"][0]["id"] == tenant.owner_id


# enterprise-user.test.ts: "List users endpoint" / "Returns a list of users"
async def test_list_users_returns_a_list_of_users(make_tenant: TenantFactory) -> None:
    one, two = await make_tenant(), await make_tenant()
    response = await one.client.get("/v1/users", params={"platformId": one.platform_id})
    assert response.status_code == 200
    body = response.json()
    assert len(body) == 3
    assert [user["id"] for user in body["data"]] == [one.owner_id]
    assert "password" not in body["data"][0]
    assert two.owner_id not in [user["id"] for user in body["data"]]


# platform-user.test.ts: "Update user endpoint" / "Failed if own other platform"
async def test_update_user_fails_if_own_other_platform(make_tenant: TenantFactory, db: Database) -> None:
    mine, other = await make_tenant(), await make_tenant()
    user = await add_user(db, mine, platformRole="MEMBER", status="ACTIVE")
    response = await other.client.post(f"/v1/users/{user['id']}", json={"status": "INACTIVE"})
    assert response.status_code == 404
    assert response.json() == {
        "code": "ENTITY_NOT_FOUND",
        "params": {"entityType": "user", "entityId": user["id"], "message": "User not found"},
    }


# platform-user.test.ts: "Update user endpoint" / "Allows service accounts to activate"
async def test_update_user_allows_service_accounts_to_activate(tenant: Tenant, db: Database) -> None:
    user = await add_user(db, tenant, platformRole="MEMBER", status="INACTIVE")
    response = await tenant.client.post(f"/v1/users/{user['id']}", json={"status": "ACTIVE"})
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == user["id"]
    assert "password" not in body
    assert body["status"] == "ACTIVE"


# enterprise-user.test.ts: "Update user endpoint" / "Updates user status to be INACTIVE"
async def test_update_user_status_to_be_inactive(tenant: Tenant, db: Database) -> None:
    user = await add_user(db, tenant, status="ACTIVE")
    response = await tenant.client.post(f"/v1/users/{user['id']}", json={"status": "INACTIVE"})
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == user["id"]
    assert "password" not in body
    assert body["status"] == "INACTIVE"


# enterprise-user.test.ts: "Update user endpoint" / "Fails if user doesn't exist"
async def test_update_user_fails_if_user_does_not_exist(tenant: Tenant) -> None:
    missing = new_id()
    response = await tenant.client.post(f"/v1/users/{missing}", json={"status": "INACTIVE"})
    assert response.status_code == 404
    assert response.json()["code"] == "ENTITY_NOT_FOUND"


# user-service.ts `update`: the platform owner cannot be deactivated ("Admin cannot be deactivated")
async def test_update_user_refuses_to_deactivate_the_platform_owner(tenant: Tenant) -> None:
    response = await tenant.client.post(f"/v1/users/{tenant.owner_id}", json={"status": "INACTIVE"})
    assert response.status_code == 409
    assert response.json() == {"code": "VALIDATION", "params": {"message": "Admin cannot be deactivated"}}


# platform-user.test.ts: "Delete user endpoint" / "Allows platform owner to delete user"
async def test_delete_user_allows_platform_owner_to_delete_user(tenant: Tenant, db: Database) -> None:
    user = await add_user(db, tenant, platformRole="MEMBER")
    response = await tenant.client.delete(f"/api/v1/users/{user['id']}")
    assert response.status_code == 204
    assert response.content == b""


# enterprise-user.test.ts: "Delete user endpoint" / "Removes a user"
async def test_delete_user_removes_a_user(tenant: Tenant, db: Database) -> None:
    user = await add_user(db, tenant)
    response = await tenant.client.delete(f"/v1/users/{user['id']}")
    assert response.status_code == 204
    listed = (await tenant.client.get("/v1/users")).json()["data"]
    assert [row["id"] for row in listed] == [tenant.owner_id]


# platform-user.test.ts (an earlier revision): "Delete user endpoint" / "Removes deleted user project memberships"
async def test_delete_user_removes_deleted_user_project_memberships(tenant: Tenant, db: Database) -> None:
    project = await create_team_project(tenant)
    user = await add_user(db, tenant, projects=[{"projectId": project["id"]}])
    before = (await tenant.client.get(f"/v1/projects/{project['id']}")).json()
    assert before["analytics"]["totalUsers"] == 1
    assert (await tenant.client.delete(f"/v1/users/{user['id']}")).status_code == 204
    after = (await tenant.client.get(f"/v1/projects/{project['id']}")).json()
    assert after["analytics"]["totalUsers"] == 0


# user-service.ts `delete`: the platform owner cannot be deleted ("Platform owner cannot be deleted")
async def test_delete_user_refuses_the_platform_owner(tenant: Tenant) -> None:
    response = await tenant.client.delete(f"/v1/users/{tenant.owner_id}")
    assert response.status_code == 409
    assert response.json() == {"code": "VALIDATION", "params": {"message": "Platform owner cannot be deleted"}}


# user-service.ts `delete`: the user's PERSONAL project goes with them (deletePersonalProjectForUser)
async def test_delete_user_deletes_their_personal_project(tenant: Tenant, db: Database) -> None:
    user = await add_user(db, tenant, externalId="ext-1")
    personal = user["personalProjectId"]
    assert (await tenant.client.get(f"/v1/projects/{personal}")).status_code == 200
    assert (await tenant.client.delete(f"/v1/users/{user['id']}")).status_code == 204
    assert (await tenant.client.get(f"/v1/projects/{personal}")).status_code == 404


# platform-user-controller.ts: the body is UpdateUserRequestBody; anything else is Fastify's 400
@pytest.mark.sends_invalid_requests("a status the real UpdateUserRequestBody refuses")
async def test_update_user_with_a_bad_body_is_fastifys_400(tenant: Tenant, db: Database) -> None:
    user = await add_user(db, tenant)
    response = await tenant.client.post(f"/v1/users/{user['id']}", json={"status": "DELETED"})
    assert response.status_code == 400
    body = response.json()
    assert (body["statusCode"], body["code"], body["error"]) == (400, "FST_ERR_VALIDATION", "Bad Request")
    assert body["message"].startswith("body/status")


# user-service.ts `list` (paginationHelper.decodeCursor): a cursor the server cannot decode is no cursor
async def test_list_users_with_an_undecodable_cursor_is_the_first_page(tenant: Tenant) -> None:
    response = await tenant.client.get("/v1/users", params={"cursor": "not-a-cursor", "limit": 10})
    assert response.status_code == 200
    assert [user["id"] for user in response.json()["data"]] == [tenant.owner_id]
