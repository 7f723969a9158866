"""The real Activepieces CLI against a live `openpieces serve` (tests/real_cli/README.md).

The CLI is not published on npm; it runs from its own source, copied in at test time and never
committed. Each test says how far the command gets against this server today, and with what answer:
what it reads of this API (flags, flows) must answer as the real server does; where it stops is a
route outside this API (pieces, folders, tables, app connections)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

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
    except cli.NodeMissing as exc:
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


def test_benchmark_waits_for_the_flags_then_stops_at_the_pieces_catalogue(server: LiveServer) -> None:
    done = cli.run(
        "benchmark",
        *("--url", server.base_url, "--api-key", CLI_KEY, "--project-id", server.project_id),
        *("--requests", "5", "--concurrency", "1", "--json"),
    )
    # The CLI waits for GET /api/v1/flags to answer 200 with no key at all (it would give up after
    # two minutes), then asks the server which versions of the webhook and data-mapper pieces it has:
    # this server keeps no piece catalogue.
    assert done.returncode == 2, done.stdout + done.stderr
    assert json.loads(done.stdout) == {
        "error": "Piece @activepieces/piece-webhook not available on server (is it synced?): HTTP 404"
    }
    expected = [("GET", "/api/v1/flags", 200), ("GET", "/api/v1/pieces/@activepieces/piece-webhook", 404)]
    requests = server.requests(*expected)
    assert all(entry in requests for entry in expected), requests


def test_project_replace_reads_the_version_and_flows_then_stops_at_folders(server: LiveServer) -> None:
    before = len(server.requests())
    done = cli.run(
        "replace",
        *("--source-url", server.base_url, "--source-token", CLI_KEY, "--source-project", server.project_id),
        *("--dest-url", server.base_url, "--dest-token", CLI_KEY, "--dest-project", server.project_id),
        "--json",
    )
    # It reads the source in one go: the flags (CURRENT_VERSION), every flow of the project (pages of
    # 100), and its folders, tables and app connections, which are outside this API: the first 404
    # ends the command as a transport failure, before anything is sent to the destination.
    assert done.returncode == 4, done.stdout + done.stderr
    assert json.loads(done.stdout) == {"error": "Request failed with status code 404", "code": "ERR_BAD_REQUEST"}
    expected = [("GET", "/api/v1/flags", 200), ("GET", "/api/v1/flows", 200), ("GET", "/api/v1/folders", 404)]
    requests = server.requests(*expected, timeout=10)[before:]
    assert all(entry in requests for entry in expected), requests
    assert not any(path.endswith("/replace") for _, path, _ in requests)
