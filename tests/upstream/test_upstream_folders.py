"""Translated from `packages/server/api/test/integration/ce/folders/folder.test.ts` and
`ce/flows/folder/folder-list.test.ts` (activepieces/activepieces), over HTTP with API keys, with the
real server's answers. Upstream saves folders and flows straight into the database; here they are
made through the API. Upstream's "another project" is another test context (its own platform): with
an API key, another platform's folder is answered 403."""

from __future__ import annotations

from typing import Any

from tests.conftest import Tenant, TenantFactory
from tests.upstream.helpers import a_project_id, create_flow

MISSING_ID = "aaaaaaaaaaaaaaaaaaaaa"


async def make_folder(tenant: Tenant, display_name: str = "Folder", project_id: str | None = None) -> dict[str, Any]:
    project_id = project_id or await a_project_id(tenant)
    response = await tenant.client.post("/v1/folders", json={"displayName": display_name, "projectId": project_id})
    assert response.status_code == 200, response.text
    return dict(response.json())


# "Folder API" / "POST / (Create Folder)" / "should create a folder"
async def test_should_create_a_folder(tenant: Tenant) -> None:
    project_id = await a_project_id(tenant)
    response = await tenant.client.post("/v1/folders", json={"displayName": "Test Folder", "projectId": project_id})
    assert response.status_code == 200
    body = response.json()
    assert body["displayName"] == "Test Folder"
    assert body["projectId"] == project_id
    assert len(body["id"]) == 21


# "Folder API" / "POST /:id (Update Folder)" / "should update folder display name"
async def test_should_update_folder_display_name(tenant: Tenant) -> None:
    folder = await make_folder(tenant)
    response = await tenant.client.post(f"/v1/folders/{folder['id']}", json={"displayName": "Updated Name"})
    assert response.status_code == 200
    assert response.json()["displayName"] == "Updated Name"


# "Folder API" / "POST /:id (Update Folder)" / "should return 404 for non-existent folder"
async def test_update_should_return_404_for_non_existent_folder(tenant: Tenant) -> None:
    response = await tenant.client.post(f"/v1/folders/{MISSING_ID}", json={"displayName": "Updated"})
    assert response.status_code == 404


# "Folder API" / "POST /:id (Update Folder)" / "should not update folder from another project"
async def test_should_not_update_folder_from_another_project(make_tenant: TenantFactory) -> None:
    owner, other = await make_tenant(), await make_tenant()
    folder = await make_folder(owner)
    response = await other.client.post(f"/v1/folders/{folder['id']}", json={"displayName": "Hijacked"})
    assert response.status_code == 403
    assert (await owner.client.get(f"/v1/folders/{folder['id']}")).json()["displayName"] == "Folder"


# "Folder API" / "GET /:id (Get Folder)" / "should return a folder by id"
async def test_should_return_a_folder_by_id(tenant: Tenant) -> None:
    folder = await make_folder(tenant)
    response = await tenant.client.get(f"/v1/folders/{folder['id']}")
    assert response.status_code == 200
    assert response.json()["id"] == folder["id"]
    assert response.json()["displayName"] == folder["displayName"]


# "Folder API" / "GET /:id (Get Folder)" / "should return 404 for non-existent folder"
async def test_get_should_return_404_for_non_existent_folder(tenant: Tenant) -> None:
    response = await tenant.client.get(f"/v1/folders/{MISSING_ID}")
    assert response.status_code == 404


# "Folder API" / "GET /:id (Get Folder)" / "should not return folder from another project"
async def test_should_not_return_folder_from_another_project(make_tenant: TenantFactory) -> None:
    owner, other = await make_tenant(), await make_tenant()
    folder = await make_folder(owner)
    response = await other.client.get(f"/v1/folders/{folder['id']}")
    assert response.status_code == 403


# "Folder API" / "GET / (List Folders)" / "should list folders for the project"
async def test_should_list_folders_for_the_project(tenant: Tenant) -> None:
    project_id = await a_project_id(tenant)
    await make_folder(tenant, "One", project_id)
    await make_folder(tenant, "Two", project_id)
    response = await tenant.client.get("/v1/folders", params={"projectId": project_id})
    assert response.status_code == 200
    assert len(response.json()["data"]) == 2


# "Folder API" / "GET / (List Folders)" / "should return empty when no folders exist"
async def test_should_return_empty_when_no_folders_exist(tenant: Tenant) -> None:
    response = await tenant.client.get("/v1/folders", params={"projectId": await a_project_id(tenant)})
    assert response.status_code == 200
    assert len(response.json()["data"]) == 0


# "Folder API" / "GET / (List Folders)" / "should not list folders from another project"
async def test_should_not_list_folders_from_another_project(make_tenant: TenantFactory) -> None:
    owner, other = await make_tenant(), await make_tenant()
    await make_folder(owner)
    response = await other.client.get("/v1/folders", params={"projectId": await a_project_id(other)})
    assert response.status_code == 200
    assert len(response.json()["data"]) == 0


# "Folder API" / "DELETE /:id (Delete Folder)" / "should delete a folder"
async def test_should_delete_a_folder(tenant: Tenant) -> None:
    folder = await make_folder(tenant)
    response = await tenant.client.delete(f"/v1/folders/{folder['id']}")
    assert response.status_code == 200
    assert response.content == b""
    assert (await tenant.client.get(f"/v1/folders/{folder['id']}")).status_code == 404


# "Folder API" / "DELETE /:id (Delete Folder)" / "should return 404 for non-existent folder"
async def test_delete_should_return_404_for_non_existent_folder(tenant: Tenant) -> None:
    response = await tenant.client.delete(f"/v1/folders/{MISSING_ID}")
    assert response.status_code == 404


# "Folder API" / "DELETE /:id (Delete Folder)" / "should not delete folder from another project"
async def test_should_not_delete_folder_from_another_project(make_tenant: TenantFactory) -> None:
    owner, other = await make_tenant(), await make_tenant()
    folder = await make_folder(owner)
    response = await other.client.delete(f"/v1/folders/{folder['id']}")
    assert response.status_code == 403
    assert (await owner.client.get(f"/v1/folders/{folder['id']}")).status_code == 200


# "Folder N+1 fix" / "GET /v1/folders enrichment" / "returns numberOfFlows and numberOfTables per folder"
# This server has no tables: a folder's numberOfTables is 0 (upstream saves one table and expects 1).
async def test_returns_number_of_flows_and_number_of_tables_per_folder(tenant: Tenant) -> None:
    project_id = await a_project_id(tenant)
    folder = await make_folder(tenant, "Enriched", project_id)
    await create_flow(tenant, folderId=folder["id"])
    await create_flow(tenant, folderId=folder["id"])
    response = await tenant.client.get("/v1/folders", params={"projectId": project_id, "limit": 100})
    assert response.status_code == 200
    target = next(f for f in response.json()["data"] if f["id"] == folder["id"])
    assert target["numberOfFlows"] == 2
    assert target["numberOfTables"] == 0


# "Folder N+1 fix" / "GET /v1/flows?folderIds" / "returns flows from the given folders only"
async def test_returns_flows_from_the_given_folders_only(tenant: Tenant) -> None:
    project_id = await a_project_id(tenant)
    folder_a, folder_b, folder_c = [await make_folder(tenant, name, project_id) for name in ("A", "B", "C")]
    flow_a = await create_flow(tenant, folderId=folder_a["id"])
    flow_b = await create_flow(tenant, folderId=folder_b["id"])
    await create_flow(tenant, folderId=folder_c["id"])
    await create_flow(tenant)
    response = await tenant.client.get(
        "/v1/flows", params={"projectId": project_id, "folderIds": [folder_a["id"], folder_b["id"]], "limit": 100}
    )
    assert response.status_code == 200
    assert sorted(f["id"] for f in response.json()["data"]) == sorted([flow_a["id"], flow_b["id"]])


# "Folder N+1 fix" / "GET /v1/flows?folderIds" / "parses more than 20 folderIds as an array (qs arrayLimit)"
async def test_parses_more_than_20_folder_ids_as_an_array(tenant: Tenant) -> None:
    project_id = await a_project_id(tenant)
    folders = [await make_folder(tenant, f"folder-{index}", project_id) for index in range(25)]
    target = await create_flow(tenant, folderId=folders[0]["id"])
    # Repeated keys, as the real frontend sends them (arrayFormat: 'repeat').
    response = await tenant.client.get(
        "/v1/flows", params={"projectId": project_id, "folderIds": [f["id"] for f in folders], "limit": 100}
    )
    assert response.status_code == 200
    assert [f["id"] for f in response.json()["data"]] == [target["id"]]
