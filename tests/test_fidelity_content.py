"""The real-schema hook's content checks bite (tests/fidelity_content.py): real answers of this
server, altered the way a bug would alter them, are fed to the hook and must fail it; the same
answers unaltered pass. Each check runs in a context of its own, so the test's own context (whose
violations fail the test) stays clean."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from tests import fidelity
from tests import fidelity_content as content
from tests.conftest import Tenant, personal_project_id


@contextmanager
def own_context() -> Iterator[fidelity.TestContext]:
    saved = fidelity.CURRENT
    fidelity.CURRENT = fidelity.TestContext(nodeid="fed to the hook")
    try:
        yield fidelity.CURRENT
    finally:
        fidelity.CURRENT = saved


def feed(method: str, url: str, status: int, body: Any, mode: content.Mode = "docs") -> None:
    request = httpx.Request(method, f"http://testserver{url}")
    fidelity.check(request, httpx.Response(status, json=body, request=request), mode)


def fails(method: str, url: str, status: int, body: Any, mode: content.Mode = "docs") -> str:
    with pytest.raises(fidelity.RealSchemaViolation) as caught:
        feed(method, url, status, body, mode)
    return str(caught.value)


async def page(tenant: Tenant, url: str) -> dict[str, Any]:
    response = await tenant.client.get(url)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def team_projects(tenant: Tenant, *names: str) -> None:
    for name in names:
        assert (await tenant.client.post("/v1/projects", json={"displayName": name})).status_code == 201


async def test_a_page_out_of_the_real_order_fails(tenant: Tenant) -> None:
    await team_projects(tenant, "alpha", "beta", "gamma")
    body = await page(tenant, "/v1/projects?limit=10")
    with own_context():
        feed("GET", "/v1/projects?limit=10", 200, body)  # as answered: in order
        swapped = {**body, "data": [body["data"][0], body["data"][2], body["data"][1], body["data"][3]]}
        message = fails("GET", "/v1/projects?limit=10", 200, swapped)
    assert "comes after" in message and "type asc, displayName asc, id asc" in message
    assert "platform-project-service.ts" in message
    with own_context():
        newest_first = {**body, "data": list(reversed(body["data"]))}  # the order this server had
        assert "comes after" in fails("GET", "/v1/projects", 200, newest_first)


async def test_a_flow_page_with_a_disabled_flow_before_an_enabled_one_fails(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    for name in ("one", "two"):
        response = await tenant.client.post("/v1/flows", json={"displayName": name, "projectId": project_id})
        assert response.status_code == 201
    body = await page(tenant, f"/v1/flows?projectId={project_id}")
    first, second = body["data"]
    enabled_last = {**body, "data": [first, {**second, "status": "ENABLED"}]}
    with own_context():
        assert "status desc, updated desc, id desc" in fails(
            "GET", f"/v1/flows?projectId={project_id}", 200, enabled_last
        )


async def test_a_page_that_does_not_continue_after_its_cursor_fails(tenant: Tenant) -> None:
    await team_projects(tenant, "a", "b", "c", "d")
    with own_context():
        first = await page(tenant, "/v1/projects?limit=2")
        second = await page(tenant, f"/v1/projects?limit=2&cursor={first['next']}")
        # The hook saw both pages in order; the second page answered as if it started over fails.
        feed("GET", f"/v1/projects?limit=2&cursor={first['next']}", 200, second)
        restarted = {**second, "data": first["data"]}
        message = fails("GET", f"/v1/projects?limit=2&cursor={first['next']}", 200, restarted)
    assert "the page after" in message and "not after it" in message


async def test_a_row_that_does_not_satisfy_its_filter_fails(tenant: Tenant) -> None:
    await team_projects(tenant, "Sales EU", "Support")
    body = await page(tenant, "/v1/projects?displayName=sales")
    assert [p["displayName"] for p in body["data"]] == ["Sales EU"]
    everything = await page(tenant, "/v1/projects")
    support = next(p for p in everything["data"] if p["displayName"] == "Support")
    with own_context():
        feed("GET", "/v1/projects?displayName=sales", 200, body)
        message = fails("GET", "/v1/projects?displayName=sales", 200, {**body, "data": [*body["data"], support]})
    assert "does not satisfy the filter displayName=['sales']" in message
    with own_context():
        escaped = fails("GET", "/v1/projects?displayName=sales", 200, {**body, "data": [support]})
    assert "does not satisfy" in escaped


async def test_a_filtered_listing_missing_a_row_of_the_full_listing_fails(tenant: Tenant) -> None:
    await team_projects(tenant, "north 1", "north 2", "south")
    with own_context():
        await page(tenant, "/v1/projects")  # the full listing, seen by the hook
        filtered = await page(tenant, "/v1/projects?displayName=north")  # and checked against it
        assert len(filtered["data"]) == 2
        message = fails("GET", "/v1/projects?displayName=north", 200, {**filtered, "data": filtered["data"][:1]})
    assert "the rows of the full listing that satisfy them are" in message


@pytest.mark.parametrize(
    ("mode", "body", "expected"),
    [
        ("docs", {"statusCode": 400, "code": "ENTITY_NOT_FOUND", "params": {}}, "$.statusCode is 400"),
        ("docs", {"code": "ENTITY_NOT_FOUND", "params": {}}, "$.statusCode is None"),
        ("server", {"statusCode": 404, "code": "ENTITY_NOT_FOUND", "params": {}}, "{code, params} only"),
        ("server", {"code": "ENTITY_NOT_FOUND", "params": {"entityId": None}}, "$.params.entityId is None"),
        ("docs", {"statusCode": 404, "code": "ENTITY_NOT_FOUND", "params": {"id": "x"}}, "$.params.id: the real"),
        ("docs", {"statusCode": 404, "code": "ENTITY_NOT_FOUND", "params": "gone"}, "$.params must be an object"),
        (None, {"statusCode": 500, "code": "ENTITY_NOT_FOUND", "params": {}}, "$.statusCode is 500"),
        ("server", {"statusCode": 400, "code": "FST_ERR_VALIDATION", "error": "x", "message": "y"}, "$.statusCode"),
    ],
)
def test_an_error_body_of_the_wrong_shape_fails(mode: content.Mode, body: dict[str, Any], expected: str) -> None:
    with own_context():
        assert expected in fails("GET", "/v1/projects/x", 404, body, mode)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"code": "VALIDATION", "params": {"reason": "taken"}}, "$.params.message is missing"),
        ({"code": "PROJECT_EXTERNAL_ID_ALREADY_EXISTS", "params": {"externalId": 7}}, "$.params.externalId is 7"),
        ({"code": "AUTHORIZATION", "params": {"message": "no", "projectId": ["p"]}}, "$.params.projectId"),
    ],
)
def test_params_of_the_wrong_shape_for_their_code_fail(body: dict[str, Any], expected: str) -> None:
    with own_context():
        assert expected in fails("POST", "/v1/projects", 409, body, "server")


def test_the_real_shapes_pass() -> None:
    with own_context() as context:
        feed("GET", "/v1/projects/x", 404, {"statusCode": 404, "code": "ENTITY_NOT_FOUND", "params": {}}, "docs")
        feed("GET", "/v1/projects/x", 404, {"code": "ENTITY_NOT_FOUND", "params": {"entityType": "project"}}, "server")
        authorization = {
            "message": "Service is not allowed to access this project",
            "projectId": "p",
            "platformId": "q",
        }
        feed("GET", "/v1/projects/x", 403, {"code": "AUTHORIZATION", "params": authorization}, "server")
        feed(
            "GET",
            "/v1/x",
            404,
            {"message": "Route GET:/v1/x not found", "error": "Not Found", "statusCode": 404},
            "server",
        )
        assert context.violations == []


@pytest.mark.parametrize(
    ("pattern", "value", "matches"),
    [
        ("%0%%", "50% off", True),
        ("%0%%", "500 off", True),
        ("%0\\%%", "500 off", False),
        ("%A_B%", "axb", True),
        ("%a\\_%", "axb", False),
        ("%a\\_%", "a_b", True),
        ("%OFF%", "50% off", True),
        ("%x%", None, False),
    ],
)
def test_the_name_filter_is_the_real_ilike(pattern: str, value: str | None, matches: bool) -> None:
    assert content.ilike(pattern, value) is matches


def test_every_real_list_route_declares_its_order_or_why_not() -> None:
    lists = [
        f"GET /v1{pattern.pattern[len('^/v1') : -1]}"
        for method, pattern, _, responses in fidelity.ROUTES
        if method == "GET"
        and any(str(schema).startswith("SeekPage") or str(schema).endswith("List") for schema in responses.values())
    ]
    undeclared = [
        route
        for route in lists
        if route not in content.UNORDERED and content.list_route(route.split(" ", 1)[1].replace("[^/]+", "x")) is None
    ]
    assert undeclared == []
    assert json.dumps(sorted(lists))  # the table above is not empty by accident
    assert len(lists) >= 12
