"""`/v1/global-connections`: every route and value type, secrets sealed at rest and never shown,
and the one relation behind a connection's `projectIds` and a project's
`globalConnectionExternalIds`."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from sqlalchemy import text

from app.global_connections.service import secret_context
from app.kit.crypto import InvalidEncryptionKey, SecretBox, load_or_create_key, new_encoded_key
from app.kit.db import Database
from tests.conftest import TEST_ENCRYPTION_KEY, Tenant, TenantFactory, personal_project_id

ID_RE = re.compile(r"^[0-9a-zA-Z]{21}$")
TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
SECRET = "hunter2-Sup3r-Secret"

CONNECTION_FIELDS = {
    "id", "created", "updated", "externalId", "displayName", "type", "pieceName", "projectIds", "scope", "status",
    "pieceVersion", "preSelectForNewProjects", "usingSecretManager", "platformId", "ownerId", "owner", "metadata",
    "flowIds",
}  # fmt: skip

VALUES: dict[str, dict[str, Any]] = {
    "SECRET_TEXT": {"type": "SECRET_TEXT", "secret_text": SECRET},
    "BASIC_AUTH": {"type": "BASIC_AUTH", "username": "alice", "password": SECRET},
    "CUSTOM_AUTH": {"type": "CUSTOM_AUTH", "props": {"apiKey": SECRET, "region": "eu"}},
    "NO_AUTH": {"type": "NO_AUTH"},
    "OIDC": {"type": "OIDC", "props": {"issuer": "https://id.example.com", "token": SECRET}},
    "OAUTH2": {
        "type": "OAUTH2",
        "client_id": "client-1",
        "client_secret": SECRET,
        "code": "auth-code",
        "scope": "read write",
        "redirect_url": "https://example.com/redirect",
        "grant_type": "authorization_code",
        "authorization_method": "HEADER",
        "props": {"subdomain": "acme"},
    },
    "CLOUD_OAUTH2": {"type": "CLOUD_OAUTH2", "client_id": "client-1", "code": SECRET, "scope": "read"},
    "PLATFORM_OAUTH2": {
        "type": "PLATFORM_OAUTH2",
        "client_id": "client-1",
        "code": SECRET,
        "scope": "read",
        "redirect_url": "https://example.com/redirect",
    },
}


def validation(message: str) -> dict:
    return {"statusCode": 400, "code": "VALIDATION", "params": {"message": message}}


def connection_not_found(connection_id: str) -> dict:
    return {
        "statusCode": 404,
        "code": "ENTITY_NOT_FOUND",
        "params": {"entityType": "app_connection", "entityId": connection_id, "message": "App connection not found"},
    }


def project_not_found(project_id: str) -> dict:
    return {
        "statusCode": 404,
        "code": "ENTITY_NOT_FOUND",
        "params": {"entityType": "project", "entityId": project_id, "message": "Project not found"},
    }


async def new_project(tenant: Tenant, **body: Any) -> dict:
    response = await tenant.client.post("/v1/projects", json={"displayName": "Team", **body})
    assert response.status_code == 201, response.text
    return dict(response.json())


def upsert_body(project_ids: list[str], connection_type: str = "SECRET_TEXT", **extra: Any) -> dict:
    return {
        "displayName": "Slack bot",
        "pieceName": "@activepieces/piece-slack",
        "type": connection_type,
        "value": VALUES[connection_type],
        "scope": "PLATFORM",
        "projectIds": project_ids,
        **extra,
    }


async def upsert(tenant: Tenant, project_ids: list[str], connection_type: str = "SECRET_TEXT", **extra: Any) -> dict:
    response = await tenant.client.post(
        "/v1/global-connections", json=upsert_body(project_ids, connection_type, **extra)
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def list_all(tenant: Tenant, **params: Any) -> list[dict]:
    response = await tenant.client.get("/v1/global-connections", params={"limit": 100, **params})
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


async def raw_row(db: Database, connection_id: str) -> dict[str, Any] | None:
    async with db.read() as conn:
        row = (
            (await conn.execute(text("SELECT * FROM app_connection WHERE id = :id"), {"id": connection_id}))
            .mappings()
            .first()
        )
    return dict(row) if row is not None else None


async def link_count(db: Database, *, connection_id: str | None = None, project_id: str | None = None) -> int:
    async with db.read() as conn:
        return int(
            await conn.scalar(
                text(
                    "SELECT count(*) FROM app_connection_project WHERE (CAST(:c AS text) IS NULL OR connection_id = :c)"
                    " AND (CAST(:p AS text) IS NULL OR project_id = :p)"
                ),
                {"c": connection_id, "p": project_id},
            )
        )


# --- upsert


async def test_piece_version_defaults_to_the_pieces_newest_version(tenant: Tenant) -> None:
    """Without `pieceVersion`, a connection stores its piece's newest version in the catalogue, and
    `0.0.0` for a piece the catalogue does not hold, as the real server fills it in: a version, never a
    word. (Before, "latest" was stored.) A version sent is kept."""
    project_id = await personal_project_id(tenant)
    known = await tenant.client.post("/v1/global-connections", json=upsert_body([project_id]))
    unknown = await tenant.client.post(
        "/v1/global-connections", json=upsert_body([project_id], pieceName="@acme/piece-unknown")
    )
    sent = await tenant.client.post("/v1/global-connections", json=upsert_body([project_id], pieceVersion="0.3.1"))
    assert [r.status_code for r in (known, unknown, sent)] == [201, 201, 201]
    assert known.json()["pieceVersion"] == "0.17.9"
    assert unknown.json()["pieceVersion"] == "0.0.0"
    assert sent.json()["pieceVersion"] == "0.3.1"


async def test_create_returns_the_connection_without_its_value(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    response = await tenant.client.post(
        "/v1/global-connections", json=upsert_body([project_id], metadata={"team": "ops"})
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == CONNECTION_FIELDS
    assert ID_RE.match(body["id"]) and ID_RE.match(body["externalId"]) and body["externalId"] != body["id"]
    assert TS_RE.match(body["created"]) and TS_RE.match(body["updated"])
    assert body["displayName"] == "Slack bot"
    assert body["type"] == "SECRET_TEXT"
    assert body["pieceName"] == "@activepieces/piece-slack"
    assert body["projectIds"] == [project_id]
    assert body["scope"] == "PLATFORM"
    assert body["status"] == "ACTIVE"
    assert body["pieceVersion"] == "0.17.9"  # the piece's newest version in the catalogue
    assert body["preSelectForNewProjects"] is False
    assert body["usingSecretManager"] is False
    assert body["platformId"] == tenant.platform_id
    assert body["ownerId"] == tenant.owner_id
    assert body["metadata"] == {"team": "ops"}
    assert body["flowIds"] == []
    owner = body["owner"]
    assert set(owner) == {
        "id", "email", "firstName", "lastName", "status", "platformRole", "created", "updated", "externalId",
        "platformId", "lastActiveDate", "imageUrl",
    }  # fmt: skip
    assert owner["status"] == "ACTIVE" and owner["platformRole"] == "ADMIN"
    assert owner["id"] == tenant.owner_id and owner["platformId"] == tenant.platform_id
    assert SECRET not in response.text and "value" not in body


@pytest.mark.parametrize("connection_type", sorted(VALUES))
async def test_every_value_type_is_accepted_and_sealed(tenant: Tenant, db: Database, connection_type: str) -> None:
    project_id = await personal_project_id(tenant)
    response = await tenant.client.post(
        "/v1/global-connections",
        json=upsert_body([project_id], connection_type, externalId=f"ext-{connection_type.lower()}"),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["type"] == connection_type and body["externalId"] == f"ext-{connection_type.lower()}"
    assert SECRET not in response.text
    row = await raw_row(db, body["id"])
    assert row is not None
    assert SECRET not in json.dumps(row, default=str)
    opened = SecretBox(load_or_create_key(TEST_ENCRYPTION_KEY, Path("/nonexistent"))).open(
        row["value_encrypted"], secret_context(tenant.platform_id, body["externalId"])
    )
    assert opened == VALUES[connection_type]


async def test_optional_fields_are_stored(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    body = await upsert(
        tenant,
        [project_id],
        pieceVersion="0.3.12",
        externalId="slack-main",
        preSelectForNewProjects=True,
        metadata={"nested": {"a": [1, 2]}},
    )
    assert (body["pieceVersion"], body["externalId"], body["preSelectForNewProjects"], body["metadata"]) == (
        "0.3.12",
        "slack-main",
        True,
        {"nested": {"a": [1, 2]}},
    )


async def test_a_second_post_with_the_same_external_id_updates_in_place(tenant: Tenant, db: Database) -> None:
    personal = await personal_project_id(tenant)
    team = (await new_project(tenant))["id"]
    first = await upsert(tenant, [personal], externalId="shared-slack")
    sealed_before = (await raw_row(db, first["id"]))["value_encrypted"]  # type: ignore[index]
    second = await upsert(
        tenant,
        [team],
        "BASIC_AUTH",
        externalId="shared-slack",
        displayName="Renamed",
        pieceName="@activepieces/piece-http",
        metadata={"v": 2},
    )
    assert second["id"] == first["id"] and second["created"] == first["created"]
    assert second["displayName"] == "Renamed" and second["type"] == "BASIC_AUTH"
    assert second["pieceName"] == "@activepieces/piece-http"
    assert second["projectIds"] == [team]
    assert second["metadata"] == {"v": 2}
    assert second["updated"] >= first["updated"]
    row = await raw_row(db, first["id"])
    assert row is not None and row["value_encrypted"] != sealed_before
    box = SecretBox(load_or_create_key(TEST_ENCRYPTION_KEY, Path("/nonexistent")))
    assert box.open(row["value_encrypted"], secret_context(tenant.platform_id, "shared-slack")) == VALUES["BASIC_AUTH"]
    assert [c["id"] for c in await list_all(tenant)] == [first["id"]]


async def test_the_same_external_id_on_two_platforms_makes_two_connections(make_tenant: TenantFactory) -> None:
    a, b = await make_tenant(), await make_tenant()
    on_a = await upsert(a, [await personal_project_id(a)], externalId="same")
    on_b = await upsert(b, [await personal_project_id(b)], externalId="same")
    assert on_a["id"] != on_b["id"]
    assert [c["id"] for c in await list_all(a)] == [on_a["id"]]
    assert [c["id"] for c in await list_all(b)] == [on_b["id"]]


async def test_concurrent_upserts_of_one_external_id_make_one_row(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    responses = await asyncio.gather(
        *(
            tenant.client.post(
                "/v1/global-connections",
                json=upsert_body([project_id], externalId="raced", displayName=f"n{i}"),
            )
            for i in range(20)
        )
    )
    assert [r.status_code for r in responses] == [201] * 20
    assert len({r.json()["id"] for r in responses}) == 1
    assert len(await list_all(tenant)) == 1


@pytest.mark.sends_invalid_requests("each body is one the real UpsertGlobalConnectionRequestBody refuses")
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"value": {"type": "SECRET_TEXT"}}, "body/value must have required property 'secret_text'"),
        ({"value": {"type": "SECRET_TEXT", "secret_text": ""}}, "body/value/secret_text must NOT have fewer than 1 characters"),  # noqa: E501
        ({"value": {"type": "SECRET_TEXT", "secret_text": 5}}, "body/value/secret_text must be string"),
        ({"value": {"type": "PASSWORD", "secret_text": SECRET}}, "body/value/type must be equal to one of the allowed values"),  # noqa: E501
        ({"value": SECRET}, "body/value must be object"),
        ({"value": VALUES["BASIC_AUTH"]}, "body/value/type must be equal to one of the allowed values, body/value must have required property 'secret_text'"),  # noqa: E501
        ({"type": "BASIC_AUTH", "value": {"type": "BASIC_AUTH", "username": "u"}}, "body/value must have required property 'password'"),  # noqa: E501
        ({"type": "CUSTOM_AUTH", "value": {"type": "CUSTOM_AUTH", "props": SECRET}}, "body/value/props must be object"),
        ({"type": "OAUTH2", "value": {**VALUES["OAUTH2"], "client_secret": None}}, "body/value/client_secret must be string"),  # noqa: E501
        ({"type": "PLATFORM_OAUTH2", "value": {k: v for k, v in VALUES["PLATFORM_OAUTH2"].items() if k != "redirect_url"}}, "body/value must have required property 'redirect_url'"),  # noqa: E501
        ({"type": "TOKEN"}, "body/type must be equal to one of the allowed values"),
        ({"scope": "PROJECT"}, "body/scope must be equal to one of the allowed values"),
        ({"projectIds": "abc"}, "body/projectIds must be array"),
        ({"displayName": None}, "body/displayName must be string"),
        ({"preSelectForNewProjects": "yes"}, "body/preSelectForNewProjects must be boolean"),
        ({"metadata": [SECRET]}, "body/metadata must be object"),
    ],
)  # fmt: skip
async def test_bad_shapes_are_400_and_never_echo_the_secret(tenant: Tenant, change: dict, message: str) -> None:
    project_id = await personal_project_id(tenant)
    response = await tenant.client.post("/v1/global-connections", json={**upsert_body([project_id]), **change})
    assert response.status_code == 400
    assert response.json() == validation(message)
    assert SECRET not in response.text
    assert await list_all(tenant) == []


@pytest.mark.sends_invalid_requests("each body lacks a field the real schema requires")
@pytest.mark.parametrize("missing", ["displayName", "pieceName", "value", "projectIds"])
async def test_required_fields(tenant: Tenant, missing: str) -> None:
    body = upsert_body([await personal_project_id(tenant)])
    del body[missing]
    response = await tenant.client.post("/v1/global-connections", json=body)
    assert response.status_code == 400
    assert response.json() == validation(f"body must have required property '{missing}'")


@pytest.mark.sends_invalid_requests(
    "omits type, scope and value.type, which the documented example leaves out", accepted=True
)
@pytest.mark.parametrize(
    ("value", "inferred"),
    [
        ({"secret_text": SECRET}, "SECRET_TEXT"),
        ({"username": "alice", "password": SECRET}, "BASIC_AUTH"),
        ({"props": {"apiKey": SECRET}}, "CUSTOM_AUTH"),
        ({k: v for k, v in VALUES["OAUTH2"].items() if k != "type"}, "OAUTH2"),
        ({k: v for k, v in VALUES["PLATFORM_OAUTH2"].items() if k != "type"}, "PLATFORM_OAUTH2"),
        ({k: v for k, v in VALUES["CLOUD_OAUTH2"].items() if k != "type"}, "CLOUD_OAUTH2"),
    ],
)
async def test_type_scope_and_value_type_are_inferred_when_left_out(
    tenant: Tenant, db: Database, value: dict, inferred: str
) -> None:
    body = {k: v for k, v in upsert_body([await personal_project_id(tenant)]).items() if k not in ("type", "scope")}
    response = await tenant.client.post("/v1/global-connections", json={**body, "value": value})
    assert response.status_code == 201, response.text
    assert response.json()["type"] == inferred and response.json()["scope"] == "PLATFORM"
    # The type given is kept, and the value's type follows it.
    response = await tenant.client.post(
        "/v1/global-connections", json={**body, "type": "BASIC_AUTH", "value": {"username": "u", "password": "p"}}
    )
    assert response.status_code == 201 and response.json()["type"] == "BASIC_AUTH"


@pytest.mark.sends_invalid_requests("a body with several problems")
async def test_every_problem_of_a_body_is_named_at_once(tenant: Tenant) -> None:
    response = await tenant.client.post(
        "/v1/global-connections", json={"value": {"secret_text": SECRET}, "projectIds": "x", "metadata": []}
    )
    assert response.status_code == 400
    assert response.json() == validation(
        "body must have required property 'displayName', body must have required property 'pieceName', "
        "body/projectIds must be array, body/metadata must be object"
    )
    assert SECRET not in response.text


async def test_unknown_project_ids_are_404_and_nothing_is_written(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    unknown = "a" * 21
    response = await tenant.client.post("/v1/global-connections", json=upsert_body([project_id, unknown]))
    assert response.status_code == 404
    assert response.json() == project_not_found(unknown)
    assert await list_all(tenant) == []


async def test_another_platforms_project_ids_are_refused_not_linked(make_tenant: TenantFactory, db: Database) -> None:
    a, b = await make_tenant(), await make_tenant()
    theirs = await personal_project_id(b)
    response = await a.client.post("/v1/global-connections", json=upsert_body([await personal_project_id(a), theirs]))
    assert response.status_code == 404
    assert response.json() == project_not_found(theirs)
    assert await list_all(a) == []
    assert await link_count(db, project_id=theirs) == 0


# --- list


async def test_list_pages_oldest_first_with_cursors_that_round_trip(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    created = [(await upsert(tenant, [project_id], displayName=f"c{i}"))["id"] for i in range(5)]
    oldest_first = created  # as the real server lists connections

    first = (await tenant.client.get("/v1/global-connections", params={"limit": 2})).json()
    assert [c["id"] for c in first["data"]] == oldest_first[:2]
    assert first["previous"] is None and first["next"] is not None
    second = (await tenant.client.get("/v1/global-connections", params={"limit": 2, "cursor": first["next"]})).json()
    assert [c["id"] for c in second["data"]] == oldest_first[2:4]
    third = (await tenant.client.get("/v1/global-connections", params={"limit": 2, "cursor": second["next"]})).json()
    assert [c["id"] for c in third["data"]] == oldest_first[4:]
    assert third["next"] is None and third["previous"] is not None
    back = (await tenant.client.get("/v1/global-connections", params={"limit": 2, "cursor": third["previous"]})).json()
    assert [c["id"] for c in back["data"]] == oldest_first[2:4]


async def test_list_default_limit_is_10(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    for i in range(11):
        await upsert(tenant, [project_id], displayName=f"c{i}")
    page = (await tenant.client.get("/v1/global-connections")).json()
    assert len(page["data"]) == 10 and page["next"] is not None


async def test_list_filters(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    slack = await upsert(tenant, [project_id], displayName="Slack Production")
    gmail = await upsert(tenant, [project_id], displayName="Gmail 100%_done", pieceName="@activepieces/piece-gmail")

    async def ids(**params: Any) -> list[str]:
        return [c["id"] for c in await list_all(tenant, **params)]

    assert await ids(pieceName="@activepieces/piece-gmail") == [gmail["id"]]
    assert await ids(pieceName="@activepieces/piece") == []
    assert await ids(displayName="production") == [slack["id"]]
    assert await ids(displayName="100%_") == [gmail["id"]]
    # `%` and `_` are wildcards, as on the real server.
    assert await ids(displayName="%") == [slack["id"], gmail["id"]]
    assert await ids(displayName="S_ack") == [slack["id"]]
    assert await ids(status="ACTIVE") == [slack["id"], gmail["id"]]
    assert await ids(status=["ERROR", "MISSING"]) == []
    assert await ids(scope="PLATFORM") == [slack["id"], gmail["id"]]
    # The route lists global connections whatever `scope` says, as the real server does (its
    # controller lists scope PLATFORM and ignores the query's scope). Before, scope=PROJECT listed the
    # projects' own connections instead.
    own = await tenant.client.post(
        "/v1/app-connections",
        json={
            "externalId": "own",
            "displayName": "Own",
            "pieceName": "@activepieces/piece-slack",
            "projectId": project_id,
            "type": "SECRET_TEXT",
            "value": {"type": "SECRET_TEXT", "secret_text": "s"},
        },
    )
    assert own.status_code == 201, own.text
    assert await ids(scope="PROJECT") == [slack["id"], gmail["id"]]
    assert await ids() == [slack["id"], gmail["id"]]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": 0}, "querystring/limit must be >= 1"),
        ({"limit": "ten"}, "querystring/limit must be integer"),
        ({"status": "BROKEN"}, "querystring/status/0 must be equal to one of the allowed values"),
        ({"scope": "GLOBAL"}, "querystring/scope must be equal to one of the allowed values"),
        ({"cursor": "not-a-cursor"}, "querystring/cursor is not a valid cursor"),
    ],
)
async def test_list_rejects_bad_queries(tenant: Tenant, params: dict, message: str) -> None:
    response = await tenant.client.get("/v1/global-connections", params=params)
    assert response.status_code == 400
    assert response.json() == validation(message)


async def test_list_only_shows_the_callers_platform(make_tenant: TenantFactory) -> None:
    a, b = await make_tenant(), await make_tenant()
    await upsert(b, [await personal_project_id(b)])
    assert await list_all(a) == []


# --- update


@pytest.mark.sends_invalid_requests(
    "no displayName, which the real schema requires (documented: every field optional)", accepted=True
)
async def test_update_changes_only_what_is_sent(tenant: Tenant, db: Database) -> None:
    personal = await personal_project_id(tenant)
    team = (await new_project(tenant))["id"]
    created = await upsert(tenant, [personal], metadata={"keep": True})
    sealed = (await raw_row(db, created["id"]))["value_encrypted"]  # type: ignore[index]

    renamed = await tenant.client.post(f"/v1/global-connections/{created['id']}", json={"displayName": "Renamed"})
    assert renamed.status_code == 200
    body = renamed.json()
    assert set(body) == CONNECTION_FIELDS
    assert body["displayName"] == "Renamed"
    assert body["projectIds"] == [personal] and body["metadata"] == {"keep": True}

    moved = (
        await tenant.client.post(
            f"/v1/global-connections/{created['id']}",
            json={"projectIds": [team, personal], "metadata": None, "preSelectForNewProjects": True},
        )
    ).json()
    assert moved["displayName"] == "Renamed"
    assert sorted(moved["projectIds"]) == sorted([team, personal])
    assert moved["metadata"] is None and moved["preSelectForNewProjects"] is True

    emptied = (await tenant.client.post(f"/v1/global-connections/{created['id']}", json={"projectIds": []})).json()
    assert emptied["projectIds"] == []
    assert (await raw_row(db, created["id"]))["value_encrypted"] == sealed  # type: ignore[index]


async def test_update_refuses_unknown_and_foreign_projects_atomically(make_tenant: TenantFactory) -> None:
    a, b = await make_tenant(), await make_tenant()
    mine = await personal_project_id(a)
    created = await upsert(a, [mine])
    theirs = await personal_project_id(b)
    response = await a.client.post(
        f"/v1/global-connections/{created['id']}", json={"displayName": "Changed", "projectIds": [theirs]}
    )
    assert response.status_code == 404
    assert response.json() == project_not_found(theirs)
    [unchanged] = await list_all(a)
    assert unchanged["displayName"] == "Slack bot" and unchanged["projectIds"] == [mine]


@pytest.mark.sends_invalid_requests("each body is one the real UpdateGlobalConnectionValueRequestBody refuses")
async def test_update_validation(tenant: Tenant) -> None:
    created = await upsert(tenant, [await personal_project_id(tenant)])
    response = await tenant.client.post(f"/v1/global-connections/{created['id']}", json={"displayName": ""})
    assert response.status_code == 400
    assert response.json() == validation("body/displayName must NOT have fewer than 1 characters")
    response = await tenant.client.post(f"/v1/global-connections/{created['id']}", json={"projectIds": [1]})
    assert response.status_code == 400
    assert response.json() == validation("body/projectIds/0 must be string")


@pytest.mark.sends_invalid_requests("bad ids, with bodies that do not matter")
@pytest.mark.parametrize("method", ["POST", "DELETE"])
async def test_bad_ids_are_400_and_unknown_ids_404(tenant: Tenant, method: str) -> None:
    response = await tenant.client.request(method, "/v1/global-connections/short", json={})
    assert response.status_code == 400
    assert response.json() == validation('params/id must match pattern "^[0-9a-zA-Z]{21}$"')
    unknown = "b" * 21
    response = await tenant.client.request(method, f"/v1/global-connections/{unknown}", json={})
    assert response.status_code == 404
    assert response.json() == connection_not_found(unknown)


async def test_another_platforms_connection_is_404_and_untouched(make_tenant: TenantFactory) -> None:
    a, b = await make_tenant(), await make_tenant()
    theirs = await upsert(b, [await personal_project_id(b)])
    update = await a.client.post(f"/v1/global-connections/{theirs['id']}", json={"displayName": "Mine now"})
    assert update.status_code == 404 and update.json() == connection_not_found(theirs["id"])
    delete = await a.client.delete(f"/v1/global-connections/{theirs['id']}")
    assert delete.status_code == 404 and delete.json() == connection_not_found(theirs["id"])
    assert await list_all(b) == [theirs]


# --- delete


async def test_delete_removes_the_connection_and_its_links(tenant: Tenant, db: Database) -> None:
    project_id = await personal_project_id(tenant)
    created = await upsert(tenant, [project_id])
    response = await tenant.client.delete(f"/v1/global-connections/{created['id']}")
    assert response.status_code == 204 and response.content == b""
    assert await list_all(tenant) == []
    assert await raw_row(db, created["id"]) is None
    assert await link_count(db, connection_id=created["id"]) == 0
    again = await tenant.client.delete(f"/v1/global-connections/{created['id']}")
    assert again.status_code == 404


# --- the project side of the relation


async def test_project_create_links_named_connections(tenant: Tenant) -> None:
    personal = await personal_project_id(tenant)
    one = await upsert(tenant, [personal], externalId="one")
    two = await upsert(tenant, [personal], externalId="two")
    other = await upsert(tenant, [personal], externalId="other")
    project = await new_project(tenant, globalConnectionExternalIds=["one", "two"])
    by_id = {c["id"]: c for c in await list_all(tenant)}
    assert by_id[one["id"]]["projectIds"] == [personal, project["id"]]
    assert by_id[two["id"]]["projectIds"] == [personal, project["id"]]
    assert by_id[other["id"]]["projectIds"] == [personal]


async def test_project_update_replaces_its_connections(tenant: Tenant, db: Database) -> None:
    personal = await personal_project_id(tenant)
    for name in ("a", "b", "c"):
        await upsert(tenant, [personal], externalId=name)
    project = await new_project(tenant, globalConnectionExternalIds=["a", "b"])

    async def linked() -> list[str]:
        return sorted(c["externalId"] for c in await list_all(tenant) if project["id"] in c["projectIds"])

    assert await linked() == ["a", "b"]
    response = await tenant.client.post(
        f"/v1/projects/{project['id']}", json={"globalConnectionExternalIds": ["b", "c", "c"]}
    )
    assert response.status_code == 200
    assert await linked() == ["b", "c"]
    assert await link_count(db, project_id=project["id"]) == 2
    # Leaving the field out keeps the links; an empty list removes them all.
    await tenant.client.post(f"/v1/projects/{project['id']}", json={"displayName": "Renamed"})
    assert await linked() == ["b", "c"]
    await tenant.client.post(f"/v1/projects/{project['id']}", json={"globalConnectionExternalIds": []})
    assert await linked() == []


async def test_unknown_or_foreign_external_ids_are_skipped_as_on_the_real_server(
    make_tenant: TenantFactory, db: Database
) -> None:
    a, b = await make_tenant(), await make_tenant()
    theirs = await upsert(b, [await personal_project_id(b)], externalId="theirs")
    project = await new_project(a, globalConnectionExternalIds=["theirs", "no-such-connection"])
    assert await link_count(db, project_id=project["id"]) == 0
    response = await a.client.post(f"/v1/projects/{project['id']}", json={"globalConnectionExternalIds": ["theirs"]})
    assert response.status_code == 200
    assert await link_count(db, project_id=project["id"]) == 0
    assert (await list_all(b))[0]["projectIds"] == theirs["projectIds"]


async def test_preselected_connections_join_every_new_project(tenant: Tenant) -> None:
    personal = await personal_project_id(tenant)
    preselected = await upsert(tenant, [personal], preSelectForNewProjects=True)
    plain = await upsert(tenant, [personal])
    project = await new_project(tenant)
    by_id = {c["id"]: c for c in await list_all(tenant)}
    assert by_id[preselected["id"]]["projectIds"] == [personal, project["id"]]
    assert by_id[plain["id"]]["projectIds"] == [personal]
    # Named and preselected at once: linked once.
    both = await new_project(tenant, globalConnectionExternalIds=[preselected["externalId"]])
    by_id = {c["id"]: c for c in await list_all(tenant)}
    assert by_id[preselected["id"]]["projectIds"] == [personal, project["id"], both["id"]]


async def test_deleting_a_project_removes_it_from_connections(tenant: Tenant, db: Database) -> None:
    personal = await personal_project_id(tenant)
    project = await new_project(tenant)
    created = await upsert(tenant, [personal, project["id"]])
    assert (await tenant.client.delete(f"/v1/projects/{project['id']}")).status_code == 204
    [after] = await list_all(tenant)
    assert after["id"] == created["id"] and after["projectIds"] == [personal]
    assert await link_count(db, project_id=project["id"]) == 0


# --- secrets never leak


@pytest.mark.sends_invalid_requests("includes a value that does not fit its type")
async def test_no_secret_in_any_response_or_log_line(
    app: Any, tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    access_lines: list[bytes] = []
    access_log = app.state.access_log
    original_sink, access_log.sink = access_log.sink, access_lines.append
    caplog.set_level(logging.DEBUG)
    bodies: list[str] = []
    try:
        project_id = await personal_project_id(tenant)
        for connection_type in VALUES:
            response = await tenant.client.post(
                "/v1/global-connections", json=upsert_body([project_id], connection_type)
            )
            bodies.append(response.text)
        bad = await tenant.client.post(
            "/v1/global-connections", json={**upsert_body([project_id]), "type": "BASIC_AUTH"}
        )
        bodies.append(bad.text)
        unknown_project = await tenant.client.post("/v1/global-connections", json=upsert_body(["c" * 21]))
        bodies.append(unknown_project.text)
        bodies.append((await tenant.client.get("/v1/global-connections")).text)
        access_log.flush()
    finally:
        access_log.sink = original_sink
    assert len(bodies) == len(VALUES) + 3
    everything = "\n".join([*bodies, b"".join(access_lines).decode(), caplog.text])
    assert SECRET not in everything
    assert "client-1" not in "\n".join(bodies)


async def test_the_openapi_document_lists_the_routes_without_value_in_responses(app: Any) -> None:
    schema = app.openapi()
    paths = schema["paths"]
    assert set(paths["/v1/global-connections"]) == {"get", "post"}
    assert set(paths["/v1/global-connections/{id}"]) == {"post", "delete"}
    response_schema = schema["components"]["schemas"]["AppConnectionWithoutSensitiveData"]
    assert "value" not in response_schema["properties"]


# --- the key


def test_a_generated_key_is_kept_private_and_reused(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="openpieces.crypto")
    data_dir = tmp_path / "data"
    key = load_or_create_key(None, data_dir)
    key_file = data_dir / "encryption.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert "generated one for connection secrets" in caplog.text
    assert load_or_create_key(None, data_dir) == key
    assert [p.name for p in data_dir.iterdir()] == ["encryption.key"]


def test_a_configured_key_wins_and_a_bad_one_is_refused(tmp_path: Path) -> None:
    configured = new_encoded_key()
    assert load_or_create_key(configured, tmp_path) == load_or_create_key(configured, tmp_path / "x")
    assert not (tmp_path / "encryption.key").exists()
    with pytest.raises(InvalidEncryptionKey):
        load_or_create_key("too-short", tmp_path)


def test_a_sealed_value_only_opens_for_its_own_connection() -> None:
    box = SecretBox(load_or_create_key(new_encoded_key(), Path("/nonexistent")))
    sealed = box.seal({"secret_text": SECRET}, "platform-a/ext")
    assert SECRET not in sealed
    assert box.open(sealed, "platform-a/ext") == {"secret_text": SECRET}
    with pytest.raises(InvalidTag):
        box.open(sealed, "platform-b/ext")
