"""Folders in documented mode: the shape, name uniqueness (any case, by the database, under races),
tenancy, bad input, the list's order and cursors, and how folders and flows point at each other."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from tests.conftest import Tenant, TenantFactory, personal_project_id
from tests.upstream.helpers import create_flow, create_team_project, operate

ID_RE = re.compile(r"^[0-9a-zA-Z]{21}$")
TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
MISSING_ID = "aaaaaaaaaaaaaaaaaaaaa"


def validation(message: str) -> dict[str, Any]:
    return {"statusCode": 400, "code": "VALIDATION", "params": {"message": message}}


def folder_not_found(folder_id: str) -> dict[str, Any]:
    return {
        "statusCode": 404,
        "code": "ENTITY_NOT_FOUND",
        "params": {"entityType": "folder", "entityId": folder_id, "message": f"Folder {folder_id} is not found"},
    }


def project_not_found(project_id: str) -> dict[str, Any]:
    return {
        "statusCode": 404,
        "code": "ENTITY_NOT_FOUND",
        "params": {"entityType": "project", "entityId": project_id, "message": "Project not found"},
    }


async def make_folder(tenant: Tenant, display_name: str, project_id: str | None = None) -> dict[str, Any]:
    project_id = project_id or await personal_project_id(tenant)
    response = await tenant.client.post("/v1/folders", json={"displayName": display_name, "projectId": project_id})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def list_all(tenant: Tenant, project_id: str, limit: int = 100) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"projectId": project_id, "limit": limit}
        if cursor:
            params["cursor"] = cursor
        page = (await tenant.client.get("/v1/folders", params=params)).json()
        items += page["data"]
        cursor = page["next"]
        if not cursor:
            return items


async def test_a_new_folder_has_the_real_shape(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    folder = await make_folder(tenant, "Sales", project_id)
    assert set(folder) == {
        "id", "created", "updated", "projectId", "displayName", "displayOrder", "externalId",
        "numberOfFlows", "numberOfTables",
    }  # fmt: skip
    assert ID_RE.match(folder["id"])
    assert TS_RE.match(folder["created"]) and TS_RE.match(folder["updated"])
    assert folder["projectId"] == project_id
    assert folder["displayName"] == "Sales"
    assert folder["displayOrder"] == 0
    assert folder["externalId"] == folder["id"]
    assert folder["numberOfFlows"] == 0 and folder["numberOfTables"] == 0
    assert (await tenant.client.get(f"/v1/folders/{folder['id']}")).json() == folder
    # Under the cloud's /api/v1 prefix too.
    assert (await tenant.client.get(f"/api/v1/folders/{folder['id']}")).json() == folder


async def test_creating_a_taken_name_in_any_case_answers_that_folder_renamed(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    first = await make_folder(tenant, "marketing", project_id)
    await create_flow(tenant, folderId=first["id"])
    again = await make_folder(tenant, "Marketing", project_id)
    assert again["id"] == first["id"]
    assert again["displayName"] == "Marketing"
    assert again["numberOfFlows"] == 1
    assert [f["id"] for f in await list_all(tenant, project_id)] == [first["id"]]


async def test_the_same_name_in_two_projects_is_two_folders(tenant: Tenant) -> None:
    team = await create_team_project(tenant)
    a = await make_folder(tenant, "Ops")
    b = await make_folder(tenant, "Ops", team["id"])
    assert a["id"] != b["id"]


async def test_concurrent_creates_of_one_name_make_one_folder(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    responses = await asyncio.gather(
        *(
            tenant.client.post(
                "/v1/folders", json={"displayName": "raced" if i % 2 else "RACED", "projectId": project_id}
            )
            for i in range(20)
        )
    )
    assert [r.status_code for r in responses] == [200] * 20
    assert len({r.json()["id"] for r in responses}) == 1
    assert len(await list_all(tenant, project_id)) == 1


async def test_concurrent_flows_with_one_folder_name_share_one_folder(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    flows = await asyncio.gather(*(create_flow(tenant, f"f{i}", folderName="Shared") for i in range(10)))
    assert len({flow["folderId"] for flow in flows}) == 1
    [folder] = await list_all(tenant, project_id)
    assert folder["id"] == flows[0]["folderId"]
    assert folder["numberOfFlows"] == 10


async def test_renaming_onto_another_folders_name_is_refused(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    a = await make_folder(tenant, "Alpha", project_id)
    b = await make_folder(tenant, "Beta", project_id)
    response = await tenant.client.post(f"/v1/folders/{b['id']}", json={"displayName": "ALPHA"})
    assert response.status_code == 400
    assert response.json() == validation("Folder displayName is used")
    assert (await tenant.client.get(f"/v1/folders/{b['id']}")).json()["displayName"] == "Beta"
    # A folder may take its own name in another case.
    renamed = await tenant.client.post(f"/v1/folders/{a['id']}", json={"displayName": "ALPHA"})
    assert renamed.status_code == 200
    assert renamed.json()["displayName"] == "ALPHA"
    assert renamed.json()["created"] == a["created"]


async def test_concurrent_renames_onto_one_name_leave_one_holder(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    folders = [await make_folder(tenant, f"n{i}", project_id) for i in range(6)]
    responses = await asyncio.gather(
        *(tenant.client.post(f"/v1/folders/{f['id']}", json={"displayName": "Target"}) for f in folders)
    )
    assert sorted(r.status_code for r in responses) == [200] + [400] * 5
    names = [f["displayName"] for f in await list_all(tenant, project_id)]
    assert names.count("Target") == 1


async def test_the_list_is_oldest_first_and_its_cursors_walk_both_ways(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    made = [await make_folder(tenant, f"Folder {i}", project_id) for i in range(5)]
    assert [f["id"] for f in await list_all(tenant, project_id, limit=2)] == [f["id"] for f in made]
    first = (await tenant.client.get("/v1/folders", params={"projectId": project_id, "limit": 2})).json()
    assert first["previous"] is None and first["next"]
    second = (
        await tenant.client.get("/v1/folders", params={"projectId": project_id, "limit": 2, "cursor": first["next"]})
    ).json()
    assert [f["id"] for f in second["data"]] == [made[2]["id"], made[3]["id"]]
    back = (
        await tenant.client.get(
            "/v1/folders", params={"projectId": project_id, "limit": 2, "cursor": second["previous"]}
        )
    ).json()
    assert [f["id"] for f in back["data"]] == [made[0]["id"], made[1]["id"]]
    assert back["previous"] is None
    default = (await tenant.client.get("/v1/folders", params={"projectId": project_id})).json()
    assert len(default["data"]) == 5 and default["next"] is None


async def test_counts_follow_flows_in_and_out(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    folder = await make_folder(tenant, "Counted", project_id)
    flow = await create_flow(tenant, folderName="counted")
    assert flow["folderId"] == folder["id"]
    await create_flow(tenant)  # outside any folder
    assert (await tenant.client.get(f"/v1/folders/{folder['id']}")).json()["numberOfFlows"] == 1
    await operate(tenant, flow["id"], "CHANGE_FOLDER", {"folderId": None})
    assert (await tenant.client.get(f"/v1/folders/{folder['id']}")).json()["numberOfFlows"] == 0


async def test_deleting_a_folder_keeps_its_flows_outside_any_folder(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    folder = await make_folder(tenant, "Doomed", project_id)
    flow = await create_flow(tenant, folderId=folder["id"])
    response = await tenant.client.delete(f"/v1/folders/{folder['id']}")
    assert response.status_code == 200 and response.content == b""
    kept = (await tenant.client.get(f"/v1/flows/{flow['id']}")).json()
    assert kept["folderId"] is None
    uncategorized = await tenant.client.get("/v1/flows", params={"projectId": project_id, "folderId": "NULL"})
    assert [f["id"] for f in uncategorized.json()["data"]] == [flow["id"]]
    again = await tenant.client.delete(f"/v1/folders/{folder['id']}")
    assert again.status_code == 404 and again.json() == folder_not_found(folder["id"])
    # The flow cannot be moved back into the deleted folder.
    moved = await tenant.client.post(
        f"/v1/flows/{flow['id']}", json={"type": "CHANGE_FOLDER", "request": {"folderId": folder["id"]}}
    )
    assert moved.status_code == 404 and moved.json() == folder_not_found(folder["id"])


async def test_flows_point_at_real_folders(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    team = await create_team_project(tenant)
    folder = await make_folder(tenant, "Real", project_id)
    inside = await create_flow(tenant, folderId=folder["id"])
    by_name = await create_flow(tenant, folderName="Made By A Flow")
    made = (await tenant.client.get(f"/v1/folders/{by_name['folderId']}")).json()
    assert made["displayName"] == "Made By A Flow" and made["projectId"] == project_id
    listed = await tenant.client.get("/v1/flows", params={"projectId": project_id, "folderId": folder["id"]})
    assert [f["id"] for f in listed.json()["data"]] == [inside["id"]]
    # A folder of another project of the same platform is no folder of this one.
    theirs = await make_folder(tenant, "Team's", team["id"])
    response = await tenant.client.post(
        "/v1/flows", json={"displayName": "x", "projectId": project_id, "folderId": theirs["id"]}
    )
    assert response.status_code == 404 and response.json() == folder_not_found(theirs["id"])
    moved = await tenant.client.post(
        f"/v1/flows/{inside['id']}", json={"type": "CHANGE_FOLDER", "request": {"folderId": theirs["id"]}}
    )
    assert moved.status_code == 404 and moved.json() == folder_not_found(theirs["id"])
    moved = await operate(tenant, inside["id"], "CHANGE_FOLDER", {"folderId": by_name["folderId"]})
    assert moved.status_code == 200 and moved.json()["folderId"] == by_name["folderId"]


async def test_another_platforms_folders_are_invisible(make_tenant: TenantFactory) -> None:
    owner, other = await make_tenant(), await make_tenant()
    owner_project = await personal_project_id(owner)
    folder = await make_folder(owner, "Private", owner_project)
    fid = folder["id"]
    for response in (
        await other.client.get(f"/v1/folders/{fid}"),
        await other.client.post(f"/v1/folders/{fid}", json={"displayName": "Hijacked"}),
        await other.client.delete(f"/v1/folders/{fid}"),
    ):
        assert response.status_code == 404
        assert response.json() == folder_not_found(fid)
    # Nor can another platform list, or create in, this platform's project.
    listed = await other.client.get("/v1/folders", params={"projectId": owner_project})
    assert listed.status_code == 404 and listed.json() == project_not_found(owner_project)
    created = await other.client.post("/v1/folders", json={"displayName": "Private", "projectId": owner_project})
    assert created.status_code == 404 and created.json() == project_not_found(owner_project)
    assert await list_all(owner, owner_project) == [folder]
    # A flow of the other platform cannot be moved into it.
    flow = await create_flow(other)
    moved = await other.client.post(
        f"/v1/flows/{flow['id']}", json={"type": "CHANGE_FOLDER", "request": {"folderId": fid}}
    )
    assert moved.status_code == 404 and moved.json() == folder_not_found(fid)


async def test_unknown_ids(tenant: Tenant) -> None:
    for response in (
        await tenant.client.get(f"/v1/folders/{MISSING_ID}"),
        await tenant.client.post(f"/v1/folders/{MISSING_ID}", json={"displayName": "x"}),
        await tenant.client.delete(f"/v1/folders/{MISSING_ID}"),
    ):
        assert response.status_code == 404
        assert response.json() == folder_not_found(MISSING_ID)
    listed = await tenant.client.get("/v1/folders", params={"projectId": MISSING_ID})
    assert listed.status_code == 404 and listed.json() == project_not_found(MISSING_ID)
    created = await tenant.client.post("/v1/folders", json={"displayName": "x", "projectId": MISSING_ID})
    assert created.status_code == 404 and created.json() == project_not_found(MISSING_ID)


async def test_a_deleted_project_takes_its_folders(tenant: Tenant) -> None:
    team = await create_team_project(tenant)
    folder = await make_folder(tenant, "Gone", team["id"])
    assert (await tenant.client.delete(f"/v1/projects/{team['id']}")).status_code == 204
    assert (await tenant.client.get(f"/v1/folders/{folder['id']}")).status_code == 404


@pytest.mark.sends_invalid_requests("each body is one the real CreateFolderRequest refuses")
@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "body must have required property 'displayName', body must have required property 'projectId'"),
        ({"displayName": "x"}, "body must have required property 'projectId'"),
        ({"projectId": MISSING_ID}, "body must have required property 'displayName'"),
        ({"displayName": 5, "projectId": MISSING_ID}, "body/displayName must be string"),
        ({"displayName": None, "projectId": []}, "body/displayName must be string, body/projectId must be string"),
    ],
)
async def test_bad_create_bodies(tenant: Tenant, body: dict[str, Any], message: str) -> None:
    response = await tenant.client.post("/v1/folders", json=body)
    assert response.status_code == 400
    assert response.json() == validation(message)


@pytest.mark.sends_invalid_requests("each body is one the real UpdateFolderRequest refuses")
@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "body must have required property 'displayName'"),
        ({"displayName": True}, "body/displayName must be string"),
    ],
)
async def test_bad_update_bodies(tenant: Tenant, body: dict[str, Any], message: str) -> None:
    folder = await make_folder(tenant, "Kept")
    response = await tenant.client.post(f"/v1/folders/{folder['id']}", json=body)
    assert response.status_code == 400
    assert response.json() == validation(message)
    assert (await tenant.client.get(f"/v1/folders/{folder['id']}")).json()["displayName"] == "Kept"


async def test_bad_list_queries(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    missing = await tenant.client.get("/v1/folders")
    assert missing.status_code == 400 and missing.json()["code"] == "VALIDATION"
    assert "projectId" in missing.json()["params"]["message"]
    for params in ({"projectId": project_id, "limit": 0}, {"projectId": project_id, "limit": "ten"}):
        response = await tenant.client.get("/v1/folders", params=params)
        assert response.status_code == 400 and response.json()["code"] == "VALIDATION"
    garbage = await tenant.client.get("/v1/folders", params={"projectId": project_id, "cursor": "nonsense"})
    assert garbage.status_code == 400
    assert garbage.json() == validation("querystring/cursor is not a valid cursor")


async def test_a_path_id_that_is_no_id_is_refused(tenant: Tenant) -> None:
    response = await tenant.client.get("/v1/folders/not-an-id")
    assert response.status_code == 400 and response.json()["code"] == "VALIDATION"


async def test_a_folder_name_is_at_most_512_characters(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    longest = "é" * 512  # 1 kB of UTF-8: well inside what the name index holds
    folder = await make_folder(tenant, longest, project_id)
    assert folder["displayName"] == longest
    too_long = "x" * 513
    for response, field in (
        (
            await tenant.client.post("/v1/folders", json={"displayName": too_long, "projectId": project_id}),
            "displayName",
        ),
        (await tenant.client.post(f"/v1/folders/{folder['id']}", json={"displayName": too_long}), "displayName"),
        (
            await tenant.client.post(
                "/v1/flows", json={"displayName": "f", "projectId": project_id, "folderName": too_long}
            ),
            "folderName",
        ),
    ):
        assert response.status_code == 400
        assert response.json() == validation(f"body/{field} must NOT have more than 512 characters")
    assert [f["id"] for f in await list_all(tenant, project_id)] == [folder["id"]]
