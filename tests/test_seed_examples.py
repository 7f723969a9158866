"""Every curl example of the public API docs (the seeds, ../shared/spec/seeds/), sent as written with
its placeholders swapped for real values, works in the default (docs) mode. The bodies are copied
here verbatim so the suite does not need the seed files."""

from __future__ import annotations

import pytest

from tests.conftest import Tenant, personal_project_id

# The seeds' base URL is the cloud's: https://cloud.activepieces.com/api/v1
BASE = "/api/v1"
PLACEHOLDER = "<string>"


def swap(value: object, real: dict[str, object]) -> object:
    """The example with each `"<string>"` replaced: by `real[key]` for that key, else a plain string."""
    if isinstance(value, dict):
        return {
            k: (real[k] if k in real else swap(v, real)) if v == PLACEHOLDER or isinstance(v, list) else swap(v, real)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [swap(item, real) for item in value]
    return "Seed example" if value == PLACEHOLDER else value


async def test_projects_api_overview_list(tenant: Tenant) -> None:
    # projects-api-overview.txt: curl https://cloud.activepieces.com/api/v1/projects
    response = await tenant.client.get(f"{BASE}/projects")
    assert response.status_code == 200
    assert [p["type"] for p in response.json()["data"]] == ["PERSONAL"]


async def test_create_project(tenant: Tenant) -> None:
    # create-project.txt
    example = {"displayName": "<string>", "externalId": "<string>", "metadata": {}}
    response = await tenant.client.post(f"{BASE}/projects", json=swap(example, {"externalId": "seed-project"}))
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["displayName"], body["externalId"], body["metadata"]) == ("Seed example", "seed-project", {})


async def test_update_project(tenant: Tenant) -> None:
    # update-project.txt (POST /projects/{id})
    example = {
        "releasesEnabled": True,
        "displayName": "<string>",
        "externalId": "<string>",
        "metadata": {},
        "plan": {"pieces": ["<string>"]},
        "globalConnectionExternalIds": ["<string>"],
        "maxConcurrentJobs": 4503599627370495,
    }
    created = (await tenant.client.post(f"{BASE}/projects", json={"displayName": "Before"})).json()
    real = {"externalId": "seed-project", "pieces": ["@activepieces/piece-slack"], "globalConnectionExternalIds": []}
    response = await tenant.client.post(f"{BASE}/projects/{created['id']}", json=swap(example, real))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["displayName"] == "Seed example" and body["externalId"] == "seed-project"
    assert body["releasesEnabled"] is True and body["maxConcurrentJobs"] == 4503599627370495
    assert body["plan"]["pieces"] == ["@activepieces/piece-slack"]


async def test_get_flow(tenant: Tenant) -> None:
    # get-flow.txt: curl --request GET --url https://cloud.activepieces.com/api/v1/flows/{id}
    project_id = await personal_project_id(tenant)
    flow = (await tenant.client.post(f"{BASE}/flows", json={"displayName": "Seed", "projectId": project_id})).json()
    response = await tenant.client.get(f"{BASE}/flows/{flow['id']}")
    assert response.status_code == 200
    assert response.json()["id"] == flow["id"]


@pytest.mark.sends_invalid_requests(
    "the seed's own example omits type, scope and value.type, which the real upsert schema requires", accepted=True
)
async def test_create_global_connection(tenant: Tenant) -> None:
    # create-global-connection.txt: no `type`, `scope` or `value.type`; they are inferred.
    example = {
        "displayName": "<string>",
        "pieceName": "<string>",
        "value": {"secret_text": "<string>"},
        "projectIds": ["<string>"],
        "metadata": {},
        "pieceVersion": "<string>",
        "externalId": "<string>",
        "preSelectForNewProjects": True,
    }
    real = {
        "pieceName": "@activepieces/piece-slack",
        "projectIds": [await personal_project_id(tenant)],
        "pieceVersion": "0.5.0",
        "externalId": "seed-connection",
    }
    response = await tenant.client.post(f"{BASE}/global-connections", json=swap(example, real))
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["type"], body["scope"], body["externalId"]) == ("SECRET_TEXT", "PLATFORM", "seed-connection")
    assert "value" not in body and "Seed example" == body["displayName"]
