"""Translated from `packages/server/api/test/integration/cloud/user-invitations/user-invitations.test.ts`
and `ee/user-invitations/repeat-platform-invite.test.ts` (activepieces/activepieces), over HTTP with
API keys (a platform key acts as the platform's owner), with the real server's answers. Left out:
the cases of users' own tokens (each project role inviting or listing), of SMTP (this server sends
no mail: the link is always in the answer), and of the newer platform invitations that name a
project (not in `@activepieces/shared` 0.96.2)."""

from __future__ import annotations

import asyncio

from app.kit.db import Database
from tests.conftest import Tenant, TenantFactory
from tests.upstream.helpers import a_project_id


async def invite_to_project(tenant: Tenant, project_id: str, email: str, role: str = "Admin") -> dict:
    body = {"type": "PROJECT", "email": email, "projectId": project_id, "projectRole": role}
    response = await tenant.client.post("/v1/user-invitations", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def invite_to_platform(tenant: Tenant, email: str, platform_role: str = "OPERATOR") -> dict:
    body = {"type": "PLATFORM", "email": email, "platformRole": platform_role}
    response = await tenant.client.post("/v1/user-invitations", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def platform_invites_of(db: Database, platform_id: str, email: str) -> list[dict]:
    async with db.fast_read() as conn:
        rows = await conn.fetch(
            "SELECT id, platform_role FROM user_invitation WHERE platform_id = $1 AND email = $2 AND type = 'PLATFORM'",
            platform_id,
            email,
        )
    return [dict(row) for row in rows]


# "Invite User" / "Invite user to Platform Member"
async def test_invite_user_to_platform_member(tenant: Tenant) -> None:
    body = {"type": "PLATFORM", "email": "member@example.com", "platformRole": "ADMIN"}
    response = await tenant.client.post("/v1/user-invitations", json=body)
    assert response.status_code == 201


# "Invite User" / "Invite user to other platform project should fail"
async def test_invite_user_to_other_platform_project_should_fail(tenant: Tenant, make_tenant: TenantFactory) -> None:
    other = await make_tenant()
    other_project_id = await a_project_id(other)
    body = {"type": "PROJECT", "email": "x@example.com", "projectId": other_project_id, "projectRole": "Admin"}
    response = await tenant.client.post("/v1/user-invitations", json=body)
    assert response.status_code == 403
    assert response.json()["code"] == "AUTHORIZATION"


# "Invite User" / "Invite user to Project Member using api key"
async def test_invite_user_to_project_member_using_api_key(tenant: Tenant) -> None:
    project_id = await a_project_id(tenant)
    body = {"type": "PROJECT", "email": "p@example.com", "projectId": project_id, "projectRole": "Admin"}
    response = await tenant.client.post("/v1/user-invitations", json=body)
    assert response.status_code == 201


# (no upstream case) the module's assertPermission: project invitations need project roles,
# `platformMustHaveFeatureEnabled` answering 402 FEATURE_DISABLED
async def test_project_invitations_need_project_roles(make_tenant: TenantFactory) -> None:
    tenant = await make_tenant(edition="COMMUNITY")
    project_id = await a_project_id(tenant)
    body = {"type": "PROJECT", "email": "p@example.com", "projectId": project_id, "projectRole": "Admin"}
    response = await tenant.client.post("/v1/user-invitations", json=body)
    assert response.status_code == 402
    assert response.json() == {"code": "FEATURE_DISABLED", "params": {"message": "Feature is disabled"}}


# "List User Invitations" / "should succeed with API key"
async def test_list_should_succeed_with_api_key(tenant: Tenant) -> None:
    project_id = await a_project_id(tenant)
    await invite_to_project(tenant, project_id, "listed@example.com")
    response = await tenant.client.get("/v1/user-invitations", params={"type": "PROJECT"})
    assert response.status_code == 200
    assert len(response.json()["data"]) == 1


# "List User Invitations" / "should return empty list with API key from another platform"
async def test_list_should_return_empty_list_with_api_key_from_another_platform(
    tenant: Tenant, make_tenant: TenantFactory
) -> None:
    project_id = await a_project_id(tenant)
    await invite_to_project(tenant, project_id, "theirs@example.com")
    another = await make_tenant()
    response = await another.client.get("/v1/user-invitations", params={"type": "PROJECT"})
    assert response.status_code == 200
    assert len(response.json()["data"]) == 0


# "List User Invitations" / "should return forbidden when listing invitations for a project owned by
# another platform using API key"
async def test_list_should_return_forbidden_for_a_project_of_another_platform(
    tenant: Tenant, make_tenant: TenantFactory
) -> None:
    other = await make_tenant()
    other_project_id = await a_project_id(other)
    await invite_to_project(other, other_project_id, "theirs@example.com")
    response = await tenant.client.get(
        "/v1/user-invitations", params={"projectId": other_project_id, "type": "PROJECT"}
    )
    assert response.status_code == 403
    assert response.json()["code"] == "AUTHORIZATION"


# "Delete User Invitation" / "Delete User Invitation with API key"
async def test_delete_user_invitation_with_api_key(tenant: Tenant) -> None:
    invitation = await invite_to_platform(tenant, "gone@example.com", "ADMIN")
    response = await tenant.client.delete(f"/v1/user-invitations/{invitation['id']}")
    assert response.status_code == 204


# "Inviting the same email to the platform again" / "updates the pending invite instead of adding a
# second one"
async def test_updates_the_pending_invite_instead_of_adding_a_second_one(tenant: Tenant, db: Database) -> None:
    first = await invite_to_platform(tenant, "again@example.com", "OPERATOR")
    second = await invite_to_platform(tenant, "again@example.com", "ADMIN")
    assert second["id"] == first["id"]
    invitations = await platform_invites_of(db, tenant.platform_id, "again@example.com")
    assert [i["platform_role"] for i in invitations] == ["ADMIN"]


# "Inviting the same email to the platform again" / "matches the email regardless of case"
async def test_matches_the_email_regardless_of_case(tenant: Tenant, db: Database) -> None:
    await invite_to_platform(tenant, "case@example.com")
    await invite_to_platform(tenant, "CASE@EXAMPLE.COM")
    assert len(await platform_invites_of(db, tenant.platform_id, "case@example.com")) == 1


# "Inviting the same email to the platform again" / "creates one invite when two arrive at the same time"
async def test_creates_one_invite_when_two_arrive_at_the_same_time(tenant: Tenant, db: Database) -> None:
    body = {"type": "PLATFORM", "email": "race@example.com", "platformRole": "OPERATOR"}
    responses = await asyncio.gather(*(tenant.client.post("/v1/user-invitations", json=body) for _ in range(2)))
    assert [r.status_code for r in responses] == [201, 201]
    assert len(await platform_invites_of(db, tenant.platform_id, "race@example.com")) == 1


# "Inviting the same email to the platform again" / "keeps one invite per platform for the same email"
async def test_keeps_one_invite_per_platform_for_the_same_email(make_tenant: TenantFactory, db: Database) -> None:
    first, second = await make_tenant(), await make_tenant()
    await invite_to_platform(first, "both@example.com")
    await invite_to_platform(second, "both@example.com")
    assert len(await platform_invites_of(db, first.platform_id, "both@example.com")) == 1
    assert len(await platform_invites_of(db, second.platform_id, "both@example.com")) == 1


# "A platform invite and a project invite for the same project" / "a project invite takes the project
# off the platform invite, and both stay" (the part 0.96.2 has: a platform and a project invitation of
# one email are two invitations)
async def test_a_platform_and_a_project_invite_both_stay(tenant: Tenant) -> None:
    project_id = await a_project_id(tenant)
    await invite_to_platform(tenant, "two@example.com", "MEMBER")
    await invite_to_project(tenant, project_id, "two@example.com", "Viewer")
    platform = (await tenant.client.get("/v1/user-invitations", params={"type": "PLATFORM"})).json()["data"]
    project = (await tenant.client.get("/v1/user-invitations", params={"type": "PROJECT"})).json()["data"]
    assert [(i["platformRole"], i["projectId"]) for i in platform] == [("MEMBER", None)]
    assert [i["projectId"] for i in project] == [project_id]
