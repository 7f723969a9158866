"""Translated from
`packages/server/api/test/integration/cloud/project/platform-project-global-connections.test.ts`
(activepieces/activepieces), over HTTP with API keys, with the real server's answers."""

from __future__ import annotations

from tests.conftest import Tenant, TenantFactory
from tests.upstream.helpers import a_project_id, create_global_connection, list_global_connections


def by_id(connections: list[dict], connection_id: str) -> dict:
    return next(connection for connection in connections if connection["id"] == connection_id)


async def new_project(tenant: Tenant, display_name: str, **body: object) -> dict:
    response = await tenant.client.post("/api/v1/projects", json={"displayName": display_name, **body})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def set_connections(tenant: Tenant, project_id: str, external_ids: list[str], **body: object) -> dict:
    response = await tenant.client.post(
        f"/api/v1/projects/{project_id}", json={"globalConnectionExternalIds": external_ids, **body}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


# "Create Project with globalConnectionExternalIds" / "assigns selected global connections to the new project"
async def test_assigns_selected_global_connections_to_the_new_project(tenant: Tenant) -> None:
    home = await a_project_id(tenant)
    first, second, not_selected = [await create_global_connection(tenant, [home], f"c{i}") for i in range(3)]
    project = await new_project(
        tenant, "Project With Connections", globalConnectionExternalIds=[first["externalId"], second["externalId"]]
    )
    connections = await list_global_connections(tenant)
    assert project["id"] in by_id(connections, first["id"])["projectIds"]
    assert project["id"] in by_id(connections, second["id"])["projectIds"]
    assert project["id"] not in by_id(connections, not_selected["id"])["projectIds"]


# "Create Project with globalConnectionExternalIds" /
# "creates project without assigning connections when none specified"
async def test_creates_project_without_assigning_connections_when_none_specified(tenant: Tenant) -> None:
    connection = await create_global_connection(tenant, [await a_project_id(tenant)])
    project = await new_project(tenant, "Project Without Connections")
    assert project["id"] not in by_id(await list_global_connections(tenant), connection["id"])["projectIds"]


# "Create Project with globalConnectionExternalIds" / "ignores globalConnectionExternalIds when feature is disabled"
# (no plan flag here: an externalId the platform does not have is skipped the same way)
async def test_ignores_global_connection_external_ids_when_feature_is_disabled(tenant: Tenant) -> None:
    response = await tenant.client.post(
        "/v1/projects",
        json={"displayName": "Project Feature Disabled", "globalConnectionExternalIds": ["non-existent-external-id"]},
    )
    assert response.status_code == 201


# "Update Project globalConnectionExternalIds" / "adds global connections to a project"
async def test_adds_global_connections_to_a_project(tenant: Tenant) -> None:
    home = await a_project_id(tenant)
    first, second = (
        await create_global_connection(tenant, [home], "a"),
        await create_global_connection(tenant, [home], "b"),
    )
    project = await new_project(tenant, "Target Project")
    await set_connections(tenant, project["id"], [first["externalId"], second["externalId"]])
    connections = await list_global_connections(tenant)
    assert project["id"] in by_id(connections, first["id"])["projectIds"]
    assert project["id"] in by_id(connections, second["id"])["projectIds"]


# "Update Project globalConnectionExternalIds" / "removes global connections from a project"
async def test_removes_global_connections_from_a_project(tenant: Tenant) -> None:
    connection = await create_global_connection(tenant, [await a_project_id(tenant)])
    project = await new_project(tenant, "Remove Test", globalConnectionExternalIds=[connection["externalId"]])
    assert project["id"] in by_id(await list_global_connections(tenant), connection["id"])["projectIds"]
    await set_connections(tenant, project["id"], [])
    assert project["id"] not in by_id(await list_global_connections(tenant), connection["id"])["projectIds"]


# "Update Project globalConnectionExternalIds" / "swaps global connections: adds new ones and removes old ones"
async def test_swaps_global_connections_adds_new_ones_and_removes_old_ones(tenant: Tenant) -> None:
    home = await a_project_id(tenant)
    a, b, c = [await create_global_connection(tenant, [home], f"Connection {n}") for n in "ABC"]
    project = await new_project(tenant, "Swap Test", globalConnectionExternalIds=[a["externalId"], b["externalId"]])
    await set_connections(tenant, project["id"], [b["externalId"], c["externalId"]])
    connections = await list_global_connections(tenant)
    assert project["id"] not in by_id(connections, a["id"])["projectIds"]
    assert project["id"] in by_id(connections, b["id"])["projectIds"]
    assert project["id"] in by_id(connections, c["id"])["projectIds"]


# "Update Project globalConnectionExternalIds" / "does not duplicate projectId when assigning same connection twice"
async def test_does_not_duplicate_project_id_when_assigning_same_connection_twice(tenant: Tenant) -> None:
    connection = await create_global_connection(tenant, [await a_project_id(tenant)])
    project = await new_project(tenant, "Idempotency Test", globalConnectionExternalIds=[connection["externalId"]])
    await set_connections(tenant, project["id"], [connection["externalId"]])
    project_ids = by_id(await list_global_connections(tenant), connection["id"])["projectIds"]
    assert project_ids.count(project["id"]) == 1


# "Update Project globalConnectionExternalIds" / "does not modify connections from another platform"
async def test_does_not_modify_connections_from_another_platform(make_tenant: TenantFactory) -> None:
    one, two = await make_tenant(), await make_tenant()
    theirs = await create_global_connection(two, [await a_project_id(two)])
    project = await new_project(one, "Cross Platform Test", globalConnectionExternalIds=[theirs["externalId"]])
    assert project["id"] not in by_id(await list_global_connections(two), theirs["id"])["projectIds"]


# "Update Project globalConnectionExternalIds" / "preserves existing project fields when updating connections"
async def test_preserves_existing_project_fields_when_updating_connections(tenant: Tenant) -> None:
    connection = await create_global_connection(tenant, [await a_project_id(tenant)])
    project = await new_project(tenant, "Original Name")
    updated = await set_connections(tenant, project["id"], [connection["externalId"]], displayName="Updated Name")
    assert updated["displayName"] == "Updated Name"
    assert project["id"] in by_id(await list_global_connections(tenant), connection["id"])["projectIds"]
