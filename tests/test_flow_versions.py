"""`GET /v1/flows/{id}/versions` in documented mode: an API key gets what the real server gives a
user, a SeekPage of the flow's versions (FlowVersionMetadata: no step tree), newest first."""

from __future__ import annotations

from tests.conftest import Tenant, TenantFactory, personal_project_id

VERSION_KEYS = {
    "id",
    "created",
    "updated",
    "flowId",
    "displayName",
    "valid",
    "state",
    "updatedBy",
    "schemaVersion",
    "updatedByUser",
}


async def flow_with_three_versions(tenant: Tenant) -> tuple[str, list[str]]:
    """A draft, published (LOCKED), then edited: the edit makes a new draft."""
    created = await tenant.client.post(
        "/v1/flows", json={"displayName": "Versions", "projectId": await personal_project_id(tenant)}
    )
    flow_id = created.json()["id"]
    first = created.json()["version"]["id"]
    locked = await tenant.client.post(f"/v1/flows/{flow_id}", json={"type": "LOCK_FLOW", "request": {}})
    assert locked.json()["version"]["state"] == "LOCKED"
    second = await tenant.client.post(
        f"/v1/flows/{flow_id}", json={"type": "CHANGE_NAME", "request": {"displayName": "Two"}}
    )
    await tenant.client.post(f"/v1/flows/{flow_id}", json={"type": "LOCK_FLOW", "request": {}})
    third = await tenant.client.post(
        f"/v1/flows/{flow_id}", json={"type": "CHANGE_NAME", "request": {"displayName": "Three"}}
    )
    return flow_id, [third.json()["version"]["id"], second.json()["version"]["id"], first]


async def test_lists_versions_newest_first_without_their_trees(tenant: Tenant) -> None:
    flow_id, newest_first = await flow_with_three_versions(tenant)
    response = await tenant.client.get(f"/v1/flows/{flow_id}/versions")
    assert response.status_code == 200
    body = response.json()
    assert [version["id"] for version in body["data"]] == newest_first
    assert (body["next"], body["previous"]) == (None, None)
    newest = body["data"][0]
    assert set(newest) == VERSION_KEYS
    assert newest["flowId"] == flow_id
    assert (newest["displayName"], newest["state"], newest["updatedByUser"]) == ("Three", "DRAFT", None)
    assert [version["state"] for version in body["data"]] == ["DRAFT", "LOCKED", "LOCKED"]


async def test_pages_with_limit_and_cursor(tenant: Tenant) -> None:
    flow_id, newest_first = await flow_with_three_versions(tenant)
    page = (await tenant.client.get(f"/api/v1/flows/{flow_id}/versions", params={"limit": 2})).json()
    assert [version["id"] for version in page["data"]] == newest_first[:2]
    assert page["next"] is not None
    rest = (
        await tenant.client.get(f"/v1/flows/{flow_id}/versions", params={"limit": 2, "cursor": page["next"]})
    ).json()
    assert [version["id"] for version in rest["data"]] == newest_first[2:]
    assert rest["next"] is None and rest["previous"] is not None


async def test_unknown_and_other_platforms_flows_are_404(make_tenant: TenantFactory) -> None:
    owner, stranger = await make_tenant(), await make_tenant()
    flow_id, _ = await flow_with_three_versions(owner)
    for client, wanted in ((stranger.client, flow_id), (owner.client, "z" * 21)):
        response = await client.get(f"/v1/flows/{wanted}/versions")
        assert response.status_code == 404
        assert response.json() == {
            "statusCode": 404,
            "code": "ENTITY_NOT_FOUND",
            "params": {"entityType": "flow", "entityId": wanted, "message": "Flow not found"},
        }


async def test_bad_ids_and_cursors_are_400(tenant: Tenant) -> None:
    flow_id, _ = await flow_with_three_versions(tenant)
    bad_id = await tenant.client.get("/v1/flows/not-an-id/versions")
    assert bad_id.status_code == 400 and bad_id.json()["code"] == "VALIDATION"
    bad_cursor = await tenant.client.get(f"/v1/flows/{flow_id}/versions", params={"cursor": "garbage"})
    assert bad_cursor.status_code == 400
    assert bad_cursor.json()["params"] == {"message": "querystring/cursor is not a valid cursor"}
