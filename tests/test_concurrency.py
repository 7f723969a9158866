"""Limits and uniqueness under parallel requests, against a real uvicorn with two workers: they hold
through database constraints and row locks, not checks in Python."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack

import httpx
import pytest

from tests.pgbouncer import pooled_env
from tests.processes import run_cli, running_server

pytestmark = pytest.mark.slow

PARALLEL = 50


@pytest.fixture(scope="module", params=["direct", "pgbouncer"])
def server(
    request: pytest.FixtureRequest, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, dict[str, str]]]:
    """The same checks straight on PostgreSQL and through PgBouncer in transaction mode."""
    env = {"AP_DATABASE_URL": database_url, "AP_DATA_DIR": str(tmp_path_factory.mktemp("concurrency"))}
    with ExitStack() as stack:
        if request.param == "pgbouncer":
            env |= stack.enter_context(pooled_env(database_url))
        with running_server(env, workers=2) as base_url:
            yield base_url, env


def new_platform(env: dict[str, str], edition: str) -> str:
    created = run_cli("create-platform", "--name", f"Race {edition}", "--edition", edition, "--json", env=env)
    assert created.returncode == 0, created.stderr
    return str(json.loads(created.stdout)["apiKey"])


async def parallel(base_url: str, api_key: str, requests: list[tuple[str, str, dict]]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=PARALLEL)
    headers = {"Authorization": f"Bearer {api_key}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits, timeout=60) as client:
        return list(await asyncio.gather(*(client.request(m, path, json=body) for m, path, body in requests)))


def team_projects(base_url: str, api_key: str) -> list[dict]:
    response = httpx.get(
        f"{base_url}/v1/projects",
        params={"types": "TEAM", "limit": 100},
        headers={"Authorization": f"Bearer {api_key}"},
    )
    assert response.status_code == 200
    return list(response.json()["data"])


def test_fifty_parallel_creates_on_pro_make_exactly_one_team_project(server: tuple[str, dict[str, str]]) -> None:
    base_url, env = server
    api_key = new_platform(env, "PRO")
    responses = asyncio.run(
        parallel(base_url, api_key, [("POST", "/v1/projects", {"displayName": f"Team {i}"}) for i in range(PARALLEL)])
    )
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 400: PARALLEL - 1}, statuses
    refusals = {json.dumps(r.json(), sort_keys=True) for r in responses if r.status_code == 400}
    assert [json.loads(body) for body in refusals] == [
        {
            "statusCode": 400,
            "code": "FEATURE_DISABLED",
            "params": {
                "message": "Maximum limit of 1 team project reached for this plan. Upgrade your plan to add more team projects."  # noqa: E501
            },
        }
    ]
    assert len(team_projects(base_url, api_key)) == 1


def test_fifty_parallel_creates_with_one_external_id_make_one_row(server: tuple[str, dict[str, str]]) -> None:
    base_url, env = server
    api_key = new_platform(env, "ENTERPRISE")
    body = {"displayName": "Same", "externalId": "one-and-only"}
    responses = asyncio.run(parallel(base_url, api_key, [("POST", "/v1/projects", body)] * PARALLEL))
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 409: PARALLEL - 1}, statuses
    for response in responses:
        if response.status_code == 409:
            assert response.json() == {
                "statusCode": 409,
                "code": "PROJECT_EXTERNAL_ID_ALREADY_EXISTS",
                "params": {"externalId": "one-and-only"},
            }
    assert [p["externalId"] for p in team_projects(base_url, api_key)] == ["one-and-only"]


def test_fifty_parallel_operations_on_one_flow_are_all_kept(server: tuple[str, dict[str, str]]) -> None:
    base_url, env = server
    api_key = new_platform(env, "ENTERPRISE")
    headers = {"Authorization": f"Bearer {api_key}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        project_id = client.get("/v1/projects", params={"types": "PERSONAL"}).json()["data"][0]["id"]
        flow = client.post("/v1/flows", json={"displayName": "Raced", "projectId": project_id}).json()
    add = [
        (
            "POST",
            f"/v1/flows/{flow['id']}",
            {
                "type": "ADD_ACTION",
                "request": {
                    "parentStep": "trigger",
                    "action": {
                        "name": f"step_{i}",
                        "displayName": f"Step {i}",
                        "type": "CODE",
                        "valid": True,
                        "lastUpdatedDate": "2024-01-10T10:00:00.000Z",
                        "settings": {"sourceCode": {"code": "x", "packageJson": "{}"}, "input": {}},
                    },
                },
            },
        )
        for i in range(1, PARALLEL + 1)
    ]
    responses = asyncio.run(parallel(base_url, api_key, add))
    assert Counter(r.status_code for r in responses) == {200: PARALLEL}
    final = httpx.get(f"{base_url}/v1/flows/{flow['id']}", headers=headers).json()
    names = []
    step = final["version"]["trigger"].get("nextAction")
    while step:
        names.append(step["name"])
        step = step.get("nextAction")
    assert sorted(names) == sorted(f"step_{i}" for i in range(1, PARALLEL + 1))


def test_parallel_upserts_of_one_connection_make_one_row(server: tuple[str, dict[str, str]]) -> None:
    base_url, env = server
    api_key = new_platform(env, "ENTERPRISE")
    headers = {"Authorization": f"Bearer {api_key}"}
    project_id = httpx.get(f"{base_url}/v1/projects", headers=headers).json()["data"][0]["id"]
    body = {
        "displayName": "Shared",
        "pieceName": "@activepieces/piece-slack",
        "type": "SECRET_TEXT",
        "value": {"type": "SECRET_TEXT", "secret_text": "s3cret"},
        "scope": "PLATFORM",
        "projectIds": [project_id],
        "externalId": "shared-slack",
    }
    responses = asyncio.run(parallel(base_url, api_key, [("POST", "/v1/global-connections", body)] * PARALLEL))
    assert Counter(r.status_code for r in responses) == {201: PARALLEL}
    assert len({r.json()["id"] for r in responses}) == 1
    listed = httpx.get(f"{base_url}/v1/global-connections", headers=headers).json()
    assert [c["externalId"] for c in listed["data"]] == ["shared-slack"]
