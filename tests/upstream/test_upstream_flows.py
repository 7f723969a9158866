"""Translated from `packages/server/api/test/integration/ce/flows/flow/flow.test.ts`
(activepieces/activepieces), over HTTP with API keys, with the real server's answers. The upstream
tests save flows and versions straight into the database; here they are made through the API."""

from __future__ import annotations

from tests.conftest import Tenant
from tests.upstream.helpers import a_project_id, create_flow, operate, published_flow, schedule_trigger


# "Create Flow endpoint" / "Adds an empty flow"
async def test_adds_an_empty_flow(tenant: Tenant) -> None:
    project_id = await a_project_id(tenant)
    response = await tenant.client.post(
        "/v1/flows",
        params={"projectId": project_id},
        json={"displayName": "test flow", "projectId": project_id, "metadata": {"foo": "bar"}},
    )
    assert response.status_code == 201
    body = response.json()
    assert len(body) == 14
    assert len(body["id"]) == 21
    assert body["created"] and body["updated"]
    assert body["projectId"] == project_id
    assert body["folderId"] is None
    assert body["status"] == "DISABLED"
    assert body["publishedVersionId"] is None
    assert body["metadata"] == {"foo": "bar"}
    assert body["operationStatus"]
    assert body["templateId"] is None
    version = body["version"]
    assert len(version) == 14
    assert len(version["id"]) == 21
    assert version["created"] and version["updated"]
    assert version["updatedBy"] is None
    assert version["flowId"] == body["id"]
    assert version["displayName"] == "test flow"
    trigger = version["trigger"]
    assert len(trigger) == 6
    assert trigger["type"] == "EMPTY"
    assert trigger["name"] == "trigger"
    assert trigger["settings"] == {}
    assert trigger["valid"] is False
    assert trigger["displayName"] == "Select Trigger"
    assert version["valid"] is False
    assert version["state"] == "DRAFT"


# "Update status endpoint" / "Enables a disabled Flow"
# Upstream answers at once with `operationStatus: ENABLING` and flips `status` in a background job;
# this server has no job queue and answers with the flow already ENABLED (operationStatus NONE).
async def test_enables_a_disabled_flow(tenant: Tenant) -> None:
    flow = await published_flow(tenant, "DISABLED")
    response = await operate(tenant, flow["id"], "CHANGE_STATUS", {"status": "ENABLED"})
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == flow["id"]
    assert body["projectId"] == flow["projectId"]
    assert body["folderId"] is None
    assert body["publishedVersionId"] == flow["publishedVersionId"]
    assert body["metadata"] is None
    assert body["status"] == "ENABLED"
    assert len(body["version"]) == 14
    assert body["version"]["id"] == flow["publishedVersionId"]


# "Update status endpoint" / "Disables an enabled Flow" (same note on operationStatus)
async def test_disables_an_enabled_flow(tenant: Tenant) -> None:
    flow = await published_flow(tenant, "ENABLED")
    response = await operate(tenant, flow["id"], "CHANGE_STATUS", {"status": "DISABLED"})
    assert response.status_code == 200
    body = response.json()
    assert len(body) == 14
    assert body["id"] == flow["id"]
    assert body["publishedVersionId"] == flow["publishedVersionId"]
    assert body["status"] == "DISABLED"
    assert body["templateId"] is None
    assert body["version"]["id"] == flow["publishedVersionId"]


# "Update published version id endpoint" / "Publishes latest draft version"
async def test_publishes_latest_draft_version(tenant: Tenant) -> None:
    flow = await create_flow(tenant)
    draft = (await operate(tenant, flow["id"], "UPDATE_TRIGGER", schedule_trigger())).json()["version"]
    response = await operate(tenant, flow["id"], "LOCK_AND_PUBLISH", {})
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == flow["id"]
    assert body["folderId"] is None
    assert body["publishedVersionId"] == draft["id"]
    assert body["metadata"] is None
    assert body["version"]["id"] == draft["id"]
    assert body["version"]["state"] == "LOCKED"
    assert body["templateId"] is None


# "List Flows endpoint" / "Filters Flows by status"
async def test_filters_flows_by_status(tenant: Tenant) -> None:
    enabled = await published_flow(tenant, "ENABLED")
    await published_flow(tenant, "DISABLED")
    response = await tenant.client.get("/v1/flows", params={"projectId": enabled["projectId"], "status": "ENABLED"})
    assert response.status_code == 200
    assert [flow["id"] for flow in response.json()["data"]] == [enabled["id"]]


# "List Flows endpoint" / "Populates Flow version"
async def test_populates_flow_version(tenant: Tenant) -> None:
    flow = await create_flow(tenant)
    response = await tenant.client.get("/v1/flows", params={"projectId": flow["projectId"]})
    assert response.status_code == 200
    data = response.json()["data"]
    assert len(data) == 1
    assert data[0]["id"] == flow["id"]
    assert data[0]["version"]["id"] == flow["version"]["id"]


# "Update Metadata endpoint" / "Updates flow metadata"
async def test_updates_flow_metadata(tenant: Tenant) -> None:
    flow = await create_flow(tenant)
    response = await operate(tenant, flow["id"], "UPDATE_METADATA", {"metadata": {"foo": "bar"}})
    assert response.status_code == 200
    assert response.json()["id"] == flow["id"]
    assert response.json()["metadata"] == {"foo": "bar"}
    again = await tenant.client.get(f"/v1/flows/{flow['id']}")
    assert again.json()["metadata"] == {"foo": "bar"}


# "Export Flow Template endpoint" / "Exports a flow template using an API key"
async def test_exports_a_flow_template_using_an_api_key(tenant: Tenant) -> None:
    flow = await published_flow(tenant, "ENABLED")
    response = await tenant.client.get(f"/api/v1/flows/{flow['id']}/template")
    assert response.status_code == 200
    body = response.json()
    assert {"name", "description", "flows"} <= set(body)
    assert len(body["flows"]) == 1
    assert "trigger" in body["flows"][0]
