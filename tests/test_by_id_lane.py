"""The by-id read lane (app/edge/fastlane.py) answers exactly as FastAPI does.

A query string sends a by-id read through FastAPI (the lane takes none, and FastAPI ignores an
unknown query parameter), so the same read with and without `?via=fastapi` must give the same
status, headers and bytes: for found rows, missing ids, another platform's ids and malformed ids,
under both prefixes."""

from __future__ import annotations

import re
from typing import Any

import httpx

from app.edge.fastlane import ByIdLane
from app.main import API_ROUTERS, PREFIXES
from tests.conftest import Tenant, TenantFactory
from tests.upstream.helpers import create_flow, create_team_project

MISSING_ID = "aaaaaaaaaaaaaaaaaaaaa"
VIEWER_ROLE_NAME = "Viewer"
COLLECTIONS = ["projects", "flows", "folders", "platforms", "project-roles", "pieces"]


def answer_of(response: httpx.Response) -> tuple[int, dict[str, str], bytes]:
    headers = {k: v for k, v in response.headers.items() if k not in ("x-request-id", "date")}
    return response.status_code, headers, response.content


async def by_id_paths(tenant: Tenant, other: Tenant) -> list[str]:
    project = await create_team_project(tenant, "Lane")
    flow = await create_flow(tenant, "Lane flow", projectId=project["id"])
    folder = (await tenant.client.post("/v1/folders", json={"displayName": "Lane", "projectId": project["id"]})).json()
    roles = (await tenant.client.get("/v1/project-roles")).json()["data"]
    viewer = next(role for role in roles if role["name"] == VIEWER_ROLE_NAME)
    other_project = await create_team_project(other, "Theirs")
    other_flow = await create_flow(other, "Their flow", projectId=other_project["id"])
    ids = {
        "projects": [project["id"], other_project["id"]],
        "flows": [flow["id"], other_flow["id"]],
        "folders": [folder["id"]],
        "platforms": [tenant.platform_id, other.platform_id],
        "project-roles": [viewer["id"]],
        # `categories` is a static route of its own, which the lane must leave to FastAPI.
        "pieces": ["piece-webhook", "categories"],
    }
    paths = []
    for prefix in PREFIXES:
        for collection in COLLECTIONS:
            for id_ in [*ids[collection], MISSING_ID, "not-an-id!", "x" * 300]:
                paths.append(f"{prefix}/{collection}/{id_}")
    return paths


async def assert_lane_answers_as_fastapi(tenant: Tenant, other: Tenant) -> dict[int, int]:
    statuses: dict[int, int] = {}
    for path in await by_id_paths(tenant, other):
        lane = await tenant.client.get(path)
        fastapi = await tenant.client.get(path, params={"via": "fastapi"})
        assert answer_of(lane) == answer_of(fastapi), path
        statuses[lane.status_code] = statuses.get(lane.status_code, 0) + 1
    return statuses


async def test_the_lane_takes_the_by_id_read_of_each_collection_that_has_one() -> None:
    lane = ByIdLane(None, fastapi=None, prefixes=PREFIXES, routers=API_ROUTERS)  # type: ignore[arg-type]
    assert sorted(lane.routes) == sorted(f"{prefix}/{name}/" for prefix in PREFIXES for name in COLLECTIONS)
    # A static route one segment below a collection stays FastAPI's.
    assert "/v1/flows/count" in lane.static and "/api/v1/pieces/categories" in lane.static


async def test_the_lane_answers_byte_for_byte_as_fastapi(make_tenant: TenantFactory) -> None:
    tenant, other = await make_tenant(), await make_tenant()
    statuses = await assert_lane_answers_as_fastapi(tenant, other)
    # Found rows, missing and foreign ids, and malformed ones were all compared.
    assert {200, 404, 400} <= set(statuses), statuses


async def test_a_static_route_below_a_collection_is_not_read_as_an_id(tenant: Tenant) -> None:
    response = await tenant.client.get("/v1/flows/count")
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "VALIDATION"
    assert "projectId" in response.json()["params"]["message"]


async def test_a_lane_read_is_counted_under_its_route_template(tenant: Tenant, anonymous: httpx.AsyncClient) -> None:
    project = await create_team_project(tenant, "Counted")

    def count(text: str) -> float:
        pattern = r'openpieces_http_requests_total\{method="GET",route="/v1/projects/\{id\}",status="200"\} (\S+)'
        found = re.search(pattern, text)
        return float(found.group(1)) if found else 0.0

    before = count((await anonymous.get("/metrics")).text)
    for _ in range(3):
        assert (await tenant.client.get(f"/api/v1/projects/{project['id']}")).status_code == 200
    after = count((await anonymous.get("/metrics")).text)
    assert after - before == 3


async def test_a_lane_read_without_a_key_is_refused_before_the_lane(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get(f"/v1/projects/{MISSING_ID}")
    assert response.status_code == 401
    body: dict[str, Any] = response.json()
    assert body["code"] == "AUTHENTICATION"
