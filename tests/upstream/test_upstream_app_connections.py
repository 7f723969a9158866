"""Translated from `packages/server/api/test/integration/ce/app-connection/app-connection.test.ts` and
`app-connection-replace.test.ts` (activepieces/activepieces), over HTTP with API keys, with the real
server's answers. Where the upstream test saves connections and flow versions straight into the
database, these make them through the API."""

from __future__ import annotations

from typing import Any

from tests.conftest import Tenant, TenantFactory
from tests.upstream.helpers import a_project_id, create_flow, operate, schedule_trigger, secret_text_connection

PIECE_NAME = "@activepieces/piece-slack"
UNKNOWN_ID = "zzzzzzzzzzzzzzzzzzzzz"


def connection(project_id: str, external_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "externalId": external_id,
        "displayName": "Test Secret Connection",
        "pieceName": PIECE_NAME,
        "projectId": project_id,
        "type": "SECRET_TEXT",
        "value": {"type": "SECRET_TEXT", "secret_text": "my-secret"},
        "pieceVersion": "0.1.0",
        **extra,
    }


def placeholder(project_id: str, external_id: str, display_name: str) -> dict[str, Any]:
    return {
        "externalId": external_id,
        "displayName": display_name,
        "pieceName": PIECE_NAME,
        "projectId": project_id,
        "type": "PLACEHOLDER",
        "pieceVersion": "0.1.0",
    }


async def create(tenant: Tenant, project_id: str, external_id: str, **extra: Any) -> dict[str, Any]:
    response = await tenant.client.post("/v1/app-connections", json=connection(project_id, external_id, **extra))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def create_platform_connection(tenant: Tenant, project_id: str) -> dict[str, Any]:
    response = await tenant.client.post("/v1/global-connections", json=secret_text_connection([project_id]))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def connection_exists(tenant: Tenant, project_id: str, connection_id: str) -> bool:
    response = await tenant.client.get("/v1/app-connections", params={"projectId": project_id, "limit": 100})
    return connection_id in {c["id"] for c in response.json()["data"]}


def trigger_using(external_id: str | None) -> dict[str, Any]:
    trigger = schedule_trigger()
    if external_id is not None:
        trigger["settings"]["input"]["auth"] = f"{{{{connections['{external_id}']}}}}"
    return trigger


async def flow_with(
    tenant: Tenant, project_id: str, external_id: str, *, published: bool = False, newer_draft_without: bool = False
) -> dict[str, Any]:
    """A DISABLED flow whose version uses the connection: a draft, or a published (LOCKED) one,
    optionally followed by a newer draft that no longer uses it."""
    flow = await create_flow(tenant, projectId=project_id)
    assert (await operate(tenant, flow["id"], "UPDATE_TRIGGER", trigger_using(external_id))).status_code == 200
    if published:
        response = await operate(tenant, flow["id"], "LOCK_AND_PUBLISH", {"status": "DISABLED"})
        assert response.status_code == 200, response.text
    if newer_draft_without:
        assert (await operate(tenant, flow["id"], "UPDATE_TRIGGER", trigger_using(None))).status_code == 200
    return flow


async def replace(tenant: Tenant, source: dict, target: dict, project_id: str, **extra: Any) -> Any:
    return await tenant.client.post(
        "/v1/app-connections/replace",
        json={
            "sourceAppConnectionId": source["id"],
            "targetAppConnectionId": target["id"],
            "projectId": project_id,
            **extra,
        },
    )


# --- app-connection.test.ts


# "POST /v1/app-connections (Create)" / "should create a SECRET_TEXT connection"
async def test_create_secret_text_connection(tenant: Tenant) -> None:
    response = await tenant.client.post(
        "/v1/app-connections", json=connection(await a_project_id(tenant), "test-secret-connection")
    )
    assert response.status_code == 201
    body = response.json()
    assert body["displayName"] == "Test Secret Connection"
    assert body["pieceName"] == PIECE_NAME
    assert body["externalId"] == "test-secret-connection"
    assert "value" not in body


# "POST /v1/app-connections (Create)" / "should create a NO_AUTH connection"
async def test_create_no_auth_connection(tenant: Tenant) -> None:
    response = await tenant.client.post(
        "/v1/app-connections",
        json=connection(
            await a_project_id(tenant),
            "test-no-auth-connection",
            displayName="Test No Auth",
            type="NO_AUTH",
            value={"type": "NO_AUTH"},
        ),
    )
    assert response.status_code == 201
    assert response.json()["displayName"] == "Test No Auth"


# "POST /v1/app-connections (Create)" / "should create a placeholder connection with status MISSING"
async def test_create_placeholder_connection_with_status_missing(tenant: Tenant) -> None:
    response = await tenant.client.post(
        "/v1/app-connections",
        json=placeholder(await a_project_id(tenant), "test-placeholder-connection", "Placeholder Slack"),
    )
    assert response.status_code == 201
    body = response.json()
    assert body["displayName"] == "Placeholder Slack"
    assert body["type"] == "NO_AUTH"
    assert body["status"] == "MISSING"
    assert body["pieceName"] == PIECE_NAME
    assert body["externalId"] == "test-placeholder-connection"


# "POST /v1/app-connections (Create)" / "should not overwrite an active connection with a placeholder"
async def test_placeholder_does_not_overwrite_an_active_connection(tenant: Tenant) -> None:
    project_id = await a_project_id(tenant)
    active = await create(tenant, project_id, "placeholder-no-clobber", displayName="Active Secret")
    assert active["status"] == "ACTIVE" and active["type"] == "SECRET_TEXT"
    response = await tenant.client.post(
        "/v1/app-connections", json=placeholder(project_id, "placeholder-no-clobber", "Should Not Win")
    )
    assert response.status_code == 201
    body = response.json()
    assert body["id"] == active["id"]
    assert body["status"] == "ACTIVE"
    assert body["type"] == "SECRET_TEXT"
    assert body["displayName"] == "Active Secret"


# "POST /v1/app-connections (Create)" / "should transition a placeholder to ACTIVE on real upsert"
async def test_placeholder_becomes_active_on_a_real_upsert(tenant: Tenant) -> None:
    project_id = await a_project_id(tenant)
    pending = await tenant.client.post(
        "/v1/app-connections", json=placeholder(project_id, "placeholder-fill-in", "Pending")
    )
    assert pending.status_code == 201
    filled = await create(tenant, project_id, "placeholder-fill-in", displayName="Filled In")
    assert filled["id"] == pending.json()["id"]
    assert filled["type"] == "SECRET_TEXT"
    assert filled["status"] == "ACTIVE"
    assert filled["displayName"] == "Filled In"


# "POST /v1/app-connections (Create)" / "should upsert on duplicate externalId"
async def test_upsert_on_duplicate_external_id(tenant: Tenant) -> None:
    project_id = await a_project_id(tenant)
    first = await create(tenant, project_id, "upsert-test-connection", displayName="First Name")
    second = await create(
        tenant,
        project_id,
        "upsert-test-connection",
        displayName="Second Name",
        value={"type": "SECRET_TEXT", "secret_text": "secret2"},
    )
    assert second["id"] == first["id"]
    assert second["displayName"] == "Second Name"


# "POST /v1/app-connections/:id (Update)" / "should update display name"
async def test_update_display_name(tenant: Tenant) -> None:
    created = await create(tenant, await a_project_id(tenant), "update-test-connection", displayName="Original Name")
    response = await tenant.client.post(f"/v1/app-connections/{created['id']}", json={"displayName": "Updated Name"})
    assert response.status_code == 200
    assert response.json()["displayName"] == "Updated Name"


# "POST /v1/app-connections/:id (Update)" / "should return 404 for non-existent connection"
async def test_update_of_a_missing_connection_is_404(tenant: Tenant) -> None:
    response = await tenant.client.post(f"/v1/app-connections/{UNKNOWN_ID}", json={"displayName": "Updated Name"})
    assert response.status_code == 404


# "GET /v1/app-connections (List)" / "should list connections"
async def test_list_connections(tenant: Tenant) -> None:
    project_id = await a_project_id(tenant)
    await create(tenant, project_id, "list-test-connection", displayName="Test Connection")
    response = await tenant.client.get("/v1/app-connections", params={"projectId": project_id})
    assert response.status_code == 200
    assert len(response.json()["data"]) >= 1


# "GET /v1/app-connections (List)" / "should filter by pieceName"
async def test_list_filters_by_piece_name(tenant: Tenant) -> None:
    project_id = await a_project_id(tenant)
    await create(tenant, project_id, "filter-a", displayName="Connection A", pieceName="piece-a-filter")
    await create(tenant, project_id, "filter-b", displayName="Connection B", pieceName="piece-b-filter")
    response = await tenant.client.get(
        "/v1/app-connections", params={"projectId": project_id, "pieceName": "piece-a-filter"}
    )
    assert response.status_code == 200
    data = response.json()["data"]
    assert len(data) == 1
    assert data[0]["pieceName"] == "piece-a-filter"


# "GET /v1/app-connections (Isolation)" / "should isolate connections between projects"
async def test_connections_are_isolated_between_projects(make_tenant: TenantFactory) -> None:
    ctx1, ctx2 = await make_tenant(), await make_tenant()
    await create(ctx1, await a_project_id(ctx1), "isolation-test", displayName="Project 1 Connection")
    response = await ctx2.client.get("/v1/app-connections", params={"projectId": await a_project_id(ctx2)})
    assert response.status_code == 200
    assert "isolation-test" not in [c["externalId"] for c in response.json()["data"]]


# "DELETE /v1/app-connections/:id" / "should delete a connection"
async def test_delete_a_connection(tenant: Tenant) -> None:
    created = await create(tenant, await a_project_id(tenant), "delete-test", displayName="Delete Me")
    response = await tenant.client.delete(f"/v1/app-connections/{created['id']}")
    assert response.status_code == 204


# "DELETE /v1/app-connections/:id" / "should return 404 for non-existent connection"
async def test_delete_of_a_missing_connection_is_404(tenant: Tenant) -> None:
    response = await tenant.client.delete(f"/v1/app-connections/{UNKNOWN_ID}")
    assert response.status_code == 404


# --- app-connection-replace.test.ts ("POST /v1/app-connections/replace")


# "keeps the source connection when deleteSourceConnection is not set"
async def test_replace_keeps_the_source_by_default(tenant: Tenant) -> None:
    project_id = await a_project_id(tenant)
    source, target = await create(tenant, project_id, "source"), await create(tenant, project_id, "target")
    response = await replace(tenant, source, target, project_id)
    assert response.status_code == 204
    assert await connection_exists(tenant, project_id, source["id"])


# "deletes the source connection when deleteSourceConnection is true"
async def test_replace_deletes_the_source_when_asked(tenant: Tenant) -> None:
    project_id = await a_project_id(tenant)
    source, target = await create(tenant, project_id, "source"), await create(tenant, project_id, "target")
    response = await replace(tenant, source, target, project_id, deleteSourceConnection=True)
    assert response.status_code == 204
    assert not await connection_exists(tenant, project_id, source["id"])


# "rejects replacing a connection with itself"
async def test_replace_refuses_a_connection_with_itself(tenant: Tenant) -> None:
    project_id = await a_project_id(tenant)
    source = await create(tenant, project_id, "source")
    response = await replace(tenant, source, source, project_id, deleteSourceConnection=True)
    assert response.status_code == 409
    assert await connection_exists(tenant, project_id, source["id"])


# "rejects deleting a platform source from the project replace"
async def test_replace_refuses_to_delete_a_platform_source(tenant: Tenant) -> None:
    project_id = await a_project_id(tenant)
    source = await create_platform_connection(tenant, project_id)
    target = await create(tenant, project_id, "target")
    response = await replace(tenant, source, target, project_id, deleteSourceConnection=True)
    assert response.status_code == 403
    assert await connection_exists(tenant, project_id, source["id"])


# "replaces flows off a platform source without deleting it"
async def test_replace_moves_flows_off_a_platform_source(tenant: Tenant) -> None:
    project_id = await a_project_id(tenant)
    source = await create_platform_connection(tenant, project_id)
    target = await create(tenant, project_id, "target")
    await flow_with(tenant, project_id, source["externalId"])
    response = await replace(tenant, source, target, project_id)
    assert response.status_code == 204
    assert await connection_exists(tenant, project_id, source["id"])


# "repoints draft flows before deleting the source"
async def test_replace_repoints_drafts_before_deleting(tenant: Tenant) -> None:
    project_id = await a_project_id(tenant)
    source, target = await create(tenant, project_id, "source"), await create(tenant, project_id, "target")
    await flow_with(tenant, project_id, "source")
    response = await replace(tenant, source, target, project_id, deleteSourceConnection=True)
    assert response.status_code == 204
    assert not await connection_exists(tenant, project_id, source["id"])


# "blocks deleting the source when published flows are not updated"
async def test_replace_blocks_delete_while_published_flows_use_the_source(tenant: Tenant) -> None:
    project_id = await a_project_id(tenant)
    source, target = await create(tenant, project_id, "source"), await create(tenant, project_id, "target")
    await flow_with(tenant, project_id, "source", published=True)
    response = await replace(tenant, source, target, project_id, deleteSourceConnection=True)
    assert response.status_code == 409
    assert await connection_exists(tenant, project_id, source["id"])


# "blocks a draft-and-published replace when a published version it cannot see still references the source"
async def test_replace_to_published_blocks_on_an_unreachable_published_version(tenant: Tenant) -> None:
    project_id = await a_project_id(tenant)
    source, target = await create(tenant, project_id, "source"), await create(tenant, project_id, "target")
    await flow_with(tenant, project_id, "source", published=True, newer_draft_without=True)
    response = await replace(tenant, source, target, project_id, applyToPublishedVersions=True)
    assert response.status_code == 409
    assert await connection_exists(tenant, project_id, source["id"])


# "allows a draft-only replace even when a published version still references the source"
async def test_draft_only_replace_is_allowed_with_a_published_reference(tenant: Tenant) -> None:
    project_id = await a_project_id(tenant)
    source, target = await create(tenant, project_id, "source"), await create(tenant, project_id, "target")
    await flow_with(tenant, project_id, "source", published=True, newer_draft_without=True)
    response = await replace(tenant, source, target, project_id)
    assert response.status_code == 204
    assert await connection_exists(tenant, project_id, source["id"])


# "blocks deleting the source when a published version the replace cannot see still references it"
async def test_replace_blocks_delete_on_an_unreachable_published_version(tenant: Tenant) -> None:
    project_id = await a_project_id(tenant)
    source, target = await create(tenant, project_id, "source"), await create(tenant, project_id, "target")
    await flow_with(tenant, project_id, "source", published=True, newer_draft_without=True)
    response = await replace(
        tenant, source, target, project_id, deleteSourceConnection=True, applyToPublishedVersions=True
    )
    assert response.status_code == 409
    assert await connection_exists(tenant, project_id, source["id"])
