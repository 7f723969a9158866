"""Translated from `packages/server/api/test/integration/cloud/project/project.test.ts`
(activepieces/activepieces), over HTTP with API keys, with the real server's answers."""

from __future__ import annotations

from tests.conftest import Tenant, TenantFactory
from tests.upstream.helpers import create_team_project


# project.test.ts: "Create Project" / "it should create project by api key"
async def test_it_should_create_project_by_api_key(tenant: Tenant) -> None:
    response = await tenant.client.post("/v1/projects", json={"displayName": "Sparrow"})
    assert response.status_code == 201
    body = response.json()
    assert body["displayName"] == "Sparrow"
    assert body["ownerId"] == tenant.owner_id
    assert body["platformId"] == tenant.platform_id


# project.test.ts: "List Projects by api key" / "it should list platform project"
async def test_it_should_list_platform_project(make_tenant: TenantFactory) -> None:
    mine, other = await make_tenant(), await make_tenant()
    own = await create_team_project(mine, "Mine")
    foreign = await create_team_project(other, "Theirs")
    response = await mine.client.get("/v1/projects")
    assert response.status_code == 200
    ids = [project["id"] for project in response.json()["data"]]
    # Upstream's platform holds one project; ours also has its owner's PERSONAL project.
    assert own["id"] in ids and foreign["id"] not in ids
    assert all(project["platformId"] == mine.platform_id for project in response.json()["data"])


# project.test.ts: "Update Project" / "it should update project as platform owner with api key"
async def test_it_should_update_project_as_platform_owner_with_api_key(tenant: Tenant) -> None:
    project = await create_team_project(tenant)
    response = await tenant.client.post(
        f"/v1/projects/{project['id']}",
        json={"displayName": "Heron", "notifyStatus": "NEVER", "plan": {"tasks": 500}},
    )
    assert response.status_code == 200
    assert response.json()["displayName"] == "Heron"


# project.test.ts (earlier revisions): "Update Project" / "It should not update project if api key
# is not platform owner"
async def test_it_should_not_update_project_if_api_key_is_not_platform_owner(make_tenant: TenantFactory) -> None:
    owner, stranger = await make_tenant(), await make_tenant()
    project = await create_team_project(owner, "Owned")
    response = await stranger.client.post(
        f"/v1/projects/{project['id']}", json={"displayName": "Taken", "notifyStatus": "NEVER"}
    )
    assert response.status_code == 403
    assert response.json() == {
        "code": "AUTHORIZATION",
        "params": {
            "message": "Service is not allowed to access this project",
            "projectId": project["id"],
            "platformId": stranger.platform_id,
        },
    }
    unchanged = await owner.client.get(f"/v1/projects/{project['id']}")
    assert unchanged.json()["displayName"] == "Owned"


# project.test.ts: "Update Project" / "Fails if project is deleted"
async def test_fails_if_project_is_deleted(tenant: Tenant) -> None:
    project = await create_team_project(tenant)
    assert (await tenant.client.delete(f"/v1/projects/{project['id']}")).status_code == 204
    response = await tenant.client.post(f"/v1/projects/{project['id']}", json={"displayName": "Back"})
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "ENTITY_NOT_FOUND"
    assert body["params"]["entityId"] == project["id"]
    assert body["params"]["entityType"] == "project"


# project.test.ts: "Delete Project endpoint" / "Soft deletes project by id"
async def test_soft_deletes_project_by_id(tenant: Tenant) -> None:
    project = await create_team_project(tenant)
    response = await tenant.client.delete(f"/v1/projects/{project['id']}")
    assert response.status_code == 204
    assert (await tenant.client.get(f"/v1/projects/{project['id']}")).status_code == 404


# project.test.ts: "Delete Project endpoint" / "Returns 404 when a platform-scoped API key tries to
# delete a project from another platform" (it replaces the older "Fails if project to delete is not in
# current platform", which answered 403 AUTHORIZATION, as this server did before).
async def test_returns_404_when_an_api_key_tries_to_delete_a_project_from_another_platform(
    make_tenant: TenantFactory,
) -> None:
    """Before, the delete answered 403 AUTHORIZATION ("Service is not allowed to access this project")."""
    owner, stranger = await make_tenant(), await make_tenant()
    project = await create_team_project(owner)
    response = await stranger.client.delete(f"/v1/projects/{project['id']}")
    assert response.status_code == 404
    assert response.json() == {
        "code": "ENTITY_NOT_FOUND",
        "params": {"entityId": project["id"], "entityType": "project", "message": "Project not found"},
    }
    assert (await owner.client.get(f"/v1/projects/{project['id']}")).status_code == 200


# project.test.ts: "Delete Project endpoint" / "Fails if project is already deleted"
async def test_fails_if_project_is_already_deleted(tenant: Tenant) -> None:
    project = await create_team_project(tenant)
    assert (await tenant.client.delete(f"/v1/projects/{project['id']}")).status_code == 204
    response = await tenant.client.delete(f"/v1/projects/{project['id']}")
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "ENTITY_NOT_FOUND"
    assert body["params"]["entityId"] == project["id"]
    assert body["params"]["entityType"] == "project"
