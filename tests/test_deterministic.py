"""Deterministic mode (AP_DETERMINISTIC_SEED): a scenario over every `/v1` route, run against two
fresh `openpieces serve` processes (each on its own new database, each with its own hash seed), gets
byte-identical answers, and again after a reset; another seed gives other ids; the admin clock (set,
advance, freeze, unfreeze) moves `created`, `updated` and `usage.nextLimitResetDate` as told; without
the mode the clock routes refuse, and `serve` refuses deterministic mode with several workers."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.kit.config import Settings
from app.main import create_app
from app.testing import openpieces_server, serving
from tests.conftest import TEST_ENCRYPTION_KEY
from tests.pg import fresh_database
from tests.processes import free_port, openpieces_command, run_cli

pytestmark = pytest.mark.slow

ADMIN_TOKEN = "deterministic-admin-token"
API_KEY = "sk-deterministic-golden-key-0001"
SEED = "20"
SLACK = "@activepieces/piece-slack"
ID = re.compile(r'"id":"([^"]*)"')
# The default project roles' timestamps, fixed by the migration that makes them.
ROLE_STAMPS = {"2024-01-01T00:00:00.000Z", "2024-01-01T00:00:01.000Z", "2024-01-01T00:00:02.000Z"}


def created_ids(transcript: str) -> set[str]:
    """The `id` of each 201 answer (what a request made)."""
    return {match for line in transcript.splitlines() if " 201 " in line for match in ID.findall(line)[:1]}


@contextmanager
def deterministic_server(tmp_path: Path, name: str, port: int) -> Iterator[str]:
    """A fresh `openpieces serve` in deterministic mode on a new, empty database. On a given port:
    the server's own URL is in some answers (flags, invitation links)."""
    with fresh_database() as database_url:
        environment = {
            "AP_DATABASE_URL": database_url,
            "AP_DATA_DIR": str(tmp_path / name),
            "AP_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
            "AP_ADMIN_TOKEN": ADMIN_TOKEN,
            "AP_BOOTSTRAP_API_KEY": API_KEY,
            "AP_DETERMINISTIC_SEED": SEED,
            "AP_LOG_REQUESTS": "false",
        }
        base_url = f"http://127.0.0.1:{port}"
        with serving(
            [*openpieces_command(), "serve", "--port", str(port)],
            env={**os.environ, **environment},
            ready_url=f"{base_url}/v1/health",
            log_path=tmp_path / f"{name}.log",
        ):
            yield base_url


def api_client(base_url: str) -> httpx.Client:
    return httpx.Client(base_url=f"{base_url}/api", headers={"Authorization": f"Bearer {API_KEY}"}, timeout=30)


def admin_client(base_url: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30)


class Transcript:
    """Every request and its answer, byte for byte (status and body; headers carry request ids)."""

    def __init__(self, api: httpx.Client, admin: httpx.Client) -> None:
        self.api, self.admin = api, admin
        self.lines: list[str] = []

    def call(self, method: str, path: str, *, expect: int = 200, **kwargs: Any) -> Any:
        client = self.admin if path.startswith("/admin/") else self.api
        response = client.request(method, path, **kwargs)
        assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        self.lines.append(f"{method} {path} {response.status_code} {response.text}")
        return response.json() if response.content else None

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def scenario(base_url: str) -> str:
    """Every /v1 route at least once (flow operations included), in one fixed order."""
    with api_client(base_url) as api, admin_client(base_url) as admin:
        run = Transcript(api, admin)
        call = run.call
        call("GET", "/v1/health")
        call("GET", "/v1/flags")
        projects = call("GET", "/v1/projects")
        personal = projects["data"][0]["id"]
        platform_id = projects["data"][0]["platformId"]
        call("GET", f"/v1/platforms/{platform_id}")
        team = call("POST", "/v1/projects", expect=201, json={"displayName": "Acme", "externalId": "acme"})["id"]
        call("POST", f"/v1/projects/{team}", json={"displayName": "Acme Corp", "plan": {"piecesFilterType": "NONE"}})
        call("GET", f"/v1/projects/{team}")
        other = call("POST", "/v1/projects", expect=201, json={"displayName": "Other"})["id"]
        call("GET", "/v1/projects", params={"limit": 1})
        cursor = call("GET", "/v1/projects", params={"limit": 1})["next"]
        call("GET", "/v1/projects", params={"limit": 1, "cursor": cursor})

        folder = call("POST", "/v1/folders", json={"displayName": "Ops", "projectId": team})["id"]
        call("POST", f"/v1/folders/{folder}", json={"displayName": "Operations"})
        call("GET", f"/v1/folders/{folder}")
        call("GET", "/v1/folders", params={"projectId": team})
        doomed_folder = call("POST", "/v1/folders", json={"displayName": "Temp", "projectId": team})["id"]
        call("DELETE", f"/v1/folders/{doomed_folder}")

        flow = call("POST", "/v1/flows", expect=201, json={"displayName": "Hourly", "projectId": team})["id"]
        trigger = {
            "name": "trigger",
            "type": "PIECE_TRIGGER",
            "valid": True,
            "displayName": "Every hour",
            "settings": {
                "pieceName": "@activepieces/piece-schedule",
                "pieceVersion": "0.1.5",
                "triggerName": "every_x_minutes",
                "input": {"minutes": 60},
                "propertySettings": {},
            },
        }
        call("POST", f"/v1/flows/{flow}", json={"type": "UPDATE_TRIGGER", "request": trigger})
        action = {
            "name": "step_1",
            "type": "CODE",
            "valid": True,
            "displayName": "Code",
            "settings": {"input": {}, "sourceCode": {"code": "export const code = async () => 1", "packageJson": "{}"}},
        }
        call(
            "POST",
            f"/v1/flows/{flow}",
            json={"type": "ADD_ACTION", "request": {"parentStep": "trigger", "action": action}},
        )
        call("POST", f"/v1/flows/{flow}", json={"type": "DUPLICATE_ACTION", "request": {"stepName": "step_1"}})
        call("POST", f"/v1/flows/{flow}", json={"type": "CHANGE_NAME", "request": {"displayName": "Hourly ping"}})
        call("POST", f"/v1/flows/{flow}", json={"type": "CHANGE_FOLDER", "request": {"folderId": folder}})
        call("POST", f"/v1/flows/{flow}", json={"type": "LOCK_AND_PUBLISH", "request": {}})
        call("POST", f"/v1/flows/{flow}", json={"type": "CHANGE_STATUS", "request": {"status": "DISABLED"}})
        call("GET", f"/v1/flows/{flow}")
        call("GET", f"/v1/flows/{flow}/versions")
        template = call("GET", f"/v1/flows/{flow}/template")
        call("GET", "/v1/flows", params={"projectId": team})
        call("GET", "/v1/flows/count", params={"projectId": team})
        doomed_flow = call("POST", "/v1/flows", expect=201, json={"displayName": "Temp", "projectId": team})["id"]
        imported = {
            "type": "IMPORT_FLOW",
            "request": {"displayName": "Copy", "trigger": template["flows"][0]["trigger"]},
        }
        call("POST", f"/v1/flows/{doomed_flow}", json=imported)
        call("DELETE", f"/v1/flows/{doomed_flow}", expect=204)

        secret = {"type": "SECRET_TEXT", "secret_text": "xoxb-1"}
        shared = {"displayName": "Slack bot", "pieceName": SLACK, "type": "SECRET_TEXT", "value": secret}
        glob = call(
            "POST",
            "/v1/global-connections",
            expect=201,
            json={**shared, "scope": "PLATFORM", "projectIds": [team, other]},
        )
        call(
            "POST",
            f"/v1/global-connections/{glob['id']}",
            json={"displayName": "Slack (all)", "projectIds": [other, team]},
        )
        call("GET", "/v1/global-connections")
        doomed_glob = call(
            "POST", "/v1/global-connections", expect=201, json={**shared, "scope": "PLATFORM", "projectIds": []}
        )
        call("DELETE", f"/v1/global-connections/{doomed_glob['id']}", expect=204)

        own = {**shared, "projectId": team, "externalId": "slack-own"}
        first = call("POST", "/v1/app-connections", expect=201, json=own)
        second = call("POST", "/v1/app-connections", expect=201, json={**own, "externalId": "slack-two"})
        call("POST", f"/v1/app-connections/{first['id']}", json={"displayName": "Slack (team)"})
        call("GET", "/v1/app-connections", params={"projectId": team})
        call("GET", "/v1/app-connections/owners", params={"projectId": team})
        replace = {"sourceAppConnectionId": second["id"], "targetAppConnectionId": first["id"], "projectId": team}
        call("POST", "/v1/app-connections/replace", expect=204, json=replace)
        call("DELETE", f"/v1/app-connections/{first['id']}", expect=204)

        call("GET", "/v1/pieces")
        call("GET", "/v1/pieces/categories")
        call("GET", "/v1/pieces/registry", params={"release": "0.96.2", "edition": "ee"})
        call("GET", f"/v1/pieces/{SLACK}")
        call("GET", "/v1/pieces/@activepieces/piece-slack")
        body = {"packageType": "REGISTRY", "scope": "PLATFORM", "pieceName": SLACK, "pieceVersion": "0.17.9"}
        call("POST", "/v1/pieces", expect=201, json=body)
        call("POST", "/v1/tags/pieces", expect=201, json={"piecesName": [SLACK], "tags": ["Chat"]})
        call("GET", "/v1/pieces", params={"includeTags": "true"})

        role = call(
            "POST",
            "/v1/project-roles",
            expect=201,
            json={"name": "Deployer", "permissions": ["READ_FLOW"], "type": "CUSTOM"},
        )
        call("POST", f"/v1/project-roles/{role['id']}", json={"permissions": ["READ_FLOW", "WRITE_FLOW"]})
        call("GET", f"/v1/project-roles/{role['id']}")
        call("GET", "/v1/project-roles")

        invited = {"type": "PROJECT", "email": "ada@example.com", "projectId": team, "projectRole": "Deployer"}
        invitation = call("POST", "/v1/user-invitations", expect=201, json=invited)
        call(
            "POST",
            "/v1/user-invitations",
            expect=201,
            json={"type": "PLATFORM", "email": "bob@example.com", "platformRole": "MEMBER"},
        )
        call("GET", "/v1/user-invitations", params={"type": "PROJECT"})
        token = invitation["link"].split("token=")[1].split("&")[0]
        accepted = call("POST", "/admin/invitations/accept", json={"token": token, "firstName": "Ada"})
        ada = accepted["user"]["id"]
        doomed_invitation = call(
            "POST", "/v1/user-invitations", expect=201, json={**invited, "email": "eve@example.com"}
        )
        call("DELETE", f"/v1/user-invitations/{doomed_invitation['id']}", expect=204)

        members = call("GET", "/v1/project-members", params={"projectId": team})
        member = members["data"][0]["id"]
        call("POST", f"/v1/project-members/{member}", json={"role": "Editor"})
        call("GET", f"/v1/project-roles/{role['id']}/project-members")
        call("DELETE", f"/v1/project-members/{member}", expect=204)
        call("DELETE", "/v1/project-roles/Deployer")

        call("GET", "/v1/users")
        call("POST", f"/v1/users/{ada}", json={"platformRole": "OPERATOR", "externalId": "ada-1"})
        call("DELETE", f"/v1/users/{ada}", expect=204)
        call("DELETE", f"/v1/projects/{other}", expect=204)
        call("GET", "/v1/projects")
        assert personal  # the bootstrap platform's own project is listed
        return run.text()


def check_clock_controls(base_url: str) -> None:
    """set, advance, freeze and unfreeze, seen in a project's `created`, `updated` and `nextLimitResetDate`."""
    with admin_client(base_url) as admin, api_client(base_url) as api:
        assert admin.get("/admin/clock").json()["mode"] == "stepping"
        frozen = admin.put("/admin/clock", json={"now": "2030-05-31T23:00:00Z", "frozen": True})
        assert frozen.status_code == 200
        assert frozen.json() == {
            "deterministic": True,
            "seed": int(SEED),
            "mode": "frozen",
            "now": "2030-05-31T23:00:00.000Z",
            "start": "2026-01-01T00:00:00.000Z",
        }
        first = api.post("/v1/projects", json={"displayName": "Frozen 1"}).json()
        second = api.post("/v1/projects", json={"displayName": "Frozen 2"}).json()
        for project in (first, second):
            assert (project["created"], project["updated"]) == ("2030-05-31T23:00:00.000Z", "2030-05-31T23:00:00.000Z")
            assert project["usage"]["nextLimitResetDate"] == "2030-06-01T00:00:00.000Z"

        advanced = admin.post("/admin/clock/advance", json={"hours": 1, "minutes": 30})
        assert advanced.status_code == 200 and advanced.json()["now"] == "2030-06-01T00:30:00.000Z"
        renamed = api.post(f"/v1/projects/{first['id']}", json={"displayName": "Renamed"}).json()
        assert (renamed["created"], renamed["updated"]) == ("2030-05-31T23:00:00.000Z", "2030-06-01T00:30:00.000Z")
        assert renamed["usage"]["nextLimitResetDate"] == "2030-07-01T00:00:00.000Z"
        assert (
            api.get(f"/v1/projects/{second['id']}").json()["usage"]["nextLimitResetDate"] == "2030-07-01T00:00:00.000Z"
        )

        assert admin.post("/admin/clock/unfreeze").json()["mode"] == "stepping"
        stepped = [api.post("/v1/projects", json={"displayName": f"Step {i}"}).json()["created"] for i in range(2)]
        assert stepped == ["2030-06-01T00:30:00.000Z", "2030-06-01T00:30:00.001Z"]
        # A list orders them by those timestamps: no tie left to the ids.
        listed = api.get("/v1/projects", params={"limit": 100}).json()["data"]
        steps = [p["created"] for p in listed if p["displayName"].startswith("Step")]
        assert sorted(steps) == stepped

        frozen_again = admin.post("/admin/clock/freeze").json()
        assert frozen_again["mode"] == "frozen" and frozen_again["now"] == "2030-06-01T00:30:00.002Z"
        assert api.post("/v1/projects", json={"displayName": "F"}).json()["created"] == "2030-06-01T00:30:00.002Z"

        refused = admin.post("/admin/clock/advance", json={})
        assert refused.status_code == 400 and refused.json()["code"] == "VALIDATION"
        assert admin.put("/admin/clock", json={"now": "not a time"}).status_code == 400


def test_two_fresh_servers_answer_byte_for_byte_the_same(tmp_path: Path) -> None:
    port = free_port()
    with deterministic_server(tmp_path, "first", port) as base_url:
        golden = scenario(base_url)
        check_clock_controls(base_url)
        # A reset is a fresh server: the same answers again, ids and timestamps too.
        with admin_client(base_url) as admin:
            assert admin.post("/admin/reset").status_code == 200
        after_reset = scenario(base_url)
        # Another seed: other ids (the same shapes and timestamps).
        with admin_client(base_url) as admin:
            reseeded = admin.post("/admin/deterministic", json={"seed": 21})
            assert reseeded.status_code == 200 and reseeded.json()["seed"] == 21
            assert admin.post("/admin/reset").status_code == 200
        other_seed = scenario(base_url)
        # Started again over its own rows, the generator makes the ids they have: a clear 409, never
        # a 500, and nothing written (the reset made the bootstrap platform with seed 21's first id).
        with admin_client(base_url) as admin:
            before = admin.get("/admin/platforms").json()
            assert admin.post("/admin/deterministic", json={"seed": 21}).status_code == 200
            taken = admin.post("/admin/platforms", json={"name": "Again", "edition": "ENTERPRISE"})
            assert taken.status_code == 409, taken.text
            assert taken.json()["code"] == "DETERMINISTIC_ID_TAKEN"
            assert admin.get("/admin/platforms").json() == before
    (tmp_path / "golden.txt").write_text(golden)
    with deterministic_server(tmp_path, "second", port) as base_url:
        second = scenario(base_url)

    assert second == golden
    assert after_reset == golden
    # The ids of what the scenario made: 21 characters of the real alphabet, others with another seed.
    made = created_ids(golden)
    assert len(made) >= 10 and all(re.fullmatch(r"[0-9a-zA-Z]{21}", made_id) for made_id in made)
    assert not made & created_ids(other_seed)
    assert len(other_seed.splitlines()) == len(golden.splitlines())
    # Every timestamp is the deterministic clock's: from 2026-01-01T00:00:00.000Z, a millisecond a step.
    # (The shipped piece catalogue has its own dates.)
    ours = "\n".join(line for line in golden.splitlines() if " /v1/pieces" not in line)
    stamps = set(re.findall(r'"(?:created|updated)":"([^"]*)"', ours))
    assert stamps and all(re.fullmatch(r"2026-01-01T00:00:0\d\.\d{3}Z", stamp) for stamp in stamps - ROLE_STAMPS)


def test_serve_refuses_deterministic_mode_with_several_workers(tmp_path: Path) -> None:
    env = {"AP_DATA_DIR": str(tmp_path), "AP_DETERMINISTIC_SEED": "1"}
    refused = run_cli("serve", "--workers", "2", env=env)
    assert refused.returncode == 2
    assert "deterministic mode (AP_DETERMINISTIC_SEED) runs one process" in refused.stderr
    no_seed = run_cli("serve", "--clock", "2030-01-01T00:00:00Z", env={"AP_DATA_DIR": str(tmp_path)})
    assert no_seed.returncode == 2
    assert "AP_CLOCK and AP_CLOCK_FROZEN need deterministic mode" in no_seed.stderr
    bad = run_cli("serve", "--deterministic-seed", "1", "--clock", "yesterday", env={"AP_DATA_DIR": str(tmp_path)})
    assert bad.returncode == 2 and "error: AP_CLOCK must be an ISO 8601 instant" in bad.stderr


async def test_without_deterministic_mode_the_clock_is_the_systems(database_url: str) -> None:
    application = create_app(
        Settings(
            database_url=database_url, run_migrations=False, encryption_key=TEST_ENCRYPTION_KEY, admin_token=ADMIN_TOKEN
        )
    )
    async with application.router.lifespan_context(application):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=application),
            base_url="http://testserver",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        ) as admin:
            paths = (await admin.get("/openapi.json")).json()["paths"]
            for path, method in (
                ("/admin/deterministic", "post"),
                ("/admin/clock", "get"),
                ("/admin/clock", "put"),
                ("/admin/clock/advance", "post"),
                ("/admin/clock/freeze", "post"),
                ("/admin/clock/unfreeze", "post"),
            ):
                documented = paths[path][method]["responses"]["200"]["content"]["application/json; charset=utf-8"][
                    "schema"
                ]
                assert documented == {"$ref": "#/components/schemas/ClockAnswer"}, path
            state = (await admin.get("/admin/clock")).json()
            assert state["deterministic"] is False and state["mode"] == "system" and state["seed"] is None
            off = {
                "statusCode": 409,
                "code": "DETERMINISTIC_MODE_OFF",
                "params": {
                    "message": "Deterministic mode is off: start the server with AP_DETERMINISTIC_SEED=<n> "
                    "to use its clock"
                },
            }
            for method, path, body in (
                ("PUT", "/admin/clock", {"now": "2030-01-01T00:00:00Z"}),
                ("POST", "/admin/clock/advance", {"hours": 1}),
                ("POST", "/admin/clock/freeze", None),
                ("POST", "/admin/clock/unfreeze", None),
                ("POST", "/admin/deterministic", {"seed": 1}),
            ):
                response = await admin.request(method, path, json=body)
                assert (response.status_code, response.json()) == (409, off), path


def test_the_pytest_fixture_runs_deterministic_mode_on_a_chosen_port() -> None:
    port = free_port()
    with (
        fresh_database() as database_url,
        openpieces_server(deterministic_seed=5, port=port, database_url=database_url) as server,
    ):
        assert server.base_url == f"http://127.0.0.1:{port}"
        with server.admin() as admin:
            assert admin.get("/admin/clock").json()["seed"] == 5
        server.reset()
        with httpx.Client(base_url=server.api_url, headers={"Authorization": f"Bearer {server.api_key}"}) as api:
            created = api.post("/projects", json={"displayName": "Fixed"}).json()
        assert re.fullmatch(r"2026-01-01T00:00:00\.0\d\dZ", created["created"])
