"""`/v1/app-connections`: a project's connections (PROJECT scope, keyed by externalId in the
project) in the table global connections use, bad input, tenancy, upsert races, secrets, replace."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from app.app_connections.service import secret_context
from app.kit.crypto import SecretBox, load_or_create_key
from app.kit.db import Database
from tests.conftest import TEST_ENCRYPTION_KEY, Tenant, TenantFactory, personal_project_id
from tests.upstream.helpers import create_flow, operate, schedule_trigger

SECRET = "hunter2-Sup3r-Secret"
SLACK = "@activepieces/piece-slack"


def body(project_id: str, external_id: str = "slack-bot", **extra: Any) -> dict[str, Any]:
    return {
        "externalId": external_id,
        "displayName": "Slack bot",
        "pieceName": SLACK,
        "projectId": project_id,
        "type": "SECRET_TEXT",
        "value": {"type": "SECRET_TEXT", "secret_text": SECRET},
        **extra,
    }


async def upsert(tenant: Tenant, project_id: str, external_id: str = "slack-bot", **extra: Any) -> dict[str, Any]:
    response = await tenant.client.post("/v1/app-connections", json=body(project_id, external_id, **extra))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def listed(tenant: Tenant, project_id: str, **params: Any) -> list[dict[str, Any]]:
    response = await tenant.client.get("/v1/app-connections", params={"projectId": project_id, "limit": 100, **params})
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


async def new_project(tenant: Tenant, **extra: Any) -> str:
    response = await tenant.client.post("/v1/projects", json={"displayName": "Team", **extra})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def validation(message: str) -> dict[str, Any]:
    return {"statusCode": 400, "code": "VALIDATION", "params": {"message": message}}


def not_found(connection_id: str) -> dict[str, Any]:
    return {
        "statusCode": 404,
        "code": "ENTITY_NOT_FOUND",
        "params": {"entityType": "app_connection", "entityId": connection_id, "message": "App connection not found"},
    }


def project_not_found(project_id: str) -> dict[str, Any]:
    return {
        "statusCode": 404,
        "code": "ENTITY_NOT_FOUND",
        "params": {"entityType": "project", "entityId": project_id, "message": "Project not found"},
    }


def trigger_using(external_id: str | None) -> dict[str, Any]:
    trigger = schedule_trigger()
    if external_id is not None:
        trigger["settings"]["input"]["auth"] = f"{{{{connections['{external_id}']}}}}"
    return trigger


async def flow_using(tenant: Tenant, project_id: str, external_id: str, *, publish: bool = False) -> dict[str, Any]:
    flow = await create_flow(tenant, projectId=project_id)
    assert (await operate(tenant, flow["id"], "UPDATE_TRIGGER", trigger_using(external_id))).status_code == 200
    if publish:
        assert (await operate(tenant, flow["id"], "LOCK_AND_PUBLISH", {"status": "DISABLED"})).status_code == 200
    return flow


async def get_flow(tenant: Tenant, flow_id: str) -> dict[str, Any]:
    response = await tenant.client.get(f"/v1/flows/{flow_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


# --- upsert


async def test_piece_version_defaults_to_the_pieces_newest_version(tenant: Tenant) -> None:
    """Without `pieceVersion`: the piece's newest version in the catalogue, `0.0.0` for a piece it does
    not hold (the real server's fill-in). Before, "latest" was stored. A placeholder gets the same."""
    project_id = await personal_project_id(tenant)
    assert (await upsert(tenant, project_id, "a"))["pieceVersion"] == "0.17.9"
    assert (await upsert(tenant, project_id, "b", pieceName="@acme/piece-unknown"))["pieceVersion"] == "0.0.0"


async def test_upsert_makes_a_project_connection(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    created = await upsert(tenant, project_id, metadata={"team": "ops"}, pieceVersion="0.3.1")
    assert created["scope"] == "PROJECT"
    assert created["projectIds"] == [project_id]
    assert created["externalId"] == "slack-bot"
    assert created["status"] == "ACTIVE" and created["type"] == "SECRET_TEXT"
    assert created["pieceVersion"] == "0.3.1" and created["metadata"] == {"team": "ops"}
    assert created["platformId"] == tenant.platform_id and created["ownerId"] == tenant.owner_id
    assert created["flowIds"] == [] and created["preSelectForNewProjects"] is False
    assert "value" not in created and SECRET not in str(created)


async def test_upsert_by_external_id_is_per_project(tenant: Tenant) -> None:
    personal = await personal_project_id(tenant)
    team = await new_project(tenant)
    first = await upsert(tenant, personal)
    again = await upsert(tenant, personal, displayName="Renamed")
    other = await upsert(tenant, team)
    assert again["id"] == first["id"] and again["displayName"] == "Renamed"
    assert other["id"] != first["id"] and other["projectIds"] == [team]
    assert [c["id"] for c in await listed(tenant, personal)] == [first["id"]]
    assert [c["id"] for c in await listed(tenant, team)] == [other["id"]]


async def test_a_project_connection_and_a_global_one_may_share_an_external_id(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    mine = await upsert(tenant, project_id, "shared-id")
    global_body = {**body(project_id, "shared-id"), "scope": "PLATFORM", "projectIds": [project_id]}
    del global_body["projectId"]
    response = await tenant.client.post("/v1/global-connections", json=global_body)
    assert response.status_code == 201, response.text
    assert response.json()["id"] != mine["id"]
    # The project's list has both: its own and the global one linked to it.
    assert {c["scope"] for c in await listed(tenant, project_id)} == {"PROJECT", "PLATFORM"}
    assert [c["id"] for c in await listed(tenant, project_id, scope="PROJECT")] == [mine["id"]]


async def test_concurrent_upserts_of_one_external_id_make_one_row(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    responses = await asyncio.gather(
        *(tenant.client.post("/v1/app-connections", json=body(project_id, displayName=f"bot {i}")) for i in range(20))
    )
    assert [r.status_code for r in responses] == [201] * 20
    assert len({r.json()["id"] for r in responses}) == 1
    assert len(await listed(tenant, project_id)) == 1


async def test_placeholder_is_missing_and_never_overwrites(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    placeholder = {k: v for k, v in body(project_id, "later").items() if k != "value"} | {"type": "PLACEHOLDER"}
    created = await tenant.client.post("/v1/app-connections", json=placeholder)
    assert created.status_code == 201
    assert (created.json()["type"], created.json()["status"]) == ("NO_AUTH", "MISSING")
    filled = await upsert(tenant, project_id, "later", displayName="Filled")
    assert filled["id"] == created.json()["id"] and filled["status"] == "ACTIVE"
    again = await tenant.client.post("/v1/app-connections", json={**placeholder, "displayName": "Loses"})
    assert again.status_code == 201
    assert (again.json()["type"], again.json()["displayName"]) == ("SECRET_TEXT", "Filled")


async def test_the_value_is_sealed_for_its_project_and_never_returned(
    tenant: Tenant, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    project_id = await personal_project_id(tenant)
    created = await upsert(tenant, project_id)
    bodies = [
        (await tenant.client.get("/v1/app-connections", params={"projectId": project_id})).text,
        (await tenant.client.post(f"/v1/app-connections/{created['id']}", json={"displayName": "x"})).text,
        str(created),
    ]
    assert all(SECRET not in text_ for text_ in bodies)
    assert SECRET not in caplog.text
    async with db.read() as conn:
        sealed = await conn.scalar(
            text("SELECT value_encrypted FROM app_connection WHERE id = :id"), {"id": created["id"]}
        )
    assert SECRET not in sealed
    box = SecretBox(load_or_create_key(TEST_ENCRYPTION_KEY, Path("/nonexistent")))
    opened = box.open(sealed, secret_context(tenant.platform_id, "slack-bot", project_id))
    assert opened == {"type": "SECRET_TEXT", "secret_text": SECRET}


async def test_the_project_piece_filter_applies(tenant: Tenant) -> None:
    project_id = await new_project(tenant)
    plan = {"piecesFilterType": "ALLOWED", "pieces": ["@activepieces/piece-gmail"]}
    assert (await tenant.client.post(f"/v1/projects/{project_id}", json={"plan": plan})).status_code == 200
    refused = await tenant.client.post("/v1/app-connections", json=body(project_id))
    assert refused.status_code == 404
    assert refused.json()["code"] == "ENTITY_NOT_FOUND"
    assert await listed(tenant, project_id) == []
    allowed = await tenant.client.post(
        "/v1/app-connections", json=body(project_id, pieceName="@activepieces/piece-gmail")
    )
    assert allowed.status_code == 201, allowed.text


async def test_an_empty_allowed_list_refuses_every_piece(tenant: Tenant) -> None:
    project_id = await new_project(tenant)
    plan = {"piecesFilterType": "ALLOWED", "pieces": []}
    assert (await tenant.client.post(f"/v1/projects/{project_id}", json={"plan": plan})).status_code == 200
    refused = await tenant.client.post("/v1/app-connections", json=body(project_id))
    assert (refused.status_code, refused.json()["code"]) == (404, "ENTITY_NOT_FOUND")
    assert await listed(tenant, project_id) == []


# --- bad input


@pytest.mark.sends_invalid_requests("each body is one the real UpsertAppConnectionRequestBody refuses")
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"value": {"type": "SECRET_TEXT"}}, "body/value must have required property 'secret_text'"),
        ({"value": {"type": "SECRET_TEXT", "secret_text": ""}}, "body/value/secret_text must NOT have fewer than 1 characters"),  # noqa: E501
        ({"type": "TOKEN"}, "body/type must be equal to one of the allowed values"),
        ({"externalId": None, "displayName": 5}, "body/externalId must be string, body/displayName must be string"),
        ({"projectId": ["a"], "metadata": "x"}, "body/projectId must be string, body/metadata must be object"),
    ],
)  # fmt: skip
async def test_bad_upserts_name_every_problem(tenant: Tenant, change: dict, message: str) -> None:
    project_id = await personal_project_id(tenant)
    response = await tenant.client.post("/v1/app-connections", json={**body(project_id), **change})
    assert response.status_code == 400
    assert response.json() == validation(message)
    assert SECRET not in response.text
    assert await listed(tenant, project_id) == []


@pytest.mark.sends_invalid_requests("each body lacks fields the real schemas require")
async def test_missing_fields_are_all_named(tenant: Tenant) -> None:
    response = await tenant.client.post("/v1/app-connections", json={"type": "SECRET_TEXT"})
    assert response.status_code == 400
    message = response.json()["params"]["message"]
    for field in ("externalId", "displayName", "pieceName", "projectId", "value"):
        assert f"required property '{field}'" in message
    response = await tenant.client.post(
        "/v1/app-connections/replace", json={"sourceAppConnectionId": 1, "deleteSourceConnection": "maybe"}
    )
    assert response.status_code == 400
    message = response.json()["params"]["message"]
    for part in ("sourceAppConnectionId must be string", "targetAppConnectionId", "projectId", "must be boolean"):
        assert part in message


@pytest.mark.sends_invalid_requests("an update without its required displayName")
async def test_update_requires_a_display_name(tenant: Tenant) -> None:
    created = await upsert(tenant, await personal_project_id(tenant))
    response = await tenant.client.post(f"/v1/app-connections/{created['id']}", json={"metadata": {"a": 1}})
    assert response.status_code == 400
    assert response.json() == validation("body must have required property 'displayName'")


async def test_list_and_owners_require_a_project(tenant: Tenant) -> None:
    for path in ("/v1/app-connections", "/v1/app-connections/owners"):
        response = await tenant.client.get(path)
        assert response.status_code == 400
        assert response.json() == validation("querystring must have required property 'projectId'")
    bad = await tenant.client.get(
        "/v1/app-connections", params={"projectId": "p", "status": "GONE", "scope": "GLOBAL", "limit": "x"}
    )
    assert bad.status_code == 400
    message = bad.json()["params"]["message"]
    assert "status" in message and "scope" in message and "limit" in message


# --- list, update, delete, owners


async def test_list_filters_and_pages(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    slack = await upsert(tenant, project_id, "a", displayName="Slack Production")
    gmail = await upsert(tenant, project_id, "b", displayName="Gmail 100%_done", pieceName="@activepieces/piece-gmail")

    async def ids(**params: Any) -> list[str]:
        return [c["id"] for c in await listed(tenant, project_id, **params)]

    assert await ids() == [slack["id"], gmail["id"]]  # oldest first, as the real server
    assert await ids(pieceName="@activepieces/piece-gmail") == [gmail["id"]]
    assert await ids(displayName="production") == [slack["id"]]
    # `%` and `_` are wildcards, as on the real server.
    assert await ids(displayName="%") == [slack["id"], gmail["id"]]
    assert await ids(displayName="100_") == [gmail["id"]]
    assert await ids(status=["ERROR", "MISSING"]) == []
    assert await ids(scope="PLATFORM") == []
    first = (await tenant.client.get("/v1/app-connections", params={"projectId": project_id, "limit": 1})).json()
    assert [c["id"] for c in first["data"]] == [slack["id"]] and first["next"] is not None
    second = (
        await tenant.client.get(
            "/v1/app-connections", params={"projectId": project_id, "limit": 1, "cursor": first["next"]}
        )
    ).json()
    assert [c["id"] for c in second["data"]] == [gmail["id"]] and second["next"] is None


async def test_update_changes_display_name_and_metadata(tenant: Tenant) -> None:
    created = await upsert(tenant, await personal_project_id(tenant), metadata={"a": 1})
    response = await tenant.client.post(
        f"/v1/app-connections/{created['id']}", json={"displayName": "New", "metadata": {"b": 2}}
    )
    assert response.status_code == 200
    assert (response.json()["displayName"], response.json()["metadata"]) == ("New", {"b": 2})
    kept = await tenant.client.post(f"/v1/app-connections/{created['id']}", json={"displayName": "Newer"})
    assert kept.json()["metadata"] == {"b": 2}


async def test_delete(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    created = await upsert(tenant, project_id)
    assert (await tenant.client.delete(f"/v1/app-connections/{created['id']}")).status_code == 204
    assert await listed(tenant, project_id) == []
    again = await tenant.client.delete(f"/v1/app-connections/{created['id']}")
    assert again.status_code == 404 and again.json() == not_found(created["id"])


async def test_global_connections_are_not_changed_through_the_project_routes(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    global_body = {**body(project_id, "g"), "scope": "PLATFORM", "projectIds": [project_id]}
    del global_body["projectId"]
    global_id = (await tenant.client.post("/v1/global-connections", json=global_body)).json()["id"]
    update = await tenant.client.post(f"/v1/app-connections/{global_id}", json={"displayName": "x"})
    assert update.status_code == 404 and update.json() == not_found(global_id)
    assert (await tenant.client.delete(f"/v1/app-connections/{global_id}")).status_code == 404
    # ...and project ones not through the global routes.
    mine = await upsert(tenant, project_id)
    assert (await tenant.client.delete(f"/v1/global-connections/{mine['id']}")).status_code == 404
    assert len(await listed(tenant, project_id)) == 2


async def test_a_deleted_project_takes_its_connections(tenant: Tenant, db: Database) -> None:
    project_id = await new_project(tenant)
    created = await upsert(tenant, project_id)
    assert (await tenant.client.delete(f"/v1/projects/{project_id}")).status_code == 204
    async with db.read() as conn:
        left = await conn.scalar(text("SELECT count(*) FROM app_connection WHERE id = :id"), {"id": created["id"]})
    assert left == 0


async def test_owners_are_the_platform_admins(tenant: Tenant) -> None:
    response = await tenant.client.get(
        "/v1/app-connections/owners", params={"projectId": await personal_project_id(tenant)}
    )
    assert response.status_code == 200
    page = response.json()
    assert page["next"] is None and page["previous"] is None
    assert len(page["data"]) == 1 and set(page["data"][0]) == {"firstName", "lastName", "email"}


async def test_flow_ids_and_connection_ids_resolve_for_both_scopes(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    mine = await upsert(tenant, project_id, "mine")
    global_body = {**body(project_id, "theirs"), "scope": "PLATFORM", "projectIds": [project_id]}
    del global_body["projectId"]
    theirs = (await tenant.client.post("/v1/global-connections", json=global_body)).json()
    flow_mine = await flow_using(tenant, project_id, "mine")
    flow_theirs = await flow_using(tenant, project_id, "theirs")
    assert (await get_flow(tenant, flow_mine["id"]))["version"]["connectionIds"] == ["mine"]
    by_id = {c["id"]: c for c in await listed(tenant, project_id)}
    assert by_id[mine["id"]]["flowIds"] == [flow_mine["id"]]
    assert by_id[theirs["id"]]["flowIds"] == [flow_theirs["id"]]
    # Another project's flow naming the same externalId is not this project connection's.
    team = await new_project(tenant)
    await flow_using(tenant, team, "mine")
    assert [c["flowIds"] for c in await listed(tenant, project_id, scope="PROJECT")] == [[flow_mine["id"]]]


# --- tenancy


async def test_another_platforms_connections_and_projects_are_not_found(make_tenant: TenantFactory) -> None:
    alice, bob = await make_tenant(), await make_tenant()
    alice_project = await personal_project_id(alice)
    bob_project = await personal_project_id(bob)
    created = await upsert(alice, alice_project)

    update = await bob.client.post(f"/v1/app-connections/{created['id']}", json={"displayName": "stolen"})
    assert update.status_code == 404 and update.json() == not_found(created["id"])
    delete = await bob.client.delete(f"/v1/app-connections/{created['id']}")
    assert delete.status_code == 404
    for response in (
        await bob.client.get("/v1/app-connections", params={"projectId": alice_project}),
        await bob.client.get("/v1/app-connections/owners", params={"projectId": alice_project}),
        await bob.client.post("/v1/app-connections", json=body(alice_project)),
    ):
        assert response.status_code == 404 and response.json() == project_not_found(alice_project)
    replace = await bob.client.post(
        "/v1/app-connections/replace",
        json={
            "sourceAppConnectionId": created["id"],
            "targetAppConnectionId": created["id"],
            "projectId": bob_project,
        },
    )
    assert replace.status_code == 400  # the same id twice
    other = await upsert(bob, bob_project, "bobs")
    replace = await bob.client.post(
        "/v1/app-connections/replace",
        json={"sourceAppConnectionId": created["id"], "targetAppConnectionId": other["id"], "projectId": bob_project},
    )
    assert replace.status_code == 404 and replace.json() == not_found(created["id"])
    assert [c["displayName"] for c in await listed(alice, alice_project)] == ["Slack bot"]


# --- replace


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


async def test_replace_moves_the_drafts_and_keeps_the_source(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    source, target = await upsert(tenant, project_id, "old"), await upsert(tenant, project_id, "new")
    flow = await flow_using(tenant, project_id, "old")
    response = await replace(tenant, source, target, project_id)
    assert response.status_code == 204 and response.content == b""
    moved = await get_flow(tenant, flow["id"])
    assert moved["version"]["connectionIds"] == ["new"]
    assert moved["version"]["trigger"]["settings"]["input"]["auth"] == "{{connections['new']}}"
    by_id = {c["id"]: c for c in await listed(tenant, project_id)}
    assert by_id[source["id"]]["flowIds"] == [] and by_id[target["id"]]["flowIds"] == [flow["id"]]


async def test_replace_with_delete_removes_the_source(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    source, target = await upsert(tenant, project_id, "old"), await upsert(tenant, project_id, "new")
    await flow_using(tenant, project_id, "old")
    assert (await replace(tenant, source, target, project_id, deleteSourceConnection=True)).status_code == 204
    assert [c["id"] for c in await listed(tenant, project_id)] == [target["id"]]


async def test_replace_applied_to_published_versions_republishes(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    source, target = await upsert(tenant, project_id, "old"), await upsert(tenant, project_id, "new")
    flow = await flow_using(tenant, project_id, "old", publish=True)
    published_before = (await get_flow(tenant, flow["id"]))["publishedVersionId"]
    response = await replace(
        tenant, source, target, project_id, applyToPublishedVersions=True, deleteSourceConnection=True
    )
    assert response.status_code == 204, response.text
    after = await get_flow(tenant, flow["id"])
    assert after["publishedVersionId"] != published_before
    published = await tenant.client.get(f"/v1/flows/{flow['id']}", params={"versionId": after["publishedVersionId"]})
    assert published.json()["version"]["connectionIds"] == ["new"]
    assert [c["id"] for c in await listed(tenant, project_id)] == [target["id"]]


async def test_replace_refusals(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    source = await upsert(tenant, project_id, "old")
    gmail = await upsert(tenant, project_id, "gmail", pieceName="@activepieces/piece-gmail")
    itself = await replace(tenant, source, source, project_id)
    assert itself.status_code == 400 and itself.json() == validation("Cannot replace a connection with itself")
    other_app = await replace(tenant, source, gmail, project_id)
    assert other_app.status_code == 400 and other_app.json() == validation("Connections must be from the same app")
    target = await upsert(tenant, project_id, "new")
    await flow_using(tenant, project_id, "old", publish=True)
    blocked = await replace(tenant, source, target, project_id, deleteSourceConnection=True)
    assert blocked.status_code == 400
    assert blocked.json()["params"]["message"].startswith("Cannot delete the old connection")
    assert len(await listed(tenant, project_id)) == 3


async def test_setting_a_projects_global_connections_keeps_its_own(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    mine = await upsert(tenant, project_id)
    response = await tenant.client.post(f"/v1/projects/{project_id}", json={"globalConnectionExternalIds": []})
    assert response.status_code == 200
    assert [c["id"] for c in await listed(tenant, project_id)] == [mine["id"]]
