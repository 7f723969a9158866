"""Project roles through HTTP: the default roles, custom roles and their edition gate, unique names
(also under concurrent requests), bad input and tenancy (documented answers)."""

from __future__ import annotations

import asyncio

import pytest

from app.kit.db import Database
from app.members.service import DEFAULT_ROLE_IDS
from tests.conftest import Tenant, TenantFactory, personal_project_id
from tests.member_fixtures import insert_member, insert_user

ADMIN_PERMISSIONS = [
    "READ_APP_CONNECTION",
    "WRITE_APP_CONNECTION",
    "READ_FLOW",
    "WRITE_FLOW",
    "UPDATE_FLOW_STATUS",
    "READ_PROJECT_MEMBER",
    "WRITE_PROJECT_MEMBER",
    "WRITE_INVITATION",
    "READ_INVITATION",
    "WRITE_PROJECT_RELEASE",
    "READ_PROJECT_RELEASE",
    "READ_RUN",
    "WRITE_RUN",
    "WRITE_ALERT",
    "READ_ALERT",
    "WRITE_PROJECT",
    "READ_PROJECT",
    "WRITE_FOLDER",
    "READ_FOLDER",
    "READ_TABLE",
    "WRITE_TABLE",
    "READ_MCP",
    "WRITE_MCP",
    "READ_KNOWLEDGE_BASE",
    "WRITE_KNOWLEDGE_BASE",
    "READ_VARIABLE",
    "WRITE_VARIABLE",
]
VIEWER_PERMISSIONS = [
    "READ_APP_CONNECTION",
    "READ_FLOW",
    "READ_PROJECT_MEMBER",
    "READ_INVITATION",
    "READ_PROJECT",
    "READ_RUN",
    "READ_FOLDER",
    "READ_TABLE",
    "READ_MCP",
    "READ_KNOWLEDGE_BASE",
    "READ_VARIABLE",
]


def not_found(entity_id: str, message: str = "Project Role by id not found") -> dict[str, object]:
    return {
        "statusCode": 404,
        "code": "ENTITY_NOT_FOUND",
        "params": {"entityType": "project_role", "entityId": entity_id, "message": message},
    }


def name_taken(name: str) -> dict[str, object]:
    return {"statusCode": 409, "code": "VALIDATION", "params": {"message": f"Project role name already exists: {name}"}}


FEATURE_DISABLED = {"statusCode": 400, "code": "FEATURE_DISABLED", "params": {"message": "Feature is disabled"}}


async def create(tenant: Tenant, name: str, permissions: list[str] | None = None) -> dict[str, object]:
    response = await tenant.client.post(
        "/v1/project-roles", json={"name": name, "permissions": permissions or [], "type": "CUSTOM"}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_every_platform_has_the_default_roles(tenant: Tenant) -> None:
    response = await tenant.client.get("/v1/project-roles")
    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None and body["previous"] is None
    assert [(r["id"], r["name"], r["type"], r["platformId"], r["userCount"]) for r in body["data"]] == [
        (DEFAULT_ROLE_IDS["Admin"], "Admin", "DEFAULT", None, 0),
        (DEFAULT_ROLE_IDS["Editor"], "Editor", "DEFAULT", None, 0),
        (DEFAULT_ROLE_IDS["Viewer"], "Viewer", "DEFAULT", None, 0),
    ]
    assert body["data"][0]["permissions"] == ADMIN_PERMISSIONS
    assert body["data"][2]["permissions"] == VIEWER_PERMISSIONS
    viewer = await tenant.client.get(f"/v1/project-roles/{DEFAULT_ROLE_IDS['Viewer']}")
    assert viewer.status_code == 200
    assert viewer.json() == {
        "id": DEFAULT_ROLE_IDS["Viewer"],
        "created": "2024-01-01T00:00:02.000Z",
        "updated": "2024-01-01T00:00:02.000Z",
        "name": "Viewer",
        "permissions": VIEWER_PERMISSIONS,
        "platformId": None,
        "type": "DEFAULT",
    }


async def test_a_custom_role_is_listed_after_the_default_ones_with_its_platforms_user_count(
    tenant: Tenant, make_tenant: TenantFactory, db: Database
) -> None:
    role = await create(tenant, "Auditor", ["READ_FLOW", "READ_RUN"])
    assert role["platformId"] == tenant.platform_id
    assert role["type"] == "CUSTOM"
    assert role["permissions"] == ["READ_FLOW", "READ_RUN"]
    assert role["created"] == role["updated"]
    assert "userCount" not in role
    project_id = await personal_project_id(tenant)
    user_id = await insert_user(db, tenant.platform_id)
    await insert_member(db, tenant.platform_id, project_id, user_id, role_id=str(role["id"]))
    await insert_member(db, tenant.platform_id, project_id, tenant.owner_id, role="Viewer")
    # Another platform's members of a default role do not count here.
    other = await make_tenant()
    await insert_member(db, other.platform_id, await personal_project_id(other), other.owner_id, role="Viewer")

    listed = (await tenant.client.get("/v1/project-roles")).json()["data"]
    assert [(r["name"], r["userCount"]) for r in listed] == [("Admin", 0), ("Editor", 0), ("Viewer", 1), ("Auditor", 1)]
    assert listed[3] == {**role, "userCount": 1}
    assert (await tenant.client.get(f"/v1/project-roles/{role['id']}")).json() == role
    assert [r["name"] for r in (await other.client.get("/v1/project-roles")).json()["data"]] == [
        "Admin",
        "Editor",
        "Viewer",
    ]


async def test_a_platform_creates_only_custom_roles(tenant: Tenant, make_tenant: TenantFactory) -> None:
    response = await tenant.client.post(
        "/v1/project-roles", json={"name": "Sneaky", "permissions": [], "type": "DEFAULT"}
    )
    assert response.status_code == 201
    assert response.json()["type"] == "CUSTOM"
    other = await make_tenant()
    assert "Sneaky" not in [r["name"] for r in (await other.client.get("/v1/project-roles")).json()["data"]]


async def test_a_name_is_unique_on_the_platform_in_any_case(tenant: Tenant, make_tenant: TenantFactory) -> None:
    await create(tenant, "Release Manager")
    again = await tenant.client.post(
        "/v1/project-roles", json={"name": "release manager", "permissions": [], "type": "CUSTOM"}
    )
    assert again.status_code == 409
    assert again.json() == name_taken("release manager")
    default = await tenant.client.post("/v1/project-roles", json={"name": "ADMIN", "permissions": [], "type": "CUSTOM"})
    assert default.status_code == 409
    assert default.json() == name_taken("ADMIN")
    # Another platform may have a role of the same name.
    other = await make_tenant()
    await create(other, "Release Manager")


@pytest.mark.parametrize("name", ["admin", "EDITOR", "vIEWER"])
async def test_a_default_roles_name_in_another_case_is_taken(tenant: Tenant, name: str) -> None:
    response = await tenant.client.post("/v1/project-roles", json={"name": name, "permissions": [], "type": "CUSTOM"})
    assert (response.status_code, response.json()) == (409, name_taken(name))


async def test_concurrent_creates_of_one_name_make_one_role(tenant: Tenant) -> None:
    body = {"name": "Racer", "permissions": ["READ_FLOW"], "type": "CUSTOM"}
    responses = await asyncio.gather(*(tenant.client.post("/v1/project-roles", json=body) for _ in range(8)))
    assert sorted(r.status_code for r in responses) == [201] + [409] * 7
    assert all(r.json() == name_taken("Racer") for r in responses if r.status_code == 409)
    names = [r["name"] for r in (await tenant.client.get("/v1/project-roles")).json()["data"]]
    assert names.count("Racer") == 1


async def test_concurrent_renames_to_one_name_leave_one_role_of_that_name(tenant: Tenant) -> None:
    roles = [await create(tenant, f"Role {i}") for i in range(6)]
    responses = await asyncio.gather(
        *(tenant.client.post(f"/v1/project-roles/{role['id']}", json={"name": "Winner"}) for role in roles)
    )
    assert sorted(r.status_code for r in responses) == [200] + [409] * 5
    names = [r["name"] for r in (await tenant.client.get("/v1/project-roles")).json()["data"]]
    assert names.count("Winner") == 1


async def test_update_renames_and_replaces_permissions(tenant: Tenant) -> None:
    role = await create(tenant, "Builder", ["READ_FLOW"])
    renamed = await tenant.client.post(f"/v1/project-roles/{role['id']}", json={"name": "Maker"})
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Maker"
    assert renamed.json()["permissions"] == ["READ_FLOW"]
    assert renamed.json()["updated"] >= role["updated"]
    replaced = await tenant.client.post(
        f"/v1/project-roles/{role['id']}", json={"permissions": ["READ_FLOW", "WRITE_FLOW"]}
    )
    assert replaced.json()["name"] == "Maker"
    assert replaced.json()["permissions"] == ["READ_FLOW", "WRITE_FLOW"]
    # Its own name in another case is no conflict.
    recased = await tenant.client.post(f"/v1/project-roles/{role['id']}", json={"name": "MAKER"})
    assert recased.status_code == 200
    assert recased.json()["name"] == "MAKER"
    taken = await create(tenant, "Taken")
    clash = await tenant.client.post(f"/v1/project-roles/{role['id']}", json={"name": "taken"})
    assert clash.status_code == 409
    assert clash.json() == name_taken("taken")
    default_name = await tenant.client.post(f"/v1/project-roles/{taken['id']}", json={"name": "Viewer"})
    assert default_name.json() == name_taken("Viewer")


async def test_default_roles_do_not_change(tenant: Tenant) -> None:
    admin_id = DEFAULT_ROLE_IDS["Admin"]
    update = await tenant.client.post(f"/v1/project-roles/{admin_id}", json={"permissions": []})
    assert update.status_code == 404
    assert update.json() == not_found(admin_id)
    # Deleting a default role by name answers as a delete does, and the role stays.
    delete = await tenant.client.delete("/v1/project-roles/Admin")
    assert delete.status_code == 200
    assert delete.content == b""
    admin = (await tenant.client.get(f"/v1/project-roles/{admin_id}")).json()
    assert admin["permissions"] == ADMIN_PERMISSIONS


async def test_delete_takes_the_roles_memberships_with_it(tenant: Tenant, db: Database) -> None:
    role = await create(tenant, "Temporary")
    project_id = await personal_project_id(tenant)
    user_id = await insert_user(db, tenant.platform_id)
    await insert_member(db, tenant.platform_id, project_id, user_id, role_id=str(role["id"]))
    response = await tenant.client.delete("/v1/project-roles/temporary")
    assert response.status_code == 200
    assert (await tenant.client.get(f"/v1/project-roles/{role['id']}")).status_code == 404
    members = await tenant.client.get("/v1/project-members", params={"projectId": project_id})
    assert members.json()["data"] == []
    again = await tenant.client.delete("/v1/project-roles/temporary")
    assert again.status_code == 404
    assert again.json() == not_found("temporary", "Project Role by name and platformId not found")


async def test_another_platforms_role_is_invisible(tenant: Tenant, make_tenant: TenantFactory) -> None:
    other = await make_tenant()
    theirs = await create(other, "Theirs")
    role_id = str(theirs["id"])
    get = await tenant.client.get(f"/v1/project-roles/{role_id}")
    assert get.status_code == 404
    assert get.json() == not_found(role_id)
    update = await tenant.client.post(f"/v1/project-roles/{role_id}", json={"name": "Mine"})
    assert update.status_code == 404
    assert update.json() == not_found(role_id)
    delete = await tenant.client.delete("/v1/project-roles/Theirs")
    assert delete.status_code == 404
    members = await tenant.client.get(f"/v1/project-roles/{role_id}/project-members")
    assert members.json() == {"data": [], "next": None, "previous": None}
    # Untouched, and the name is still free here.
    assert (await other.client.get(f"/v1/project-roles/{role_id}")).json() == theirs
    await create(tenant, "Theirs")


async def test_unknown_role(tenant: Tenant) -> None:
    response = await tenant.client.get("/v1/project-roles/zzzzzzzzzzzzzzzzzzzzz")
    assert response.status_code == 404
    assert response.json() == not_found("zzzzzzzzzzzzzzzzzzzzz")


@pytest.mark.parametrize("edition", ["PRO", "COMMUNITY"])
async def test_custom_roles_need_an_edition_that_has_them(make_tenant: TenantFactory, edition: str) -> None:
    tenant = await make_tenant(edition=edition)
    create = await tenant.client.post("/v1/project-roles", json={"name": "X", "permissions": [], "type": "CUSTOM"})
    assert create.status_code == 400
    assert create.json() == FEATURE_DISABLED
    update = await tenant.client.post(f"/v1/project-roles/{DEFAULT_ROLE_IDS['Admin']}", json={"name": "X"})
    assert update.json() == FEATURE_DISABLED
    delete = await tenant.client.delete("/v1/project-roles/Admin")
    assert delete.json() == FEATURE_DISABLED
    # Reading the roles needs no feature.
    listed = await tenant.client.get("/v1/project-roles")
    assert listed.status_code == 200
    assert len(listed.json()["data"]) == 3


async def test_the_members_of_a_role_across_the_platforms_projects(tenant: Tenant, db: Database) -> None:
    role = await create(tenant, "Reviewer")
    team = await tenant.client.post("/v1/projects", json={"displayName": "Team"})
    project_ids = [await personal_project_id(tenant), team.json()["id"]]
    user_id = await insert_user(db, tenant.platform_id)
    member_ids = [
        await insert_member(db, tenant.platform_id, project_id, user_id, role_id=str(role["id"]))
        for project_id in project_ids
    ]
    await insert_member(db, tenant.platform_id, project_ids[0], tenant.owner_id, role="Editor")
    first = await tenant.client.get(f"/v1/project-roles/{role['id']}/project-members", params={"limit": 1})
    assert first.status_code == 200
    page = first.json()
    assert [m["id"] for m in page["data"]] == member_ids[:1]
    assert page["data"][0]["projectRole"] == role
    assert page["previous"] is None and page["next"]
    second = (
        await tenant.client.get(
            f"/v1/project-roles/{role['id']}/project-members", params={"limit": 1, "cursor": page["next"]}
        )
    ).json()
    assert [m["id"] for m in second["data"]] == member_ids[1:]
    assert second["next"] is None and second["previous"]


@pytest.mark.sends_invalid_requests("bodies the real CreateProjectRoleRequestBody refuses")
@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {},
            "body must have required property 'name', body must have required property 'permissions', "
            "body must have required property 'type'",
        ),
        ({"name": "a.b", "permissions": [], "type": "CUSTOM"}, 'body/name must match pattern "^[^./]+$"'),
        ({"name": "ok", "permissions": "READ_FLOW", "type": "CUSTOM"}, "body/permissions must be array"),
        (
            {"name": "ok", "permissions": [1], "type": "OTHER"},
            "body/permissions/0 must be string, body/type must be equal to one of the allowed values",
        ),
    ],
)
async def test_create_refuses_bad_input_naming_every_problem(tenant: Tenant, body: dict, message: str) -> None:
    response = await tenant.client.post("/v1/project-roles", json=body)
    assert response.status_code == 400
    assert response.json() == {"statusCode": 400, "code": "VALIDATION", "params": {"message": message}}


@pytest.mark.sends_invalid_requests("bodies the real UpdateProjectRoleRequestBody refuses")
async def test_update_refuses_bad_input(tenant: Tenant) -> None:
    role = await create(tenant, "Fine")
    response = await tenant.client.post(f"/v1/project-roles/{role['id']}", json={"name": "", "permissions": [None]})
    assert response.status_code == 400
    assert response.json()["params"]["message"] == (
        'body/name must match pattern "^[^./]+$", body/permissions/0 must be string'
    )
