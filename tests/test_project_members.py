"""Project members through HTTP: the list (filters, oldest first, cursors), changing a member's
role by name, removing a member, the edition gate, one membership per user and project, bad input
and tenancy (documented answers); and migration 0011 keeping memberships' roles."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from alembic import command

from app.kit.db import Database, alembic_config, to_plain_url
from app.members.service import DEFAULT_ROLE_IDS
from tests.conftest import Tenant, TenantFactory, personal_project_id
from tests.member_fixtures import insert_custom_role, insert_member, insert_user
from tests.pg import fresh_database

FEATURE_DISABLED = {"statusCode": 400, "code": "FEATURE_DISABLED", "params": {"message": "Feature is disabled"}}


def member_not_found(member_id: str) -> dict[str, object]:
    return {
        "statusCode": 404,
        "code": "ENTITY_NOT_FOUND",
        "params": {"entityType": "project_member", "entityId": member_id, "message": "Project member not found"},
    }


def project_not_found(project_id: str) -> dict[str, object]:
    return {
        "statusCode": 404,
        "code": "ENTITY_NOT_FOUND",
        "params": {"entityType": "project", "entityId": project_id, "message": "Project not found"},
    }


def role_name_not_found(name: str) -> dict[str, object]:
    return {
        "statusCode": 404,
        "code": "ENTITY_NOT_FOUND",
        "params": {
            "entityType": "project_role",
            "entityId": name,
            "message": "Project Role by name and platformId not found",
        },
    }


async def list_members(tenant: Tenant, project_id: str, **params: object) -> dict:
    response = await tenant.client.get("/v1/project-members", params={"projectId": project_id, **params})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_member_is_listed_with_its_user_role_and_project(tenant: Tenant, db: Database) -> None:
    project_id = await personal_project_id(tenant)
    user_id = await insert_user(db, tenant.platform_id, external_id="ext-1")
    member_id = await insert_member(db, tenant.platform_id, project_id, user_id, role="Editor")
    page = await list_members(tenant, project_id)
    assert page["next"] is None and page["previous"] is None
    [member] = page["data"]
    editor = (await tenant.client.get(f"/v1/project-roles/{DEFAULT_ROLE_IDS['Editor']}")).json()
    assert member == {
        "id": member_id,
        "created": member["created"],
        "updated": member["created"],
        "platformId": tenant.platform_id,
        "userId": user_id,
        "projectId": project_id,
        "projectRoleId": DEFAULT_ROLE_IDS["Editor"],
        "user": {
            "id": user_id,
            "email": f"member+{user_id.lower()}@example.com",
            "firstName": "Member",
            "lastName": "User",
            "status": "ACTIVE",
            "platformRole": "MEMBER",
            "externalId": "ext-1",
            "platformId": tenant.platform_id,
            "created": member["user"]["created"],
            "updated": member["user"]["updated"],
            "lastActiveDate": None,
            "imageUrl": None,
        },
        "projectRole": editor,
        "project": {"id": project_id, "displayName": "Platform Owner's Project"},
    }


async def test_members_come_oldest_first_page_by_page(tenant: Tenant, db: Database) -> None:
    project_id = await personal_project_id(tenant)
    member_ids = [
        await insert_member(db, tenant.platform_id, project_id, await insert_user(db, tenant.platform_id))
        for _ in range(5)
    ]
    first = await list_members(tenant, project_id, limit=2)
    assert [m["id"] for m in first["data"]] == member_ids[:2]
    assert first["previous"] is None
    second = await list_members(tenant, project_id, limit=2, cursor=first["next"])
    assert [m["id"] for m in second["data"]] == member_ids[2:4]
    third = await list_members(tenant, project_id, limit=2, cursor=second["next"])
    assert [m["id"] for m in third["data"]] == member_ids[4:]
    assert third["next"] is None
    back = await list_members(tenant, project_id, limit=2, cursor=third["previous"])
    assert [m["id"] for m in back["data"]] == member_ids[2:4]
    assert back["previous"] and back["next"]
    everyone = await list_members(tenant, project_id)
    assert [m["id"] for m in everyone["data"]] == member_ids


async def test_the_list_filters_by_project_and_role(tenant: Tenant, db: Database) -> None:
    project_id = await personal_project_id(tenant)
    team_id = (await tenant.client.post("/v1/projects", json={"displayName": "Team"})).json()["id"]
    user_id = await insert_user(db, tenant.platform_id)
    viewer = await insert_member(db, tenant.platform_id, project_id, user_id, role="Viewer")
    admin = await insert_member(db, tenant.platform_id, project_id, tenant.owner_id, role="Admin")
    in_team = await insert_member(db, tenant.platform_id, team_id, user_id, role="Viewer")
    assert [m["id"] for m in (await list_members(tenant, project_id))["data"]] == [viewer, admin]
    assert [m["id"] for m in (await list_members(tenant, team_id))["data"]] == [in_team]
    by_role = await list_members(tenant, project_id, projectRoleId=DEFAULT_ROLE_IDS["Admin"])
    assert [m["id"] for m in by_role["data"]] == [admin]
    assert (await list_members(tenant, project_id, projectRoleId="zzzzzzzzzzzzzzzzzzzzz"))["data"] == []


async def test_change_a_members_role_by_name_in_any_case(tenant: Tenant, db: Database) -> None:
    project_id = await personal_project_id(tenant)
    user_id = await insert_user(db, tenant.platform_id)
    member_id = await insert_member(db, tenant.platform_id, project_id, user_id, role="Viewer")
    before = (await list_members(tenant, project_id))["data"][0]
    response = await tenant.client.post(f"/v1/project-members/{member_id}", json={"role": "editor"})
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "id": member_id,
        "created": before["created"],
        "updated": body["updated"],
        "platformId": tenant.platform_id,
        "userId": user_id,
        "projectId": project_id,
        "projectRoleId": DEFAULT_ROLE_IDS["Editor"],
    }
    assert body["updated"] >= before["updated"]
    custom_id = await insert_custom_role(db, tenant.platform_id, "Deployer", ["UPDATE_FLOW_STATUS"])
    custom = await tenant.client.post(f"/v1/project-members/{member_id}", json={"role": "Deployer"})
    assert custom.json()["projectRoleId"] == custom_id
    assert (await list_members(tenant, project_id))["data"][0]["projectRole"]["name"] == "Deployer"


async def test_an_unknown_role_or_another_platforms_role_is_not_found(
    tenant: Tenant, make_tenant: TenantFactory, db: Database
) -> None:
    other = await make_tenant()
    await insert_custom_role(db, other.platform_id, "Their Role", [])
    project_id = await personal_project_id(tenant)
    member_id = await insert_member(db, tenant.platform_id, project_id, tenant.owner_id, role="Viewer")
    for name in ["Nobody", "Their Role"]:
        response = await tenant.client.post(f"/v1/project-members/{member_id}", json={"role": name})
        assert response.status_code == 404
        assert response.json() == role_name_not_found(name)
    assert (await list_members(tenant, project_id))["data"][0]["projectRoleId"] == DEFAULT_ROLE_IDS["Viewer"]


async def test_remove_a_member(tenant: Tenant, db: Database) -> None:
    project_id = await personal_project_id(tenant)
    member_id = await insert_member(db, tenant.platform_id, project_id, tenant.owner_id, role="Admin")
    response = await tenant.client.delete(f"/v1/project-members/{member_id}")
    assert response.status_code == 204
    assert response.content == b""
    assert (await list_members(tenant, project_id))["data"] == []
    again = await tenant.client.delete(f"/v1/project-members/{member_id}")
    assert again.status_code == 404
    assert again.json() == member_not_found(member_id)
    update = await tenant.client.post(f"/v1/project-members/{member_id}", json={"role": "Admin"})
    assert update.status_code == 404
    assert update.json() == member_not_found(member_id)


async def test_concurrent_removals_of_one_member_remove_it_once(tenant: Tenant, db: Database) -> None:
    project_id = await personal_project_id(tenant)
    member_id = await insert_member(db, tenant.platform_id, project_id, tenant.owner_id)
    responses = await asyncio.gather(*(tenant.client.delete(f"/v1/project-members/{member_id}") for _ in range(6)))
    assert sorted(r.status_code for r in responses) == [204] + [404] * 5


async def test_concurrent_role_changes_leave_one_of_them(tenant: Tenant, db: Database) -> None:
    project_id = await personal_project_id(tenant)
    member_id = await insert_member(db, tenant.platform_id, project_id, tenant.owner_id)
    names = ["Admin", "Editor", "Viewer"] * 3
    responses = await asyncio.gather(
        *(tenant.client.post(f"/v1/project-members/{member_id}", json={"role": name}) for name in names)
    )
    assert all(r.status_code == 200 for r in responses)
    [member] = (await list_members(tenant, project_id))["data"]
    assert member["projectRoleId"] in DEFAULT_ROLE_IDS.values()


async def test_one_membership_per_user_and_project(tenant: Tenant, db: Database) -> None:
    project_id = await personal_project_id(tenant)
    await insert_member(db, tenant.platform_id, project_id, tenant.owner_id, role="Viewer")
    with pytest.raises(asyncpg.UniqueViolationError):
        await insert_member(db, tenant.platform_id, project_id, tenant.owner_id, role="Admin")


async def test_another_platforms_members_are_invisible(
    tenant: Tenant, make_tenant: TenantFactory, db: Database
) -> None:
    other = await make_tenant()
    other_project_id = await personal_project_id(other)
    member_id = await insert_member(db, other.platform_id, other_project_id, other.owner_id, role="Viewer")
    listed = await tenant.client.get("/v1/project-members", params={"projectId": other_project_id})
    assert listed.status_code == 404
    assert listed.json() == project_not_found(other_project_id)
    update = await tenant.client.post(f"/v1/project-members/{member_id}", json={"role": "Admin"})
    assert update.status_code == 404
    assert update.json() == member_not_found(member_id)
    delete = await tenant.client.delete(f"/v1/project-members/{member_id}")
    assert delete.status_code == 404
    assert delete.json() == member_not_found(member_id)
    by_role = await tenant.client.get(f"/v1/project-roles/{DEFAULT_ROLE_IDS['Viewer']}/project-members")
    assert by_role.json()["data"] == []
    [theirs] = (await list_members(other, other_project_id))["data"]
    assert theirs["id"] == member_id
    assert theirs["projectRoleId"] == DEFAULT_ROLE_IDS["Viewer"]


async def test_unknown_project(tenant: Tenant) -> None:
    response = await tenant.client.get("/v1/project-members", params={"projectId": "zzzzzzzzzzzzzzzzzzzzz"})
    assert response.status_code == 404
    assert response.json() == project_not_found("zzzzzzzzzzzzzzzzzzzzz")


async def test_members_need_an_edition_that_has_them(make_tenant: TenantFactory, db: Database) -> None:
    tenant = await make_tenant(edition="COMMUNITY")
    project_id = await personal_project_id(tenant)
    member_id = await insert_member(db, tenant.platform_id, project_id, tenant.owner_id)
    for response in [
        await tenant.client.get("/v1/project-members", params={"projectId": project_id}),
        await tenant.client.post(f"/v1/project-members/{member_id}", json={"role": "Admin"}),
        await tenant.client.delete(f"/v1/project-members/{member_id}"),
    ]:
        assert response.status_code == 400
        assert response.json() == FEATURE_DISABLED
    pro = await make_tenant(edition="PRO")
    assert (
        await pro.client.get("/v1/project-members", params={"projectId": await personal_project_id(pro)})
    ).status_code == 200


@pytest.mark.sends_invalid_requests("requests the real member routes refuse")
async def test_bad_input_is_refused(tenant: Tenant) -> None:
    no_project = await tenant.client.get("/v1/project-members")
    assert no_project.status_code == 400
    assert no_project.json() == {
        "statusCode": 400,
        "code": "VALIDATION",
        "params": {"message": "querystring must have required property 'projectId'"},
    }
    bad_limit = await tenant.client.get(
        "/v1/project-members", params={"projectId": await personal_project_id(tenant), "limit": "0"}
    )
    assert bad_limit.status_code == 400
    bad_body = await tenant.client.post("/v1/project-members/zzzzzzzzzzzzzzzzzzzzz", json={"role": 1})
    assert bad_body.status_code == 400
    assert bad_body.json()["params"]["message"] == "body/role must be string"
    no_role = await tenant.client.post("/v1/project-members/zzzzzzzzzzzzzzzzzzzzz", json={})
    assert no_role.json()["params"]["message"] == "body must have required property 'role'"
    bad_cursor = await tenant.client.get(
        "/v1/project-members", params={"projectId": await personal_project_id(tenant), "cursor": "garbage"}
    )
    assert bad_cursor.status_code == 400


def test_migration_0011_keeps_every_memberships_role() -> None:
    """Memberships made before roles were rows keep their role: the old names become references to
    the default roles (OPERATOR, which has no default role, becomes Editor); back down, the names
    return."""
    with fresh_database() as url:
        config = alembic_config(url)
        command.upgrade(config, "0006")
        plain = to_plain_url(url)

        async def seed() -> None:
            conn = await asyncpg.connect(plain)
            try:
                await conn.execute(
                    "INSERT INTO platform (id, name, owner_id, edition, team_projects_limit) "
                    "VALUES ('p', 'P', 'u0', 'ENTERPRISE', 'UNLIMITED')"
                )
                for i in range(4):
                    await conn.execute(
                        'INSERT INTO "user" (id, platform_id, email, first_name, last_name, platform_role) '
                        "VALUES ($1, 'p', $1, 'F', 'L', 'MEMBER')",
                        f"u{i}",
                    )
                await conn.execute(
                    "INSERT INTO project (id, platform_id, owner_id, display_name, type, icon_color) "
                    "VALUES ('pr', 'p', 'u0', 'P', 'TEAM', 'RED')"
                )
                for i, role in enumerate(["ADMIN", "EDITOR", "OPERATOR", "VIEWER"]):
                    await conn.execute(
                        "INSERT INTO project_member (id, platform_id, project_id, user_id, project_role) "
                        "VALUES ($1, 'p', 'pr', $2, $3)",
                        f"m{i}",
                        f"u{i}",
                        role,
                    )
            finally:
                await conn.close()

        async def read(column: str) -> dict[str, str]:
            conn = await asyncpg.connect(plain)
            try:
                rows = await conn.fetch(f"SELECT id, {column} FROM project_member ORDER BY id")
            finally:
                await conn.close()
            return {row["id"]: row[column] for row in rows}

        asyncio.run(seed())
        command.upgrade(config, "0011")
        assert asyncio.run(read("project_role_id")) == {
            "m0": DEFAULT_ROLE_IDS["Admin"],
            "m1": DEFAULT_ROLE_IDS["Editor"],
            "m2": DEFAULT_ROLE_IDS["Editor"],
            "m3": DEFAULT_ROLE_IDS["Viewer"],
        }
        command.downgrade(config, "0010")
        assert asyncio.run(read("project_role")) == {"m0": "ADMIN", "m1": "EDITOR", "m2": "EDITOR", "m3": "VIEWER"}


async def test_role_changes_and_the_roles_delete_at_once_never_fail(tenant: Tenant, db: Database) -> None:
    """Changing members to a custom role while the role is deleted: each change either happened
    before the delete (and the membership went with the role) or finds no role; never a 5xx."""
    project_id = await personal_project_id(tenant)
    await insert_custom_role(db, tenant.platform_id, "Short Lived", [])
    member_ids = [
        await insert_member(db, tenant.platform_id, project_id, await insert_user(db, tenant.platform_id))
        for _ in range(6)
    ]
    changes = [tenant.client.post(f"/v1/project-members/{m}", json={"role": "Short Lived"}) for m in member_ids]
    responses = await asyncio.gather(*changes[:3], tenant.client.delete("/v1/project-roles/Short Lived"), *changes[3:])
    assert responses[3].status_code == 200
    assert all(r.status_code in (200, 404) for r in responses)
    remaining = {m["id"] for m in (await list_members(tenant, project_id))["data"]}
    for member_id, response in zip(member_ids, responses[:3] + responses[4:], strict=True):
        # A change that happened went with the role; one that found no role left the member as it was.
        assert (member_id in remaining) == (response.status_code == 404)
