"""The real thing: the `openpieces` command, a uvicorn process over TCP, and the embedded default."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import httpx
import pytest

from tests.processes import run_cli, running_server

pytestmark = pytest.mark.slow

BOOTSTRAP_KEY = "sk-smoke-test-key-0123456789abcdefghijklmnop"


def test_cli_creates_platforms_and_keys(database_url: str, tmp_path: Path) -> None:
    env = {"AP_DATABASE_URL": database_url, "AP_DATA_DIR": str(tmp_path)}
    created = run_cli("create-platform", "--name", "Acme", "--edition", "PRO", "--json", env=env)
    assert created.returncode == 0, created.stderr
    body = json.loads(created.stdout)  # exactly one JSON object on stdout
    assert set(body) == {"platformId", "ownerId", "apiKey"}
    assert body["apiKey"].startswith("sk-")

    key = run_cli("create-api-key", "--platform-id", body["platformId"], "--json", env=env)
    assert key.returncode == 0, key.stderr
    second = json.loads(key.stdout)
    assert second["platformId"] == body["platformId"] and second["apiKey"] != body["apiKey"]

    missing = run_cli("create-api-key", "--platform-id", "z" * 21, env=env)
    assert missing.returncode == 1
    # stderr: the database line, then the error as one JSON object.
    said, error = missing.stderr.splitlines()
    assert said.startswith("database: postgresql+asyncpg://")
    assert json.loads(error)["code"] == "ENTITY_NOT_FOUND"

    bad_edition = run_cli("create-platform", "--name", "X", "--edition", "GOLD", env=env)
    assert bad_edition.returncode == 2

    with running_server(env) as base_url:
        for api_key in (body["apiKey"], second["apiKey"]):
            listed = httpx.get(f"{base_url}/v1/projects", headers={"Authorization": f"Bearer {api_key}"})
            assert listed.status_code == 200
            [personal] = listed.json()["data"]
            assert (personal["type"], personal["ownerId"]) == ("PERSONAL", body["ownerId"])


def test_uvicorn_with_two_workers_serves_the_api(database_url: str, tmp_path: Path) -> None:
    env = {"AP_DATABASE_URL": database_url, "AP_DATA_DIR": str(tmp_path), "AP_BOOTSTRAP_API_KEY": BOOTSTRAP_KEY}
    with running_server(env, workers=2) as base_url:
        with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {BOOTSTRAP_KEY}"}) as client:
            created = client.post("/api/v1/projects", json={"displayName": "Over TCP", "externalId": "tcp-1"})
            assert created.status_code == 201, created.text
            project = created.json()
            assert created.headers["x-request-id"]
            for _ in range(6):  # several requests, so both workers answer some
                got = client.get(f"/v1/projects/{project['id']}")
                assert got.status_code == 200 and got.json() == project
            updated = client.post(f"/v1/projects/{project['id']}", json={"displayName": "Renamed"})
            assert updated.json()["displayName"] == "Renamed"
            listed = client.get("/v1/projects", params={"externalId": "tcp-1"})
            assert [p["id"] for p in listed.json()["data"]] == [project["id"]]
            assert client.delete(f"/v1/projects/{project['id']}").status_code == 204
            assert client.get(f"/v1/projects/{project['id']}").status_code == 404
            unauthorized = httpx.get(f"{base_url}/v1/projects")
            assert unauthorized.status_code == 401
    # A restart finds the same bootstrap platform rather than making a second one.
    with running_server(env) as base_url:
        listed = httpx.get(f"{base_url}/v1/projects", headers={"Authorization": f"Bearer {BOOTSTRAP_KEY}"})
        assert [p["type"] for p in listed.json()["data"]] == ["PERSONAL"]


def test_embedded_default_needs_no_setup() -> None:
    """No AP_DATABASE_URL: the server starts its own PostgreSQL under AP_DATA_DIR and keeps data there.
    Not under pytest's tmp root: any pytest run starting meanwhile closes that to 0700 again, which
    locks out the `pgserver` user the embedded PostgreSQL runs as (under root)."""
    root = Path(tempfile.mkdtemp(prefix="openpieces-embedded-"))
    try:
        _embedded_default(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _embedded_default(tmp_path: Path) -> None:
    env = {"AP_DATA_DIR": str(tmp_path / "data"), "AP_DATABASE_URL": ""}
    created = run_cli("create-platform", "--name", "Local", "--json", env=env)
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)["apiKey"]
    with running_server(env) as base_url:
        headers = {"Authorization": f"Bearer {key}"}
        made = httpx.post(f"{base_url}/v1/projects", json={"displayName": "Embedded"}, headers=headers)
        assert made.status_code == 201, made.text
    with running_server(env) as base_url:
        listed = httpx.get(
            f"{base_url}/v1/projects", params={"types": "TEAM"}, headers={"Authorization": f"Bearer {key}"}
        )
        assert [p["displayName"] for p in listed.json()["data"]] == ["Embedded"]
        # The README's quick start: a key made from another shell while the server runs.
        second = run_cli("create-platform", "--name", "Second", "--json", env=env)
        assert second.returncode == 0, second.stderr
        other = {"Authorization": f"Bearer {json.loads(second.stdout)['apiKey']}"}
        assert httpx.get(f"{base_url}/v1/projects", headers=other).status_code == 200
        assert httpx.get(f"{base_url}/v1/health").status_code == 200
    assert (tmp_path / "data" / "pgdata").is_dir()
    # Stopping the server stopped its PostgreSQL too.
    pgdata = str((tmp_path / "data" / "pgdata").resolve())
    assert not [cmdline for cmdline in process_command_lines() if pgdata in cmdline]


def process_command_lines() -> list[str]:
    """Every process's command line, from /proc (no procps needed)."""
    lines = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                lines.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
            except OSError:
                pass
    return lines
