"""Snapshots (`/admin/snapshot`, `/admin/platforms/{id}/snapshot`, `openpieces snapshot`): a
platform with a row of every kind goes out and comes back exactly, row by row, read with SQL; its
secrets are sealed again on a server with another key; a bad snapshot is refused whole, with
nothing written. Each server here runs on its own database (a whole-server restore empties it)."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
from alembic.script import ScriptDirectory

from app.admin.snapshot_repository import SNAPSHOT_TABLES, SnapshotTableWithoutOwner, _owner_condition
from app.app_connections.service import secret_context
from app.kit.config import Settings
from app.kit.crypto import SecretBox, decode_key, new_encoded_key
from app.kit.db import Base, run_migrations, to_plain_url
from app.main import create_app
from tests.pg import fresh_database
from tests.processes import run_cli, run_pytest

# The schema revision a snapshot names is the migrations' head (and the one before it an older one).
_MIGRATIONS = ScriptDirectory(str(Path(__file__).resolve().parent.parent / "migrations"))
HEAD = _MIGRATIONS.get_current_head()
PREVIOUS = _MIGRATIONS.get_revision(HEAD).down_revision

ROOT = Path(__file__).resolve().parent.parent
ADMIN_TOKEN = "admin-token-for-snapshot-tests-0123"
KEY = new_encoded_key()
OTHER_KEY = new_encoded_key()
SLACK = "@activepieces/piece-slack"
SECRET = {"type": "SECRET_TEXT", "secret_text": "xoxb-snapshot-secret"}


class Server:
    def __init__(self, app: Any, database_url: str) -> None:
        self.app = app
        self.database_url = database_url
        self.admin = self.client(None)

    def client(self, api_key: str | None) -> httpx.AsyncClient:
        token = api_key or ADMIN_TOKEN
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),  # type: ignore[arg-type]
            base_url="http://testserver",
            headers={"Authorization": f"Bearer {token}"},
        )

    async def rows(self) -> dict[str, list[dict[str, Any]]]:
        """Every row of every table a snapshot covers, in primary-key order: the database as it is."""
        conn = await asyncpg.connect(to_plain_url(self.database_url))
        try:
            return {
                table.name: [
                    dict(row)
                    for row in await conn.fetch(f'SELECT * FROM "{table.name}" ORDER BY {", ".join(table.primary_key)}')
                ]
                for table in SNAPSHOT_TABLES
            }
        finally:
            await conn.close()


@contextmanager
def migrated_database() -> Iterator[str]:
    with fresh_database() as url:
        run_migrations(url)
        yield url


@asynccontextmanager
async def server_on(database_url: str, encryption_key: str, data_dir: Path) -> AsyncIterator[Server]:
    settings = Settings(
        database_url=database_url,
        run_migrations=False,
        encryption_key=encryption_key,
        admin_token=ADMIN_TOKEN,
        data_dir=data_dir,
        log_requests=False,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        server = Server(app, database_url)
        yield server
        await server.admin.aclose()


@pytest.fixture(scope="module")
def database_a() -> Iterator[str]:
    with migrated_database() as url:
        yield url


@pytest.fixture(scope="module")
def database_b() -> Iterator[str]:
    with migrated_database() as url:
        yield url


@pytest.fixture(scope="module")
async def server(database_a: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    async with server_on(database_a, KEY, tmp_path_factory.mktemp("a")) as running:
        yield running


@pytest.fixture(scope="module")
async def other_server(database_b: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    """Another server, on another database, with another encryption key."""
    async with server_on(database_b, OTHER_KEY, tmp_path_factory.mktemp("b")) as running:
        yield running


@pytest.fixture(autouse=True)
async def empty(server: Server) -> None:
    assert (await server.admin.post("/admin/reset")).status_code == 200


async def ok(response: httpx.Response, status: int | None = None) -> Any:
    """The body of a success (of `status`, when given)."""
    assert response.is_success and response.status_code == (status or response.status_code), response.text
    return response.json() if response.content else None


async def make_platform(server: Server, name: str = "Full") -> dict[str, Any]:
    """A platform with at least one row of every kind a snapshot holds."""
    created = await ok(await server.admin.post("/admin/platforms", json={"name": name}), 201)
    platform_id = created["platformId"]
    await ok(await server.admin.post(f"/admin/platforms/{platform_id}/api-keys"), 201)
    async with server.client(created["apiKey"]) as api:
        project = await ok(await api.post("/v1/projects", json={"displayName": "Team", "externalId": "team"}), 201)
        role = await ok(
            await api.post(
                "/v1/project-roles", json={"name": "Reviewer", "permissions": ["READ_FLOW"], "type": "CUSTOM"}
            ),
            201,
        )
        user = await ok(
            await server.admin.post(
                f"/admin/platforms/{platform_id}/users",
                json={"email": "ada@example.com", "externalId": "ada", "projects": [{"projectId": project["id"]}]},
            ),
            201,
        )
        invitation = {
            "type": "PROJECT",
            "email": "bob@example.com",
            "projectId": project["id"],
            "projectRole": "Reviewer",
        }
        await ok(await api.post("/v1/user-invitations", json=invitation), 201)
        folder = await ok(await api.post("/v1/folders", json={"displayName": "Reports", "projectId": project["id"]}))
        flow = await ok(
            await api.post(
                "/v1/flows", json={"displayName": "Digest", "projectId": project["id"], "folderId": folder["id"]}
            ),
            201,
        )
        await ok(
            await api.post(
                "/v1/global-connections",
                json={
                    "displayName": "Slack bot",
                    "pieceName": SLACK,
                    "type": "SECRET_TEXT",
                    "value": SECRET,
                    "scope": "PLATFORM",
                    "projectIds": [project["id"]],
                },
            ),
            201,
        )
        await ok(
            await api.post(
                "/v1/app-connections",
                json={
                    "externalId": "slack-team",
                    "displayName": "Team Slack",
                    "pieceName": SLACK,
                    "projectId": project["id"],
                    "type": "SECRET_TEXT",
                    "value": SECRET,
                },
            ),
            201,
        )
        piece = {"packageType": "REGISTRY", "scope": "PLATFORM", "pieceName": SLACK, "pieceVersion": "0.17.9"}
        await ok(await api.post("/v1/pieces", json=piece), 201)
        await ok(await api.post("/v1/tags/pieces", json={"piecesName": [SLACK], "tags": ["chat"]}), 201)
    return {**created, "projectId": project["id"], "roleId": role["id"], "userId": user["id"], "flowId": flow["id"]}


async def export(server: Server, platform_id: str | None = None) -> bytes:
    path = "/admin/snapshot" if platform_id is None else f"/admin/platforms/{platform_id}/snapshot"
    response = await server.admin.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.content


async def restore(
    server: Server, body: bytes | dict[str, Any], platform_id: str | None = None, key: str | None = None
) -> httpx.Response:
    path = "/admin/snapshot" if platform_id is None else f"/admin/platforms/{platform_id}/snapshot"
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    headers = {"Content-Type": "application/json", **({"X-Snapshot-Encryption-Key": key} if key else {})}
    return await server.admin.put(path, content=content, headers=headers)


def of_platform(rows: dict[str, list[dict[str, Any]]], platform_id: str) -> int:
    return sum(1 for table in rows.values() for row in table if row.get("platform_id") == platform_id)


# --- what a snapshot holds


def test_every_table_but_the_admin_apis_own_is_in_a_snapshot() -> None:
    covered = {table.name for table in SNAPSHOT_TABLES}
    assert covered == {table.name for table in Base.metadata.sorted_tables} - {"admin_fault", "admin_request_log"}


def test_a_table_no_cascade_ties_to_a_platform_cannot_be_snapshotted() -> None:
    from sqlalchemy import Column, MetaData, String, Table

    orphan = Table("orphan", MetaData(), Column("id", String, primary_key=True))
    with pytest.raises(SnapshotTableWithoutOwner, match="orphan"):
        _owner_condition(orphan)


async def test_the_document_names_its_versions_and_key_and_holds_hashes_only(server: Server) -> None:
    made = await make_platform(server)
    document = orjson.loads(await export(server, made["platformId"]))
    assert {k: document[k] for k in ("format", "formatVersion", "schemaVersion", "scope", "platformIds")} == {
        "format": "openpieces-snapshot",
        "formatVersion": 1,
        "schemaVersion": HEAD,
        "scope": "platform",
        "platformIds": [made["platformId"]],
    }
    assert document["encryption"] == {
        "algorithm": "AES-256-GCM",
        "keyFingerprint": SecretBox(decode_key(KEY)).fingerprint,
    }
    raw = json.dumps(document)
    assert made["apiKey"] not in raw and SECRET["secret_text"] not in raw
    # Every kind of row is there; the shared default roles are the server's, not the platform's.
    assert all(document["tables"][table.name] for table in SNAPSHOT_TABLES), {
        name: len(rows) for name, rows in document["tables"].items()
    }
    assert [role["name"] for role in document["tables"]["project_role"]] == ["Reviewer"]
    missing = await server.admin.get(f"/admin/platforms/{'z' * 21}/snapshot")
    assert missing.status_code == 404 and missing.json()["code"] == "ENTITY_NOT_FOUND"


# --- round trips, compared row by row


async def test_a_platform_comes_back_row_by_row_and_the_others_are_untouched(server: Server) -> None:
    made = await make_platform(server)
    other = await make_platform(server, "Other")
    before = await server.rows()
    assert all(before[table.name] for table in SNAPSHOT_TABLES)
    snapshot = await export(server, made["platformId"])

    # Into a server that no longer has it.
    assert (await server.admin.delete(f"/admin/platforms/{made['platformId']}")).status_code == 204
    assert of_platform(await server.rows(), made["platformId"]) == 0
    restored = await ok(await restore(server, snapshot, made["platformId"]))
    assert restored["platformIds"] == [made["platformId"]] and restored["resealedSecrets"] == 0
    assert await server.rows() == before

    # Into a server that has it, changed since: its rows are replaced; the other platform's
    # changes made since stay.
    async with server.client(other["apiKey"]) as api:
        await ok(await api.post("/v1/projects", json={"displayName": "Theirs, later"}), 201)
    expected = await server.rows()
    async with server.client(made["apiKey"]) as api:
        await ok(await api.post("/v1/projects", json={"displayName": "Later"}), 201)
        await ok(await api.delete(f"/v1/flows/{made['flowId']}"))
    assert await server.rows() != expected
    await ok(await restore(server, snapshot, made["platformId"]))
    assert await server.rows() == expected

    # Over HTTP too: its keys work, and what it lists is what it had.
    async with server.client(made["apiKey"]) as api:
        projects = (await api.get("/v1/projects")).json()["data"]
        assert sorted(p["displayName"] for p in projects) == ["Platform Owner's Project", "Team", "ada's Project"]
        flows = (await api.get("/v1/flows", params={"projectId": made["projectId"]})).json()["data"]
        assert [flow["id"] for flow in flows] == [made["flowId"]]


async def test_the_whole_server_comes_back_row_by_row(server: Server) -> None:
    await make_platform(server, "One")
    await make_platform(server, "Two")
    before = await server.rows()
    snapshot = await export(server)
    assert orjson.loads(snapshot)["scope"] == "server"

    third = await make_platform(server, "Three")
    fault = {"path_pattern": "/v1/projects*", "status": 500, "times": 5}
    await ok(await server.admin.post("/admin/faults", json=fault), 201)
    restored = await ok(await restore(server, snapshot))
    assert len(restored["platformIds"]) == 2
    assert await server.rows() == before
    assert (await server.admin.get("/admin/faults")).json() == []
    async with server.client(third["apiKey"]) as gone:
        assert (await gone.get("/v1/projects")).status_code == 401

    # Into another, empty server (same key): the same rows.
    assert (await ok(await server.admin.post("/admin/reset")))["seeded"] is None
    assert await server.rows() != before
    await ok(await restore(server, snapshot))
    assert await server.rows() == before


# --- another encryption key


async def test_secrets_are_sealed_again_with_the_servers_key(server: Server, other_server: Server) -> None:
    made = await make_platform(server)
    snapshot = await export(server, made["platformId"])
    sealed_before = {row["id"]: row["value_encrypted"] for row in (await server.rows())["app_connection"]}
    empty_rows = await other_server.rows()

    without = await restore(other_server, snapshot, made["platformId"])
    assert without.status_code == 400
    fingerprint = orjson.loads(snapshot)["encryption"]["keyFingerprint"]
    message = without.json()["params"]["message"]
    assert without.json()["code"] == "VALIDATION"
    assert f"sealed with another encryption key (fingerprint {fingerprint}" in message
    assert "X-Snapshot-Encryption-Key" in message
    wrong = await restore(other_server, snapshot, made["platformId"], key=new_encoded_key())
    assert wrong.status_code == 400 and "not the snapshot's" in wrong.json()["params"]["message"]
    garbled = await restore(other_server, snapshot, made["platformId"], key="not a key")
    assert garbled.status_code == 400 and "urlsafe base64 of 32 bytes" in garbled.json()["params"]["message"]
    assert await other_server.rows() == empty_rows

    restored = await ok(await restore(other_server, snapshot, made["platformId"], key=KEY))
    assert restored["resealedSecrets"] == 2
    rows = await other_server.rows()
    other_box, old_box = SecretBox(decode_key(OTHER_KEY)), SecretBox(decode_key(KEY))
    for row in rows["app_connection"]:
        context = secret_context(row["platform_id"], row["external_id"], row["project_id"])
        assert row["value_encrypted"] != sealed_before[row["id"]]
        assert other_box.open(row["value_encrypted"], context) == SECRET
        with pytest.raises(Exception):  # noqa: B017 (the old key no longer opens it)
            old_box.open(row["value_encrypted"], context)
    # Everything else is as it was exported.
    source = await server.rows()
    for name in rows:
        strip = (lambda r: {k: v for k, v in r.items() if k != "value_encrypted"}) if name == "app_connection" else dict
        assert [strip(r) for r in rows[name]] == [strip(r) for r in source[name]], name
    async with other_server.client(made["apiKey"]) as api:
        assert (await api.get("/v1/global-connections")).json()["data"][0]["displayName"] == "Slack bot"


# --- refused whole, nothing written


def _edited(snapshot: bytes, edit: Any) -> bytes:
    document = orjson.loads(snapshot)
    edit(document)
    return orjson.dumps(document)


def _set(path: str, value: Any) -> Any:
    def edit(document: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = document
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if value is _DELETE:
            del target[last]
        else:
            target[int(last) if isinstance(target, list) else last] = value

    return edit


_DELETE = object()

REFUSALS = [
    ("not json", lambda s: s[:-10], "snapshot refused: it is not JSON (unexpected end of data: line "),
    ("a list", lambda s: b"[]", "snapshot refused: a snapshot is a JSON object, not list"),
    (
        "other format and version",
        lambda s: _edited(s, lambda d: d.update(format="pg_dump", formatVersion=2)),
        "snapshot refused: format must be 'openpieces-snapshot', not 'pg_dump'; formatVersion 2 is not one "
        "this server reads (1)",
    ),
    (
        "older schema",
        lambda s: _edited(s, _set("schemaVersion", PREVIOUS)),
        f"snapshot refused: its rows are of schema version {PREVIOUS} and this server's of {HEAD}, and there is no "
        f"snapshot upgrade from {PREVIOUS}: restore it on an openpieces of schema {PREVIOUS}, migrate that database "
        "(`openpieces migrate`), and export again",
    ),
    (
        "newer schema",
        lambda s: _edited(s, _set("schemaVersion", "0099")),
        f"snapshot refused: schema version '0099' is unknown to this server (at {HEAD}): "
        "it was made by a newer openpieces",
    ),
    (
        "a table missing, an unknown one, a row with a column too few and one too many",
        lambda s: _edited(
            s,
            lambda d: (
                d["tables"].pop("folder"),
                d["tables"].update(extra=[]),
                d["tables"]["flow"][0].pop("status"),
                d["tables"]["project"][0].update(colour="red"),
            ),
        ),
        "snapshot refused: unknown table 'extra'; table 'folder' is missing; tables.flow.0 lacks ['status']; "
        "tables.project.0 has unknown ['colour']",
    ),
]


@pytest.mark.parametrize(
    ("edit", "message"), [(edit, message) for _, edit, message in REFUSALS], ids=[r[0] for r in REFUSALS]
)
async def test_a_bad_snapshot_is_refused_with_every_reason_and_nothing_written(
    server: Server, edit: Any, message: str
) -> None:
    made = await make_platform(server)
    snapshot = await export(server, made["platformId"])
    async with server.client(made["apiKey"]) as api:  # changed since: a restore would undo this
        await ok(await api.post("/v1/projects", json={"displayName": "Since"}), 201)
    before = await server.rows()
    for platform_id in (made["platformId"], None):
        response = await restore(server, edit(snapshot), platform_id)
        assert response.status_code == 400, response.text
        assert response.json()["code"] == "VALIDATION"
        assert response.json()["params"]["message"].startswith(message), response.json()["params"]["message"]
        assert len(response.json()["params"]["message"]) < len(message) + 40  # the whole of it, bar a position
        assert await server.rows() == before


async def test_a_row_the_database_refuses_rolls_back_the_rows_already_written(server: Server) -> None:
    made = await make_platform(server)
    snapshot = await export(server, made["platformId"])
    before = await server.rows()
    # The flow versions go in last, after the platform was deleted and every other table written.
    broken = _edited(snapshot, _set("tables.flow_version.0.created", "not a time"))
    response = await restore(server, broken, made["platformId"])
    assert response.status_code == 400
    assert response.json()["params"]["message"].startswith("snapshot refused: the database refused its rows: ")
    assert "not a time" in response.json()["params"]["message"]
    assert await server.rows() == before
    async with server.client(made["apiKey"]) as api:
        assert (await api.get("/v1/projects")).status_code == 200


async def test_a_snapshot_cannot_reach_into_another_platform(server: Server) -> None:
    made = await make_platform(server)
    victim = await make_platform(server, "Victim")
    snapshot = await export(server, made["platformId"])
    before = await server.rows()
    victims_project = next(r["id"] for r in before["project"] if r["platform_id"] == victim["platformId"])

    def into_victim(document: dict[str, Any]) -> None:
        document["tables"]["folder"][0]["project_id"] = victims_project
        document["tables"]["api_key"][0]["platform_id"] = victim["platformId"]
        document["tables"]["platform"][0]["owner_id"] = victim["ownerId"]

    response = await restore(server, _edited(snapshot, into_victim), made["platformId"])
    assert response.status_code == 400
    assert response.json()["params"]["problems"] == [
        f"platform.owner_id refers to user rows it does not hold: ['{victim['ownerId']}']",
        f"api_key.platform_id refers to platform rows it does not hold: ['{victim['platformId']}']",
        f"folder.project_id refers to project rows it does not hold: ['{victims_project}']",
    ]
    # A snapshot of one platform restored as another's.
    wrong = await restore(server, snapshot, victim["platformId"])
    assert wrong.status_code == 400
    assert wrong.json()["params"]["message"] == (
        f"snapshot refused: it must hold platform {victim['platformId']} alone, and holds ['{made['platformId']}']"
    )
    assert await server.rows() == before


# --- the CLI


def test_the_cli_exports_and_imports(database_b: str, tmp_path: Path) -> None:
    env = {"AP_DATABASE_URL": database_b, "AP_ENCRYPTION_KEY": OTHER_KEY, "AP_DATA_DIR": str(tmp_path)}
    created = run_cli("create-platform", "--name", "From the CLI", "--json", env=env)
    assert created.returncode == 0, created.stderr
    platform_id = json.loads(created.stdout)["platformId"]
    file = tmp_path / "snapshot.json"
    exported = run_cli("snapshot", "export", str(file), "--platform-id", platform_id, env=env)
    assert exported.returncode == 0, exported.stderr
    document = json.loads(file.read_text())
    assert document["platformIds"] == [platform_id] and len(document["tables"]["project"]) == 1
    everything = run_cli("snapshot", "export", "-", env=env)
    assert everything.returncode == 0 and platform_id in json.loads(everything.stdout)["platformIds"]

    deleted = run_cli("create-platform", "--name", "Other", "--json", env=env)  # a whole-server import drops it
    other_id = json.loads(deleted.stdout)["platformId"]
    imported = run_cli("snapshot", "import", str(file), "--platform-id", platform_id, env=env)
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["platformIds"] == [platform_id]

    whole = tmp_path / "whole.json"
    whole.write_text(everything.stdout)
    imported = run_cli("snapshot", "import", str(whole), env=env)
    assert imported.returncode == 0, imported.stderr
    after = run_cli("snapshot", "export", "-", env=env)
    assert other_id not in json.loads(after.stdout)["platformIds"]
    assert json.loads(after.stdout)["tables"] == json.loads(everything.stdout)["tables"]

    # Another key: refused without it, sealed again with it (the seed file's connection).
    seeded = run_cli("seed", str(Path(__file__).parent.parent / "examples" / "seed.yaml"), env=env)
    assert seeded.returncode == 0, seeded.stderr
    whole.write_text(run_cli("snapshot", "export", "-", env=env).stdout)
    connections = len(json.loads(whole.read_text())["tables"]["app_connection"])
    assert connections >= 1
    rekeyed = {**env, "AP_ENCRYPTION_KEY": KEY}
    foreign = run_cli("snapshot", "import", str(whole), env=rekeyed)
    assert foreign.returncode == 1 and "sealed with another encryption key" in foreign.stderr
    foreign = run_cli("snapshot", "import", str(whole), "--key", OTHER_KEY, env=rekeyed)
    assert foreign.returncode == 0, foreign.stderr
    assert json.loads(foreign.stdout)["resealedSecrets"] == connections
    back = run_cli("snapshot", "import", "-", env={**env, "AP_SNAPSHOT_ENCRYPTION_KEY": KEY}, stdin=whole.read_text())
    assert back.returncode == 0 and json.loads(back.stdout)["resealedSecrets"] == 0, back.stderr
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text('{"format": "openpieces-snapshot"}')
    refused = run_cli("snapshot", "import", str(corrupt), env=env)
    assert refused.returncode == 1
    body = json.loads(refused.stderr.strip().splitlines()[-1])
    assert (
        body["code"] == "VALIDATION" and "formatVersion None is not one this server reads" in body["params"]["message"]
    )
    missing = run_cli("snapshot", "import", str(tmp_path / "nowhere.json"), env=env)
    assert missing.returncode == 2 and "nowhere.json" in missing.stderr


# --- the pytest plugin


def test_the_pytest_plugin_restores_the_snapshot_before_each_test(tmp_path: Path) -> None:
    example = ROOT / "examples" / "test_with_snapshot.py"
    assert example.read_text().strip() in (ROOT / "docs" / "test-target.md").read_text()
    copy = tmp_path / "test_snapshot_suite.py"
    copy.write_text(example.read_text())
    result = run_pytest(copy)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "2 passed" in result.stdout


def test_restoring_a_small_platform_takes_milliseconds(capsys: pytest.CaptureFixture[str]) -> None:
    """What a suite pays per test for `openpieces_restored`: a whole-server restore over HTTP of a
    small platform (3 projects, 3 flows, 2 connections, a user, a role, an invitation, pieces)."""
    from app.testing import openpieces_server

    with fresh_database() as url, openpieces_server(database_url=url) as running:
        with httpx.Client(base_url=running.api_url, headers={"Authorization": f"Bearer {running.api_key}"}) as api:
            project_ids = [
                api.post("/projects", json={"displayName": f"P{i}"}).raise_for_status().json()["id"] for i in range(3)
            ]
            for project_id in project_ids:
                api.post("/flows", json={"displayName": "F", "projectId": project_id}).raise_for_status()
            for external_id in ("a", "b"):
                body = {
                    "externalId": external_id,
                    "displayName": "Slack",
                    "pieceName": SLACK,
                    "projectId": project_ids[0],
                    "type": "SECRET_TEXT",
                    "value": SECRET,
                }
                api.post("/app-connections", json=body).raise_for_status()
        running.create_user("ada@example.com", projects=[{"projectId": project_ids[0]}])
        snapshot = running.export_snapshot()
        with running.admin() as admin:
            admin.put("/admin/snapshot", content=snapshot).raise_for_status()  # warm
            timings, server_ms = [], []
            for _ in range(30):
                started = time.perf_counter()
                response = admin.put("/admin/snapshot", content=snapshot, headers={"Content-Type": "application/json"})
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.text
                server_ms.append(response.json()["ms"])
        assert running.restore_snapshot(snapshot)["platformIds"] == [running.platform_id()]
    median, in_server = statistics.median(timings), statistics.median(server_ms)
    with capsys.disabled():
        print(
            f"\nsnapshot restore of a small platform ({len(snapshot)} bytes): median {median:.1f} ms per test "
            f"over HTTP, {in_server:.1f} ms of it in the server"
        )
    assert median < 500  # hundreds of tests: well under a second each, even on a busy 2-core machine
