"""The real Activepieces CLI against a live `openpieces serve` (tests/real_cli/README.md).

The CLI is not published on npm; it runs from its own source, copied in at test time and never
committed. Each test says how far the command gets against this server today, and with what answer:
what it reads of this API (flags, pieces, flows, folders, app connections) must answer as the real
server does; where it stops is a route outside this API (webhooks, tables)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.npm_packages import NodeMissing
from tests.processes import running_server
from tests.real_cli import cli

pytestmark = pytest.mark.slow

CLI_KEY = "sk-real-cli-0123456789abcdefghijklmnopqrstuv"


@dataclass
class LiveServer:
    base_url: str
    project_id: str
    log: Path

    def requests(self, *expected: tuple[str, str, int], timeout: float = 10) -> list[tuple[str, str, int]]:
        """(method, path, status) of every request the server has logged, in order; waits (the access
        log is written in batches) until the `expected` entries are among them, or `timeout` passes."""
        deadline = time.monotonic() + timeout
        while True:
            seen = self._logged()
            if all(entry in seen for entry in expected) or time.monotonic() > deadline:
                return seen
            time.sleep(0.05)

    def _logged(self) -> list[tuple[str, str, int]]:
        seen = []
        for line in self.log.read_text().splitlines():
            if '"openpieces.access"' in line:
                entry = json.loads(line)
                seen.append((entry["method"], entry["path"], entry["status"]))
        return seen


@pytest.fixture(scope="module")
def toolchain() -> None:
    try:
        cli.install()
    except NodeMissing as exc:
        pytest.fail(str(exc))  # a machine without node must not pass quietly


@pytest.fixture(scope="module")
def real_cli(toolchain: None) -> None:
    try:
        cli.provide_source()
    except cli.SourceMissing as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def server(real_cli: None, database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("real-cli")
    env = {"AP_DATABASE_URL": database_url, "AP_DATA_DIR": str(data_dir), "AP_BOOTSTRAP_API_KEY": CLI_KEY}
    with running_server(env) as base_url:
        headers = {"Authorization": f"Bearer {CLI_KEY}"}
        page = httpx.get(f"{base_url}/v1/projects", headers=headers, params={"types": "PERSONAL"}).json()
        project_id = page["data"][0]["id"]
        flow = {"displayName": "CLI", "projectId": project_id}
        created = httpx.post(f"{base_url}/v1/flows", headers=headers, json=flow)
        assert created.status_code == 201, created.text
        [log] = data_dir.glob("server-*.log")
        yield LiveServer(base_url, project_id, log)


def test_node_runs_the_clis_toolchain(toolchain: None) -> None:
    version = cli.run("nothing")
    # Our entry refuses an unknown command: node, tsx and commander are all there.
    assert version.returncode == 64, version.stderr
    assert "usage: run.mts <benchmark|replace>" in version.stderr


def test_benchmark_sets_up_its_flow_then_finds_no_webhook_to_load(server: LiveServer) -> None:
    before = len(server.requests())
    done = cli.run(
        "benchmark",
        *("--url", server.base_url, "--api-key", CLI_KEY, "--project-id", server.project_id),
        *("--requests", "5", "--concurrency", "1", "--json"),
    )
    # The set-up half runs through: it waits for GET /api/v1/flags to answer 200 with no key at all,
    # asks the catalogue for the webhook and data-mapper pieces' versions, creates the flow, imports a
    # webhook -> data-mapper -> return-response version pinned `~<version>`, publishes it and polls the
    # flow until it is ENABLED. The load half posts to the flow's sync webhook, which this server (no
    # engine, no webhooks) does not have: every request fails, so the CLI exits 1 with its summary.
    assert done.returncode == 1, done.stdout + done.stderr
    summary = json.loads(done.stdout)
    flow_id = summary["flowId"]
    assert (summary["requests"], summary["ok2xx"], summary["non2xx"], summary["failed"]) == (5, 0, 5, 5)
    flow_path = f"/api/v1/flows/{flow_id}"
    webhook = ("POST", f"/api/v1/webhooks/{flow_id}/sync", 401)  # no key, like any route here but the flags
    requests = server.requests(webhook)[before:]
    setup = [entry for entry in requests if entry != webhook]
    assert sorted(setup[1:3]) == [
        ("GET", "/api/v1/pieces/@activepieces/piece-data-mapper", 200),
        ("GET", "/api/v1/pieces/@activepieces/piece-webhook", 200),
    ]
    assert setup[:1] + setup[3:] == [
        ("GET", "/api/v1/flags", 200),
        ("POST", "/api/v1/flows", 201),
        ("POST", flow_path, 200),  # IMPORT_FLOW
        ("POST", flow_path, 200),  # LOCK_AND_PUBLISH
        ("GET", flow_path, 200),  # ENABLED at the first poll
    ]
    assert requests.count(webhook) == 5

    flow = httpx.get(f"{server.base_url}/v1/flows/{flow_id}", headers={"Authorization": f"Bearer {CLI_KEY}"}).json()
    versions = {name: piece["version"] for name, piece in _catalogue(server, "webhook", "data-mapper").items()}
    trigger = flow["version"]["trigger"]
    mapper = trigger["nextAction"]
    response = mapper["nextAction"]
    assert (flow["status"], flow["version"]["state"], flow["version"]["valid"]) == ("ENABLED", "LOCKED", True)
    assert [
        (step["name"], step["valid"], step["settings"]["pieceName"], step["settings"]["pieceVersion"])
        for step in (trigger, mapper, response)
    ] == [
        ("trigger", True, "@activepieces/piece-webhook", versions["@activepieces/piece-webhook"]),
        ("step_1", True, "@activepieces/piece-data-mapper", versions["@activepieces/piece-data-mapper"]),
        ("step_2", True, "@activepieces/piece-webhook", versions["@activepieces/piece-webhook"]),
    ]


def _catalogue(server: LiveServer, *short_names: str) -> dict[str, dict[str, object]]:
    headers = {"Authorization": f"Bearer {CLI_KEY}"}
    names = [f"@activepieces/piece-{short}" for short in short_names]
    return {name: httpx.get(f"{server.base_url}/v1/pieces/{name}", headers=headers).json() for name in names}


def test_project_replace_reads_the_source_then_stops_at_tables(server: LiveServer) -> None:
    before = len(server.requests())
    done = cli.run(
        "replace",
        *("--source-url", server.base_url, "--source-token", CLI_KEY, "--source-project", server.project_id),
        *("--dest-url", server.base_url, "--dest-token", CLI_KEY, "--dest-project", server.project_id),
        "--json",
    )
    # It reads the source in one go, all at once: the flags (CURRENT_VERSION), and every flow, folder,
    # table and app connection of the project (pages of 100). Tables are not in this server: their 404
    # ends the command as a transport failure, before any table's fields are read and before anything
    # is sent to the destination.
    assert done.returncode == 4, done.stdout + done.stderr
    assert json.loads(done.stdout) == {"error": "Request failed with status code 404", "code": "ERR_BAD_REQUEST"}
    expected = [
        ("GET", "/api/v1/app-connections", 200),
        ("GET", "/api/v1/flags", 200),
        ("GET", "/api/v1/flows", 200),
        ("GET", "/api/v1/folders", 200),
        ("GET", "/api/v1/tables", 404),
    ]
    assert sorted(server.requests(*expected)[before:]) == expected
    tables = httpx.get(
        f"{server.base_url}/api/v1/tables",
        headers={"Authorization": f"Bearer {CLI_KEY}"},
        params={"projectId": server.project_id, "limit": 100},
    )
    assert (tables.status_code, tables.json()) == (
        404,
        {
            "statusCode": 404,
            "code": "ENTITY_NOT_FOUND",
            "params": {"entityType": "route", "entityId": None, "message": "Route GET:/api/v1/tables not found"},
        },
    )
