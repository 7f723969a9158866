"""Behind PgBouncer in transaction mode (AP_DATABASE_POOLER=transaction): the CLI migrates and
provisions, and a server answers every route, with no prepared statement or session state outliving
a transaction. The concurrency checks run through PgBouncer too (tests/test_concurrency.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_ENCRYPTION_KEY
from tests.pg import fresh_database
from tests.pgbouncer import pooled_env
from tests.processes import run_cli, running_server
from tests.test_flows import schedule_trigger

pytestmark = pytest.mark.slow

ADMIN_TOKEN = "pgbouncer-admin-token"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A new, empty database (the CLI migrates it) behind its own PgBouncer."""
    with fresh_database() as direct_url, pooled_env(direct_url) as pooled:
        yield {
            **pooled,
            "AP_DATA_DIR": str(tmp_path_factory.mktemp("pgbouncer")),
            "AP_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
            "AP_ADMIN_TOKEN": ADMIN_TOKEN,
        }


def create_platform(env: dict[str, str], edition: str) -> dict[str, str]:
    created = run_cli("create-platform", "--name", f"Pooled {edition}", "--edition", edition, "--json", env=env)
    assert created.returncode == 0, created.stderr
    return dict(json.loads(created.stdout))


def test_the_cli_migrates_and_provisions_through_pgbouncer(env: dict[str, str]) -> None:
    migrated = run_cli("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout.strip() == "database is up to date"
    # Without a direct URL everything, migrations included, goes through the pooler.
    through_pooler = {**env, "AP_DATABASE_DIRECT_URL": ""}
    assert run_cli("migrate", env=through_pooler).returncode == 0
    first, second = create_platform(env, "PRO"), create_platform(through_pooler, "ENTERPRISE")
    assert first["platformId"] != second["platformId"]
    key = run_cli("create-api-key", "--platform-id", first["platformId"], "--json", env=env)
    assert key.returncode == 0, key.stderr


def test_every_route_through_pgbouncer(env: dict[str, str], tmp_path: Path) -> None:
    platform = create_platform(env, "ENTERPRISE")
    with running_server(env, workers=2) as base_url:
        api = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {platform['apiKey']}"}, timeout=30)
        admin = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30)
        with api, admin:
            walk_every_route(api, admin)


def walk_every_route(api: httpx.Client, admin: httpx.Client) -> None:
    # Several rounds: each statement meets server connections others have used before it.
    for round_ in range(3):
        assert api.get("/v1/health").status_code == 200
        personal = api.get("/v1/projects", params={"types": "PERSONAL"}).json()["data"][0]
        created = api.post("/v1/projects", json={"displayName": f"Team {round_}", "externalId": f"team-{round_}"})
        assert created.status_code == 201, created.text
        project_id = created.json()["id"]
        assert api.get(f"/v1/projects/{project_id}").json()["displayName"] == f"Team {round_}"
        assert api.get(f"/api/v1/projects/{project_id}").status_code == 200
        updated = api.post(f"/v1/projects/{project_id}", json={"displayName": f"Renamed {round_}"})
        assert updated.status_code == 200, updated.text
        assert updated.json()["displayName"] == f"Renamed {round_}"
        page = api.get("/v1/projects", params={"limit": 1}).json()
        assert len(page["data"]) == 1 and page["next"] is not None
        assert api.get("/v1/projects", params={"limit": 1, "cursor": page["next"]}).status_code == 200

        flow = api.post("/v1/flows", json={"displayName": "Pooled flow", "projectId": project_id})
        assert flow.status_code == 201, flow.text
        flow_id = flow.json()["id"]
        operations = [
            {"type": "CHANGE_NAME", "request": {"displayName": "Renamed flow"}},
            {"type": "UPDATE_TRIGGER", "request": schedule_trigger()},
            {
                "type": "ADD_ACTION",
                "request": {
                    "parentStep": "trigger",
                    "action": {
                        "name": "step_1",
                        "displayName": "Code",
                        "type": "CODE",
                        "valid": True,
                        "lastUpdatedDate": "2024-01-10T10:00:00.000Z",
                        "settings": {"sourceCode": {"code": "x", "packageJson": "{}"}, "input": {}},
                    },
                },
            },
            {
                "type": "UPDATE_ACTION",
                "request": {
                    "name": "step_1",
                    "displayName": "Code, renamed",
                    "type": "CODE",
                    "valid": True,
                    "lastUpdatedDate": "2024-01-10T10:00:00.000Z",
                    "settings": {"sourceCode": {"code": "y", "packageJson": "{}"}, "input": {}},
                },
            },
            {"type": "LOCK_AND_PUBLISH", "request": {}},
            {"type": "CHANGE_STATUS", "request": {"status": "ENABLED"}},
        ]
        for operation in operations:
            applied = api.post(f"/v1/flows/{flow_id}", json=operation)
            assert applied.status_code == 200, (operation["type"], applied.text)
        got = api.get(f"/v1/flows/{flow_id}").json()
        assert got["version"]["displayName"] == "Renamed flow"
        assert got["status"] == "ENABLED"
        assert got["version"]["trigger"]["nextAction"]["displayName"] == "Code, renamed"
        listed = api.get("/v1/flows", params={"projectId": project_id}).json()
        assert [f["id"] for f in listed["data"]] == [flow_id]
        assert api.get("/v1/flows/count", params={"projectId": project_id}).json() == 1
        assert api.get(f"/v1/flows/{flow_id}/template").status_code == 200

        connection = {
            "displayName": "Slack",
            "pieceName": "@activepieces/piece-slack",
            "type": "SECRET_TEXT",
            "value": {"type": "SECRET_TEXT", "secret_text": "s3cret"},
            "scope": "PLATFORM",
            "projectIds": [project_id, personal["id"]],
            "externalId": f"slack-{round_}",
        }
        upserted = api.post("/v1/global-connections", json=connection)
        assert upserted.status_code == 201, upserted.text
        connection_id = upserted.json()["id"]
        renamed = api.post(f"/v1/global-connections/{connection_id}", json={"displayName": "Slack 2"})
        assert renamed.status_code == 200, renamed.text
        connections = api.get("/v1/global-connections").json()["data"]
        assert [c["displayName"] for c in connections if c["id"] == connection_id] == ["Slack 2"]

        assert api.delete(f"/v1/flows/{flow_id}").status_code == 204
        assert api.get(f"/v1/flows/{flow_id}").status_code == 404
        assert api.delete(f"/v1/global-connections/{connection_id}").status_code == 204
        assert api.delete(f"/v1/projects/{project_id}").status_code == 204
        assert api.get(f"/v1/projects/{project_id}").status_code == 404

    # The admin API: faults, the request log, platforms, and a reset.
    fault = admin.post("/admin/faults", json={"path_pattern": "/v1/projects", "method": "GET", "status": 503})
    assert fault.status_code == 201, fault.text
    assert api.get("/v1/projects").status_code == 503
    assert api.get("/v1/projects").status_code == 200
    assert admin.get("/admin/requests", params={"limit": 2}).json()[-1]["status"] == 200
    made = admin.post("/admin/platforms", json={"name": "Pooled admin"}).json()
    assert admin.post(f"/admin/platforms/{made['platformId']}/api-keys").status_code == 201
    assert admin.delete(f"/admin/platforms/{made['platformId']}").status_code == 204
    assert admin.post("/admin/reset").status_code == 200
    assert api.get("/v1/projects").status_code == 401
