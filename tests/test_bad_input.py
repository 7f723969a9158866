"""Bad input of every kind gets a 4xx with the error envelope, and nothing is written."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from tests.conftest import Tenant, personal_project_id

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
