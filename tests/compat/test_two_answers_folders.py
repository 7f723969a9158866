"""`AP_COMPAT=server` for folders: the real server's answers where they differ from the documented
ones (the rest of the suite checks those, in tests/test_folders.py)."""

from __future__ import annotations

from tests.conftest import Tenant, TenantFactory, personal_project_id


async def _folder(tenant: Tenant, name: str) -> dict:
    project_id = await personal_project_id(tenant)
    response = await tenant.client.post("/v1/folders", json={"displayName": name, "projectId": project_id})
    assert response.status_code == 200
    return dict(response.json())


async def test_renaming_onto_a_taken_name_is_a_409_validation(tenant: Tenant) -> None:
    await _folder(tenant, "Alpha")
    beta = await _folder(tenant, "Beta")
    response = await tenant.client.post(f"/v1/folders/{beta['id']}", json={"displayName": "alpha"})
    assert response.status_code == 409
    assert response.json() == {"code": "VALIDATION", "params": {"message": "Folder displayName is used"}}


async def test_another_platforms_folder_is_403_on_get_update_and_delete(make_tenant: TenantFactory) -> None:
    owner, stranger = await make_tenant(), await make_tenant()
    folder = await _folder(owner, "Theirs")
    for response in (
        await stranger.client.get(f"/v1/folders/{folder['id']}"),
        await stranger.client.post(f"/v1/folders/{folder['id']}", json={"displayName": "Mine"}),
        await stranger.client.delete(f"/v1/folders/{folder['id']}"),
    ):
        assert response.status_code == 403
        assert response.json() == {
            "code": "AUTHORIZATION",
            "params": {"message": "Service is not allowed to access this project", "platformId": stranger.platform_id},
        }
    assert (await owner.client.get(f"/v1/folders/{folder['id']}")).json()["displayName"] == "Theirs"


async def test_another_platforms_project_named_by_a_folder_request_is_403(make_tenant: TenantFactory) -> None:
    owner, stranger = await make_tenant(), await make_tenant()
    project_id = await personal_project_id(owner)
    forbidden = {
        "code": "AUTHORIZATION",
        "params": {
            "message": "Service is not allowed to access this project",
            "projectId": project_id,
            "platformId": stranger.platform_id,
        },
    }
    for response in (
        await stranger.client.get("/v1/folders", params={"projectId": project_id}),
        await stranger.client.post("/v1/folders", json={"displayName": "x", "projectId": project_id}),
    ):
        assert (response.status_code, response.json()) == (403, forbidden)


async def test_an_undecodable_cursor_is_the_first_page(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    await _folder(tenant, "One")
    first = await tenant.client.get("/v1/folders", params={"projectId": project_id})
    response = await tenant.client.get("/v1/folders", params={"projectId": project_id, "cursor": "%%%"})
    assert response.status_code == 200
    assert response.json() == first.json()


async def test_a_path_id_that_is_not_an_id_is_404(tenant: Tenant) -> None:
    response = await tenant.client.get("/v1/folders/short")
    assert response.status_code == 404
    assert response.json() == {
        "code": "ENTITY_NOT_FOUND",
        "params": {"entityType": "folder", "entityId": "short", "message": "Folder short is not found"},
    }
