"""Bad input of every kind gets a 4xx with the error envelope, and nothing is written."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from tests.conftest import Tenant, personal_project_id
from tests.test_flows import code_action, create_flow, schedule_trigger

# Bad input is this module's purpose: its request bodies are not checked against the real schemas.
pytestmark = pytest.mark.sends_invalid_requests("every test here sends bad input on purpose")

NOT_STORABLE = "request contains a value that cannot be stored (a NUL character or an out-of-range value)"


def envelope(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"statusCode", "code", "params"}, body
    assert body["statusCode"] == response.status_code
    return dict(body)


async def counts(tenant: Tenant) -> tuple[int, int, int]:
    projects = (await tenant.client.get("/v1/projects", params={"limit": 100})).json()["data"]
    personal = next(p for p in projects if p["type"] == "PERSONAL")["id"]
    flows = (await tenant.client.get("/v1/flows", params={"projectId": personal, "limit": 100})).json()["data"]
    connections = (await tenant.client.get("/v1/global-connections", params={"limit": 100})).json()["data"]
    return len(projects), len(flows), len(connections)


def raw(body: bytes, content_type: str = "application/json") -> dict[str, Any]:
    return {"content": body, "headers": {"content-type": content_type}}


@pytest.mark.parametrize(
    ("path", "kwargs", "status", "message"),
    [
        ("/v1/projects", raw(b"not json"), 400, "body must be valid JSON"),
        ("/v1/projects", raw(b'{"displayName": "x"'), 400, "body must be valid JSON"),
        ("/v1/projects", raw(b""), 400, "body must be object"),
        ("/v1/projects", raw(b"[]"), 400, "body must be object"),
        ("/v1/projects", raw(b'"x"'), 400, "body must be object"),
        (
            "/v1/projects",
            raw(b"displayName=x", "application/x-www-form-urlencoded"),
            400,
            "body must be JSON sent with Content-Type: application/json "
            "(got Content-Type: application/x-www-form-urlencoded)",
        ),
        (
            "/v1/projects",
            raw(b'{"displayName":"x"}', "text/plain; charset=utf-8"),
            400,
            "body must be JSON sent with Content-Type: application/json (got Content-Type: text/plain)",
        ),
        ("/v1/projects", raw(b'{"displayName": "a\\u0000b"}'), 400, NOT_STORABLE),
        ("/v1/projects", {"json": {"displayName": "ok", "metadata": {"k": "a\u0000"}}}, 400, NOT_STORABLE),
        ("/v1/projects", {"json": {"displayName": "ok", "metadata": {"k\u0000": 1}}}, 400, NOT_STORABLE),
        (
            "/v1/projects",
            {"json": {"displayName": "ok", "maxConcurrentJobs": 10**30}},
            400,
            "body/maxConcurrentJobs must be <= 9007199254740991",
        ),
        (
            "/v1/projects",
            {"json": {"displayName": "ok", "maxConcurrentJobs": -1}},
            400,
            "body/maxConcurrentJobs must be > 0",
        ),
        (
            "/v1/projects",
            {"json": {"displayName": "\u65e5\u672c/\u8a9e"}},
            400,
            'body/displayName must match pattern "^[^./]+$"',
        ),
        (
            "/v1/global-connections",
            {
                "json": {
                    "displayName": "d\u0000",
                    "pieceName": "p",
                    "type": "NO_AUTH",
                    "value": {"type": "NO_AUTH"},
                    "scope": "PLATFORM",
                    "projectIds": [],
                }
            },
            400,
            NOT_STORABLE,
        ),
    ],
)
async def test_bad_bodies_are_4xx_with_the_envelope_and_write_nothing(
    tenant: Tenant, path: str, kwargs: dict, status: int, message: str
) -> None:
    before = await counts(tenant)
    response = await tenant.client.post(path, **kwargs)
    assert response.status_code == status, response.text
    assert envelope(response)["params"] == {"message": message}
    assert await counts(tenant) == before


async def test_unicode_is_stored_as_sent(tenant: Tenant) -> None:
    name = "Équipe \u65e5\u672c \U0001f680 \u202e"
    response = await tenant.client.post("/v1/projects", json={"displayName": name, "metadata": {"emoji": "\U0001f600"}})
    assert response.status_code == 201
    fetched = (await tenant.client.get(f"/v1/projects/{response.json()['id']}")).json()
    assert fetched["displayName"] == name and fetched["metadata"] == {"emoji": "\U0001f600"}


async def test_nul_in_a_flow_and_in_query_strings(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    before = await counts(tenant)
    flow = await tenant.client.post("/v1/flows", json={"displayName": "a\u0000", "projectId": project_id})
    assert flow.status_code == 400 and envelope(flow)["params"] == {"message": NOT_STORABLE}
    for path, params in (
        ("/v1/projects", {"displayName": "a\u0000"}),
        ("/v1/projects", {"externalId": "a\u0000"}),
        ("/v1/flows", {"projectId": "a\u0000"}),
        ("/v1/global-connections", {"pieceName": "a\u0000"}),
    ):
        response = await tenant.client.get(path, params=params)
        assert response.status_code == 400, (path, response.text)
        envelope(response)
    assert await counts(tenant) == before


async def test_ten_megabyte_bodies_are_refused_unread(tenant: Tenant) -> None:
    before = await counts(tenant)
    big = b'{"displayName":"big","metadata":{"x":"' + b"a" * (10 * 1024 * 1024) + b'"}}'
    response = await tenant.client.post("/v1/projects", **raw(big))
    assert response.status_code == 413
    assert envelope(response) == {
        "statusCode": 413,
        "code": "FST_ERR_CTP_BODY_TOO_LARGE",
        "params": {"message": "Request body is too large"},
    }

    async def chunks():  # no Content-Length: counted while read
        yield b'{"displayName":"big","metadata":{"x":"'
        for _ in range(11):
            yield b"a" * (1024 * 1024)
        yield b'"}}'

    chunked = await tenant.client.post("/v1/projects", content=chunks(), headers={"content-type": "application/json"})
    # Failed before: 400 "body must be valid JSON" (FastAPI answered the limit's error as a parse error).
    assert chunked.status_code == 413
    assert envelope(chunked) == envelope(response)
    assert await counts(tenant) == before


async def test_deeply_nested_metadata_is_refused(tenant: Tenant) -> None:
    before = await counts(tenant)
    body = b'{"displayName":"deep","metadata":' + b'{"a":' * 5000 + b"{}" + b"}" * 5000 + b"}"
    response = await tenant.client.post("/v1/projects", **raw(body))
    assert response.status_code == 400
    assert envelope(response)["params"] == {"message": "body/metadata must NOT be nested more than 100 levels deep"}
    # Deeper than the JSON parser goes (long flows need ~3,000 levels; README "Limits").
    body = b'{"displayName":"deep","metadata":' + b'{"a":' * 20000 + b"{}" + b"}" * 20000 + b"}"
    response = await tenant.client.post("/v1/projects", **raw(body))
    assert response.status_code == 400
    assert envelope(response)["params"] == {"message": "body must be valid JSON"}
    assert await counts(tenant) == before


@pytest.mark.parametrize("path", ["/v1/projects", "/v1/global-connections"])
@pytest.mark.parametrize(
    "params",
    [
        {"limit": "-1"},
        {"limit": "0"},
        {"limit": "1e3"},
        {"limit": "99999999999999999999999"},
        {"cursor": "garbage"},
        {"cursor": base64.urlsafe_b64encode(b"next_2024-01-01T00:00:00+00:00_short").decode()},
        {"cursor": base64.urlsafe_b64encode(b"sideways_2024-01-01T00:00:00+00:00_aaaaaaaaaaaaaaaaaaaaa").decode()},
        {"cursor": base64.urlsafe_b64encode(b"next_not-a-date_aaaaaaaaaaaaaaaaaaaaa").decode()},
        {"cursor": "bmV4dF8yMDI0LTAxLTAxVDAw"},  # truncated
        {"cursor": "%%%"},
    ],
)
async def test_bad_list_queries_are_400(tenant: Tenant, path: str, params: dict) -> None:
    response = await tenant.client.get(path, params=params)
    if path == "/v1/global-connections" and params.get("limit") == "99999999999999999999999":
        # Any positive limit is accepted there, as on the real server (pages stop at 1000).
        assert response.status_code == 200
        return
    assert response.status_code == 400, response.text
    assert envelope(response)["code"] == "VALIDATION"


async def test_a_cursor_from_a_real_page_still_works(tenant: Tenant) -> None:
    for i in range(3):
        await tenant.client.post("/v1/projects", json={"displayName": f"P{i}"})
    first = (await tenant.client.get("/v1/projects", params={"limit": 1})).json()
    second = await tenant.client.get("/v1/projects", params={"limit": 1, "cursor": first["next"]})
    assert second.status_code == 200 and len(second.json()["data"]) == 1


async def test_integers_past_64_bits_in_free_form_json_are_kept_as_numbers(tenant: Tenant) -> None:
    # Found by schemathesis: such a number was stored, then every read of it was a 500. Now it reads
    # back as the real server (JavaScript) would give it: a float.
    created = await tenant.client.post("/v1/projects", json={"displayName": "Big", "metadata": {"n": 10**30}})
    assert created.status_code == 201, created.text
    assert created.json()["metadata"] == {"n": 1e30}
    listed = await tenant.client.get("/v1/projects", params={"externalId": None, "limit": 100})
    assert listed.status_code == 200
    connection = await tenant.client.post(
        "/v1/global-connections",
        json={
            "displayName": "Big props",
            "pieceName": "@activepieces/piece-x",
            "type": "CUSTOM_AUTH",
            "value": {"type": "CUSTOM_AUTH", "props": {"n": 10**30}},
            "scope": "PLATFORM",
            "projectIds": [],
            "metadata": {"n": -(10**40)},
        },
    )
    assert connection.status_code == 201, connection.text
    assert connection.json()["metadata"] == {"n": -1e40}
    assert (await tenant.client.get("/v1/global-connections")).status_code == 200


def test_every_route_with_a_body_checks_its_strings_for_lone_surrogates() -> None:
    # The check lives in each router's route class: a router made without it would let a lone
    # surrogate through to the size checks, the encoder or PostgreSQL (a 500).
    from fastapi.routing import APIRoute

    from app.admin.router import router as admin_router
    from app.edge.http import ApiRoute
    from app.main import API_ROUTERS

    routes = [route for router in [*API_ROUTERS, admin_router] for route in router.routes]
    with_a_body = [route for route in routes if isinstance(route, APIRoute) and route.body_field is not None]
    assert len(with_a_body) >= 8
    assert [f"{sorted(route.methods)} {route.path}" for route in with_a_body if not isinstance(route, ApiRoute)] == []


def lone_surrogate_body(value: dict[str, Any]) -> dict[str, Any]:
    # A lone surrogate can only travel as a JSON escape (`"a\ud800b"`): json.dumps writes it so.
    return raw(json.dumps(value).encode())


def not_unicode(*paths: str) -> dict[str, Any]:
    message = ", ".join(f"{path} must be a string of valid Unicode (it holds a lone surrogate)" for path in paths)
    return {"statusCode": 400, "code": "VALIDATION", "params": {"message": message}}


async def test_a_lone_surrogate_in_any_string_of_any_body_is_400_and_writes_nothing(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    flow = await create_flow(tenant, project_id)
    flow_path = f"/v1/flows/{flow['id']}"
    bad = "a\ud800b"
    connection = {
        "displayName": "c",
        "pieceName": "@activepieces/piece-x",
        "type": "SECRET_TEXT",
        "value": {"type": "SECRET_TEXT", "secret_text": "s"},
        "scope": "PLATFORM",
        "projectIds": [],
    }
    code = code_action("step_1")
    code["settings"]["sourceCode"]["code"] = bad
    trigger = schedule_trigger()
    trigger["settings"]["input"] = {"x": "\udfff"}
    imported = {**schedule_trigger(), "nextAction": code}
    cases: list[tuple[str, dict[str, Any], tuple[str, ...]]] = [
        (
            flow_path,
            {"type": "ADD_ACTION", "request": {"parentStep": "trigger", "action": code}},
            ("body/request/action/settings/sourceCode/code",),
        ),
        (
            flow_path,
            {"type": "UPDATE_TRIGGER", "request": {**schedule_trigger(), "settings": {"x": "\ud800"}}},
            ("body/request/settings/x",),
        ),
        (
            flow_path,
            {"type": "UPDATE_TRIGGER", "request": trigger},
            ("body/request/settings/input/x",),
        ),
        (
            flow_path,
            {"type": "IMPORT_FLOW", "request": {"displayName": bad, "trigger": imported, "schemaVersion": None}},
            ("body/request/displayName", "body/request/trigger/nextAction/settings/sourceCode/code"),
        ),
        (flow_path, {"type": "CHANGE_NAME", "request": {"displayName": bad}}, ("body/request/displayName",)),
        ("/v1/projects", {"displayName": bad}, ("body/displayName",)),
        ("/v1/projects", {"displayName": "ok", "metadata": {"k": [bad]}}, ("body/metadata/k/0",)),
        ("/v1/projects", {"displayName": "ok", "metadata": {bad: 1}}, ("body/metadata/a\\ud800b (key)",)),
        (
            f"/v1/projects/{project_id}",
            {"displayName": bad, "externalId": "\udc00"},
            ("body/displayName", "body/externalId"),
        ),
        ("/v1/flows", {"displayName": bad, "projectId": project_id}, ("body/displayName",)),
        ("/v1/global-connections", {**connection, "displayName": bad}, ("body/displayName",)),
        (
            "/v1/global-connections",
            {**connection, "value": {"type": "SECRET_TEXT", "secret_text": bad}},
            ("body/value/secret_text",),
        ),
    ]
    before = await counts(tenant)
    for path, body, paths in cases:
        response = await tenant.client.post(path, **lone_surrogate_body(body))
        assert (response.status_code, response.json()) == (400, not_unicode(*paths)), (path, response.text)
    assert await counts(tenant) == before
    unchanged = (await tenant.client.get(flow_path)).json()
    assert unchanged["version"]["trigger"].get("nextAction") is None
    assert unchanged["version"]["displayName"] == "My flow"
    # An escaped pair is one valid character, and an escaped backslash before `ud800` is plain text.
    fine = await tenant.client.post(
        "/v1/projects", **raw(b'{"displayName": "ok \\ud83d\\ude80", "metadata": {"k": "\\\\ud800"}}')
    )
    assert fine.status_code == 201, fine.text
    assert (fine.json()["displayName"], fine.json()["metadata"]) == ("ok \U0001f680", {"k": "\\ud800"})
