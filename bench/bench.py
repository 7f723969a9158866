"""Benchmark: the real server against raw-asyncpg baselines doing the same work, in the same run.

    bench/run [--workers N] [--records K] [--duration S] [--connections C] [--repeat R]
              [--sizes K1,K2,...] [--only reads|writes|lists|NAME,...] [--profile DIR] [--no-profile]
              [--scaling] [--servers] [--rss] [--pgbouncer]

Each measurement gets a fresh database seeded with K projects, K flows (one version each), K global
connections, one project holding K/10 more flows, K/10 folders (holding those flows), K/10 project
connections and K/10 members (K/10 more users of the platform) for the lists, and a few more
platforms (for creates spread over platforms). Next to the server runs bench/baseline_app.py:
FastAPI routing and a raw asyncpg pool, nothing else. It answers the by-id read (the yardstick of
every endpoint) and, for every endpoint, the same work: the server's own SQL text, statements,
locks and round trips, rows turned into the same JSON bytes with orjson, but no authentication,
validation or middleware.

Each endpoint is measured right after its equal-work baseline, R times (default 3); the table shows
medians: requests/s, p50/p99 latency, the ratio to its equal-work baseline and to the by-id baseline.
--sizes measures the lists (first and deep page) at each K; --scaling compares 2 workers with 1 on the
by-id reads; --pgbouncer compares the by-id read and `POST /v1/projects` on a server straight on
PostgreSQL with one behind PgBouncer in transaction mode (AP_DATABASE_POOLER=transaction; PgBouncer
runs on a free port, installed with apt-get when missing), same database, rounds interleaved; --rss
reports a worker's memory after 1,000 and after 100,000 requests; --servers runs the same app
under uvicorn and under granian, rounds interleaved. The server is recorded with py-spy (`pip install
-e '.[bench]'`) during each endpoint's first round, and the table is followed by where one request's
time goes (framework, HTTP server, edge, auth, SQL, serialization, service; see bench/profile.py);
--profile DIR keeps the recordings and prints their summaries, --no-profile skips them. Every table
says when it was taken and the load average before and after. Load comes from `wrk` (Debian:
apt-get install wrk); without it, from a small asyncio + httpx generator (slower: it shares the
CPUs with the server). JSON goes to bench/results/."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, replace
from itertools import count
from pathlib import Path
from typing import Any

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.kit.db import run_migrations, to_plain_url  # noqa: E402
from app.kit.pagination import Cursor  # noqa: E402
from app.testing import serving  # noqa: E402
from bench.profile import breakdown, summarise  # noqa: E402
from tests.pg import fresh_database  # noqa: E402
from tests.pgbouncer import pgbouncer  # noqa: E402
from tests.processes import free_port, openpieces_command  # noqa: E402

BENCH_KEY = "sk-bench-" + "k" * 40
PAGE = 50
LUA_SCRIPT = ROOT / "bench" / "random_path.lua"
RESULTS_DIR = ROOT / "bench" / "results"
REQUEST_TIMEOUT = 30  # seconds

# A small, valid flow as the editor saves it: a schedule trigger followed by one code step.
SEED_TRIGGER: dict[str, Any] = {
    "name": "trigger",
    "displayName": "Every 15 minutes",
    "type": "PIECE_TRIGGER",
    "valid": True,
    "settings": {
        "pieceName": "@activepieces/piece-schedule",
        "pieceVersion": "0.1.5",
        "triggerName": "every_x_minutes",
        "input": {"minutes": 15},
        "propertySettings": {},
    },
    "lastUpdatedDate": "2026-01-01T00:00:00.000Z",
    "nextAction": {
        "name": "step_1",
        "displayName": "Count items",
        "type": "CODE",
        "valid": True,
        "settings": {
            "sourceCode": {
                "code": "export const code = async (inputs) => ({ count: (inputs.items ?? []).length })",
                "packageJson": "{}",
            },
            "input": {"items": "{{trigger.body}}"},
            "errorHandlingOptions": {"continueOnFailure": {"value": False}, "retryOnFailure": {"value": False}},
        },
        "lastUpdatedDate": "2026-01-01T00:00:00.000Z",
        "nextAction": None,
    },
}


# --- seeding


@dataclass(frozen=True, slots=True)
class Seeded:
    platform_id: str
    project_ids: list[str]
    flow_ids: list[str]
    list_project_id: str  # holds the flows of the flows list
    spread_platform_ids: list[str]
    spread_tokens: list[str]
    deep_projects: str  # cursors of the last full page of each list
    deep_flows: str
    deep_connections: str
    deep_folders: str
    deep_project_connections: str
    deep_users: str
    deep_members: str


# Every row hangs off one seeded TEAM project; ids are derived from the project's id with md5, so
# each statement is one set-based INSERT ... SELECT and 100,000 rows take seconds. $1 is the platform.
SEED_PROJECTS = """
    INSERT INTO project (id, created, updated, platform_id, owner_id, display_name, type, external_id,
                         metadata, releases_enabled, icon_color, notify_status)
    SELECT substr(md5(random()::text || g::text), 1, 21), now() - g * interval '1 second', now(),
           $1, $2, 'Project ' || g, 'TEAM', 'ext-' || g, '{"seed": true}'::jsonb, false, 'BLUE', 'NEVER'
    FROM generate_series(1, $3::int) AS g
"""
SEED_PLANS_AND_MEMBERS = """
    WITH plans AS (
        INSERT INTO project_plan (id, project_id, name, locked, pieces_filter_type, pieces)
        SELECT substr(md5('plan' || id), 1, 21), id, 'platform', false, 'NONE', '{}'
        FROM project WHERE platform_id = $1 AND type = 'TEAM'
    )
    INSERT INTO project_member (id, platform_id, project_id, user_id, project_role_id)
    SELECT substr(md5('member' || id), 1, 21), platform_id, id, owner_id, 'defaultRoleAdmin00000'
    FROM project WHERE platform_id = $1 AND type = 'TEAM'
"""
# external_id = id, as the server does for a flow created without an externalId. The version is a
# DRAFT, so CHANGE_NAME edits it in place instead of copying a locked version on every request.
SEED_FLOWS = """
    WITH flows AS (
        INSERT INTO flow (id, created, updated, project_id, external_id, status, operation_status)
        SELECT substr(md5('flow' || id), 1, 21), created, created, id, substr(md5('flow' || id), 1, 21),
               'DISABLED', 'NONE'
        FROM project WHERE platform_id = $1 AND type = 'TEAM'
        RETURNING id, created, project_id
    )
    INSERT INTO flow_version (id, created, updated, flow_id, display_name, trigger, valid, state, schema_version)
    SELECT substr(md5('version' || f.id), 1, 21), f.created, f.created, f.id, 'Flow of ' || p.display_name,
           $2::jsonb, true, 'DRAFT', '17'
    FROM flows f JOIN project p ON p.id = f.project_id
"""
# The flows list needs a project with many flows: $1 is that project, $3 how many more it gets.
SEED_LIST_FLOWS = """
    WITH flows AS (
        INSERT INTO flow (id, created, updated, project_id, external_id, status, operation_status)
        SELECT substr(md5('listflow' || g), 1, 21), now() - g * interval '1 second',
               now() - g * interval '1 second', $1, substr(md5('listflow' || g), 1, 21), 'DISABLED', 'NONE'
        FROM generate_series(1, $3::int) AS g
        RETURNING id, created
    )
    INSERT INTO flow_version (id, created, updated, flow_id, display_name, trigger, valid, state, schema_version)
    SELECT substr(md5('version' || f.id), 1, 21), f.created, f.created, f.id, 'Listed flow', $2::jsonb, true,
           'DRAFT', '17'
    FROM flows f
"""
# The bench never decrypts a value, so an opaque string stands in for a sealed one. Each connection is
# linked to its project (foreign keys are checked at the end of the statement, after both inserts).
SEED_CONNECTIONS = """
    WITH connections AS (
        INSERT INTO app_connection (id, created, updated, platform_id, external_id, display_name, piece_name,
                                    piece_version, type, scope, status, owner_id, pre_select_for_new_projects,
                                    value_encrypted)
        SELECT substr(md5('connection' || id), 1, 21), created, created, platform_id, 'slack-' || external_id,
               'Slack of ' || display_name, '@activepieces/piece-slack', '0.5.0', 'SECRET_TEXT', 'PLATFORM',
               'ACTIVE', owner_id, false, 'bench-opaque-value'
        FROM project WHERE platform_id = $1 AND type = 'TEAM'
    )
    INSERT INTO app_connection_project (connection_id, project_id)
    SELECT substr(md5('connection' || id), 1, 21), id
    FROM project WHERE platform_id = $1 AND type = 'TEAM'
"""
# The list project's own rows for the lists of folders, project connections, users and members:
# $1 is that project, $2 its platform, $3 how many of each (the folders: $2 is how many). The
# project's listed flows are spread over its folders, so each folder's numberOfFlows counts some.
SEED_LIST_FOLDERS = """
    INSERT INTO folder (id, created, updated, project_id, display_name, display_order, external_id)
    SELECT substr(md5('folder' || g), 1, 21), now() - g * interval '1 second', now() - g * interval '1 second',
           $1, 'Folder ' || g, 0, substr(md5('folder' || g), 1, 21)
    FROM generate_series(1, $2::int) AS g
"""
SEED_FOLDER_FLOWS = """
    UPDATE flow SET folder_id = substr(md5('folder' || (1 + abs(hashtext(id)::bigint) % $2::int)), 1, 21)
    WHERE project_id = $1
"""
SEED_PROJECT_CONNECTIONS = """
    WITH connections AS (
        INSERT INTO app_connection (id, created, updated, platform_id, project_id, external_id, display_name,
                                    piece_name, piece_version, type, scope, status, owner_id,
                                    pre_select_for_new_projects, value_encrypted)
        SELECT substr(md5('projectconnection' || g), 1, 21), now() - g * interval '1 second',
               now() - g * interval '1 second', $2, $1, 'project-slack-' || g, 'Project Slack ' || g,
               '@activepieces/piece-slack', '0.5.0', 'SECRET_TEXT', 'PROJECT', 'ACTIVE', $4, false,
               'bench-opaque-value'
        FROM generate_series(1, $3::int) AS g
        RETURNING id
    )
    INSERT INTO app_connection_project (connection_id, project_id) SELECT id, $1 FROM connections
"""
SEED_USERS_AND_MEMBERS = """
    WITH users AS (
        INSERT INTO "user" (id, created, updated, platform_id, email, first_name, last_name, platform_role,
                            status, external_id)
        SELECT substr(md5('user' || g), 1, 21), now() - g * interval '1 second', now() - g * interval '1 second',
               $2, 'user' || g || '@bench.example', 'User', 'No ' || g, 'MEMBER', 'ACTIVE', 'user-' || g
        FROM generate_series(1, $3::int) AS g
        RETURNING id, created
    )
    INSERT INTO project_member (id, created, updated, platform_id, project_id, user_id, project_role_id)
    SELECT substr(md5('member' || id), 1, 21), created, created, $2, $1, id, 'defaultRoleAdmin00000' FROM users
"""
SPREAD_PLATFORMS = 16  # creates spread over this many platforms, each with its own key


async def _deep_cursor(
    conn: asyncpg.Connection,
    table: str,
    sort: tuple[str, ...],
    owner: str,
    owner_id: str,
    *,
    descending: bool = True,
) -> str:
    """A cursor made from the row PAGE + 1 from the end of a list (in its order on (sort..., id),
    descending or ascending), built the way the server builds its `next` cursors: it asks for the last
    full page. `owner` is a column, or a condition on $1."""
    where = f"WHERE {owner}" if "$1" in owner else f"WHERE {owner} = $1"
    direction = "DESC" if descending else "ASC"
    columns = (*sort, "id")
    total = await conn.fetchval(f"SELECT count(*) FROM {table} {where}", owner_id)
    anchor = await conn.fetchrow(
        f"SELECT {', '.join(columns)} FROM {table} {where} "
        f"ORDER BY {', '.join(f'{column} {direction}' for column in columns)} OFFSET $2 LIMIT 1",
        owner_id,
        max(total - PAGE - 1, 0),
    )
    return Cursor("next", tuple(anchor)).encode()


async def seed(database_url: str, records: int) -> Seeded:
    from app.kit.db import Database
    from app.projects.provisioning import PlatformProvisioning

    db = Database(database_url, pool_size=1, max_overflow=0)
    # ENTERPRISE: no team-project limit, so POST /v1/projects keeps succeeding.
    created = await PlatformProvisioning(db).create_platform("Bench", "ENTERPRISE", api_key=BENCH_KEY)
    spread = [
        await PlatformProvisioning(db).create_platform(
            f"Bench {i}", "ENTERPRISE", api_key=f"sk-bench-{i:02d}" + "s" * 38
        )
        for i in range(SPREAD_PLATFORMS)
    ]
    await db.dispose()
    platform_id = created.platform_id
    trigger = json.dumps(SEED_TRIGGER)
    conn = await asyncpg.connect(to_plain_url(database_url))
    try:
        async with conn.transaction():
            await conn.execute(SEED_PROJECTS, platform_id, created.owner_id, records)
            await conn.execute(SEED_PLANS_AND_MEMBERS, platform_id)
            await conn.execute(SEED_FLOWS, platform_id, trigger)
            await conn.execute(SEED_CONNECTIONS, platform_id)
            list_project_id = await conn.fetchval(
                "SELECT id FROM project WHERE platform_id = $1 AND type = 'TEAM' ORDER BY created DESC, id LIMIT 1",
                platform_id,
            )
            listed = max(records // 10, 2 * PAGE + 1)
            await conn.execute(SEED_LIST_FLOWS, list_project_id, trigger, listed)
            await conn.execute(SEED_LIST_FOLDERS, list_project_id, listed)
            await conn.execute(SEED_FOLDER_FLOWS, list_project_id, listed)
            await conn.execute(SEED_PROJECT_CONNECTIONS, list_project_id, platform_id, listed, created.owner_id)
            await conn.execute(SEED_USERS_AND_MEMBERS, list_project_id, platform_id, listed)
        await conn.execute("VACUUM ANALYZE")  # settle the new rows now, not while measuring
        project_ids = [
            r["id"]
            for r in await conn.fetch("SELECT id FROM project WHERE platform_id = $1 AND type = 'TEAM'", platform_id)
        ]
        flow_ids = [
            r["id"]
            for r in await conn.fetch(
                "SELECT f.id FROM flow f JOIN project p ON p.id = f.project_id"
                " WHERE p.platform_id = $1 AND f.project_id <> $2",
                platform_id,
                list_project_id,
            )
        ]
        return Seeded(
            platform_id=platform_id,
            project_ids=project_ids,
            flow_ids=flow_ids,
            list_project_id=list_project_id,
            spread_platform_ids=[p.platform_id for p in spread],
            spread_tokens=[p.api_key for p in spread],
            # Each list in its own order (the real server's): see docs/fidelity.md, "Order of lists".
            deep_projects=await _deep_cursor(
                conn, "project", ("type", "display_name"), "platform_id", platform_id, descending=False
            ),
            deep_flows=await _deep_cursor(conn, "flow", ("status", "updated"), "project_id", list_project_id),
            deep_connections=await _deep_cursor(
                conn, "app_connection", ("created",), "platform_id", platform_id, descending=False
            ),
            deep_folders=await _deep_cursor(
                conn, "folder", ("created",), "project_id", list_project_id, descending=False
            ),
            deep_project_connections=await _deep_cursor(
                conn,
                "app_connection",
                ("created",),
                "id IN (SELECT connection_id FROM app_connection_project WHERE project_id = $1)",
                list_project_id,
                descending=False,
            ),
            deep_users=await _deep_cursor(conn, '"user"', ("created",), "platform_id", platform_id),
            deep_members=await _deep_cursor(
                conn, "project_member", ("created",), "project_id", list_project_id, descending=False
            ),
        )
    finally:
        await conn.close()


# --- load


@dataclass(frozen=True, slots=True)
class Endpoint:
    name: str
    path: str  # "{id}" becomes a random id from `ids`, "{n}" a number unique to the run
    ids: Path | None = None
    method: str = "GET"
    body: str | None = None
    token: str = BENCH_KEY
    tokens: Path | None = None  # a random one of these tokens per request, instead of `token`

    def headers(self) -> dict[str, str]:
        token = random.choice(self.tokens.read_text().split()) if self.tokens else self.token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return headers | ({"Content-Type": "application/json"} if self.body is not None else {})


@dataclass(slots=True)
class Stats:
    rps: float
    p50_ms: float
    p99_ms: float
    non2xx: int
    socket_errors: int
    completed: int  # responses received during the measured run (0: every request outlasted it)
    probe_ms: float | None = None  # one request alone, before the load: the cost without queueing
    ratio: float | None = None


def fill(template: str, row_id: str, n: str) -> str:
    return template.replace("{id}", row_id).replace("{n}", n)


WRK_PERCENTILE = re.compile(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", re.M)
WRK_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(base_url: str, endpoint: Endpoint, seconds: int, connections: int, cpus: str | None = None) -> Stats:
    env = {
        **os.environ,
        "METHOD": endpoint.method,
        "PATH_TEMPLATE": endpoint.path,
        "BODY_TEMPLATE": endpoint.body or "",
        "IDS_FILE": str(endpoint.ids or ""),
        "BENCH_TOKEN": endpoint.token,
        "TOKENS_FILE": str(endpoint.tokens or ""),
    }
    # One thread: the Lua counter behind "{n}" must be shared, and wrk needs little CPU at this rate.
    # A long timeout: a slow endpoint should show as high latency, not as requests wrk gave up on.
    command = [
        "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", f"{REQUEST_TIMEOUT}s", "--latency",
        "-s", str(LUA_SCRIPT), base_url,
    ]  # fmt: skip
    if cpus is not None:  # kept off the server's CPUs
        command = ["taskset", "-c", cpus, *command]
    text = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    requests = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if requests is None:
        raise RuntimeError(f"unexpected wrk output:\n{text}")
    latencies = {m.group(1): _ms(m.group(2), m.group(3)) for m in WRK_PERCENTILE.finditer(text)}
    completed = re.search(r"(\d+) requests in", text)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    socket_errors = WRK_SOCKET_ERRORS.search(text)
    return Stats(
        rps=float(requests.group(1)),
        p50_ms=latencies["50"],
        p99_ms=latencies["99"],
        non2xx=int(non2xx.group(1)) if non2xx else 0,
        socket_errors=sum(int(v) for v in socket_errors.groups()) if socket_errors else 0,
        completed=int(completed.group(1)) if completed else 0,
    )


async def _python_load(base_url: str, endpoint: Endpoint, seconds: int, connections: int) -> Stats:
    ids = endpoint.ids.read_text().split() if endpoint.ids else [""]
    tag, counter = f"{time.time_ns():x}", count(1)
    latencies: list[float] = []
    non2xx = socket_errors = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=REQUEST_TIMEOUT) as client:
        started = time.perf_counter()
        deadline = started + seconds

        async def user() -> None:
            nonlocal non2xx, socket_errors
            while (sent := time.perf_counter()) < deadline:
                row_id, n = random.choice(ids), f"{tag}_{next(counter)}"
                body = fill(endpoint.body, row_id, n) if endpoint.body is not None else None
                try:
                    response = await client.request(
                        endpoint.method, fill(endpoint.path, row_id, n), content=body, headers=endpoint.headers()
                    )
                except httpx.HTTPError:
                    socket_errors += 1
                    continue
                latencies.append((time.perf_counter() - sent) * 1000)
                non2xx += not 200 <= response.status_code < 300

        await asyncio.gather(*(user() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    latencies.sort()

    def percentile(q: float) -> float:
        return latencies[min(int(q * len(latencies)), len(latencies) - 1)] if latencies else 0.0

    return Stats(len(latencies) / elapsed, percentile(0.50), percentile(0.99), non2xx, socket_errors, len(latencies))


def run_python(base_url: str, endpoint: Endpoint, seconds: int, connections: int) -> Stats:
    return asyncio.run(_python_load(base_url, endpoint, seconds, connections))


def probe(base_url: str, endpoint: Endpoint) -> float:
    """One request before the load, so a failing endpoint shows the server's answer, not just a count.
    Returns its latency in ms."""
    row_id = endpoint.ids.read_text().split()[0] if endpoint.ids else ""
    started = time.perf_counter()
    response = httpx.request(
        endpoint.method,
        base_url + fill(endpoint.path, row_id, f"probe_{time.time_ns():x}"),
        content=fill(endpoint.body, row_id, f"probe_{time.time_ns():x}") if endpoint.body is not None else None,
        headers=endpoint.headers(),
        timeout=REQUEST_TIMEOUT,
    )
    if not response.is_success:
        print(f"  ! {endpoint.name}: HTTP {response.status_code}: {response.text[:500]}", file=sys.stderr)
    return (time.perf_counter() - started) * 1000


async def _wait_idle(database_url: str, limit: float) -> float:
    """Wait until no query of the bench database is running. wrk stops sending when its time is up,
    but requests already queued in the server still run: left alone they would slow the next
    measurement. Returns the seconds waited."""
    started = time.monotonic()
    conn = await asyncpg.connect(to_plain_url(database_url))
    try:
        quiet = 0
        while quiet < 3 and time.monotonic() - started < limit:  # three quiet polls in a row
            busy = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND state <> 'idle' AND pid <> pg_backend_pid()"
            )
            quiet = quiet + 1 if busy == 0 else 0
            await asyncio.sleep(0.1)
    finally:
        await conn.close()
    return time.monotonic() - started


def wait_idle(database_url: str, limit: float = 300) -> None:
    waited = asyncio.run(_wait_idle(database_url, limit))
    if waited > 1:
        print(f"  (waited {waited:.1f}s for queued requests to finish)")


@dataclass(frozen=True, slots=True)
class Profile:
    """py-spy recording a server process (and its workers) into `directory`, one file per endpoint."""

    directory: Path
    pid: int

    def path(self, name: str) -> Path:
        return self.directory / (re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_") + ".txt")

    @staticmethod
    def py_spy() -> str:
        return shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))

    def start(self, name: str, seconds: int) -> subprocess.Popen[bytes]:
        command = [
            self.py_spy(), "record", "--nonblocking", "--subprocesses", "--rate", "200", "--duration", str(seconds),
            "--format", "raw", "--output", str(self.path(name)), "--pid", str(self.pid),
        ]  # fmt: skip
        return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@dataclass(frozen=True, slots=True)
class Load:
    generator: str  # "wrk" or "python"
    duration: int
    warmup: int
    connections: int
    database_url: str = ""
    cpus: str | None = None  # where wrk runs (taskset -c), when pinned away from the server

    def measure(self, base_url: str, endpoint: Endpoint, profile: Profile | None = None) -> Stats:
        probe_ms = probe(base_url, endpoint)

        def run(base_url: str, endpoint: Endpoint, seconds: int, connections: int) -> Stats:
            if self.generator == "wrk":
                return run_wrk(base_url, endpoint, seconds, connections, self.cpus)
            return run_python(base_url, endpoint, seconds, connections)

        if self.warmup > 0:  # fills the pools and caches; its figures are thrown away
            run(base_url, endpoint, self.warmup, self.connections)
            wait_idle(self.database_url)
        recorder = profile.start(endpoint.name, self.duration) if profile is not None else None
        stats = run(base_url, endpoint, self.duration, self.connections)
        if recorder is not None:
            recorder.wait()
        wait_idle(self.database_url)
        stats.probe_ms = round(probe_ms, 2)
        print(
            f"  {endpoint.name:46} {stats.rps:8.0f} req/s  p50 {stats.p50_ms:7.2f} ms  p99 {stats.p99_ms:7.2f} ms"
            f"  (one request alone: {probe_ms:.1f} ms)"
        )
        if stats.completed == 0:
            print(f"  ! {endpoint.name}: no response within the {self.duration}s run", file=sys.stderr)
        return stats


# --- processes


@contextmanager
def baseline_server(database_url: str, workers: int, seeded: Seeded, log: Path) -> Iterator[str]:
    """bench/baseline_app.py under uvicorn with the server's worker count; yields its base URL."""
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "bench.baseline_app:app", "--port", str(port),
        "--workers", str(workers), "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    env = {
        **os.environ,
        "BENCH_BASELINE_DSN": to_plain_url(database_url),
        "BENCH_PLATFORM_ID": seeded.platform_id,
        "BENCH_SPREAD_PLATFORM_IDS": ",".join(seeded.spread_platform_ids),
        "PYTHONPATH": str(ROOT),
    }
    with serving(command, env=env, ready_url=f"http://127.0.0.1:{port}/row/{seeded.project_ids[0]}", log_path=log):
        yield f"http://127.0.0.1:{port}"


@contextmanager
def app_server(
    database_url: str,
    workers: int,
    run_dir: Path,
    extra_env: dict[str, str] | None = None,
    *,
    cpus: str | None = None,
    server: str = "uvicorn",
) -> Iterator[tuple[str, int]]:
    """`openpieces serve` (uvicorn), or the same app under granian; yields its base URL and the pid
    to profile (with --workers 1, the worker). `cpus`: pinned there with taskset."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "AP_DATABASE_URL": database_url, "AP_DATA_DIR": str(run_dir), **(extra_env or {})}
    command = [*openpieces_command(), "serve", "--port", str(port), "--workers", str(workers)]
    if server == "granian":
        granian = str(Path(sys.executable).with_name("granian"))
        command = [
            granian, "--interface", "asgi", "--factory", "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers), "--loop", "uvloop", "--no-ws", "--log-level", "warning",
            "app.main:create_app",
        ]  # fmt: skip
    if cpus is not None:
        command = ["taskset", "-c", cpus, *command]
    with serving(command, env=env, ready_url=f"{base_url}/v1/health", log_path=run_dir / f"server-{port}.log") as p:
        yield base_url, p.pid


# --- what is measured: each endpoint of the server beside the same work done by the baseline


@dataclass(frozen=True, slots=True)
class Pair:
    server: Endpoint
    baseline: Endpoint


@dataclass(frozen=True, slots=True)
class Files:
    project_ids: Path
    flow_ids: Path
    spread_tokens: Path


def write_files(seeded: Seeded, run_dir: Path) -> Files:
    files = Files(run_dir / "project_ids.txt", run_dir / "flow_ids.txt", run_dir / "spread_tokens.txt")
    files.project_ids.write_text("\n".join(seeded.project_ids) + "\n")
    files.flow_ids.write_text("\n".join(seeded.flow_ids) + "\n")
    files.spread_tokens.write_text("\n".join(seeded.spread_tokens) + "\n")
    return files


BY_ID = Endpoint("baseline: raw asyncpg by id", "/row/{id}", token="")
ADD_ACTION = (
    '{"type":"ADD_ACTION","request":{"parentStep":"trigger","action":{"name":"step_{n}","displayName":"Code",'
    '"type":"CODE","valid":true,"settings":{"sourceCode":{"code":"export const code = async () => 1",'
    '"packageJson":"{}"},"input":{}}}}}'
)
PROJECT_UPSERT = (
    '{"displayName":"Bench {n}","pieceName":"@activepieces/piece-slack","externalId":"bench-{n}",'
    '"type":"SECRET_TEXT","value":{"type":"SECRET_TEXT","secret_text":"s3cret"},"projectId":"{id}"}'
)
CREATE_FOLDER = '{"displayName":"Bench folder {n}","projectId":"{id}"}'
UPSERT = (
    '{"displayName":"Bench {n}","pieceName":"@activepieces/piece-slack","externalId":"bench-{n}",'
    '"type":"SECRET_TEXT","value":{"type":"SECRET_TEXT","secret_text":"s3cret"},"scope":"PLATFORM","projectIds":[]}'
)


def reads(seeded: Seeded, files: Files) -> list[Pair]:
    return [
        Pair(
            Endpoint("GET /v1/projects/{id}", "/v1/projects/{id}", files.project_ids),
            Endpoint("base: project by id", "/projects/{id}", files.project_ids, token=""),
        ),
        Pair(
            Endpoint("GET /v1/flows/{id}", "/v1/flows/{id}", files.flow_ids),
            Endpoint("base: flow by id", "/flows/{id}", files.flow_ids, token=""),
        ),
        *lists(seeded),
    ]


def lists(seeded: Seeded) -> list[Pair]:
    flows = f"/v1/flows?projectId={seeded.list_project_id}&limit={PAGE}"
    listed = [
        (f"GET /v1/projects?limit={PAGE}", f"/v1/projects?limit={PAGE}", seeded.deep_projects),
        (f"GET /v1/flows?projectId&limit={PAGE}", flows, seeded.deep_flows),
        (f"GET /v1/global-connections?limit={PAGE}", f"/v1/global-connections?limit={PAGE}", seeded.deep_connections),
        (
            f"GET /v1/folders?projectId&limit={PAGE}",
            f"/v1/folders?projectId={seeded.list_project_id}&limit={PAGE}",
            seeded.deep_folders,
        ),
        (
            f"GET /v1/app-connections?projectId&limit={PAGE}",
            f"/v1/app-connections?projectId={seeded.list_project_id}&limit={PAGE}",
            seeded.deep_project_connections,
        ),
        (f"GET /v1/users?limit={PAGE}", f"/v1/users?limit={PAGE}", seeded.deep_users),
        (
            f"GET /v1/project-members?projectId&limit={PAGE}",
            f"/v1/project-members?projectId={seeded.list_project_id}&limit={PAGE}",
            seeded.deep_members,
        ),
    ]
    pairs = []
    for name, path, deep in listed:
        for suffix, query in (("", ""), ("&cursor=<deep>", f"&cursor={deep}")):
            pairs.append(
                Pair(Endpoint(name + suffix, path + query), Endpoint("base: " + name + suffix, path + query, token=""))
            )
    return pairs


def writes(files: Files) -> list[Pair]:
    create = '{"displayName":"Bench project {n}"}'
    operation = '{"type":"CHANGE_NAME","request":{"displayName":"Renamed {n}"}}'
    return [
        Pair(
            Endpoint("POST /v1/projects (one platform)", "/v1/projects", method="POST", body=create),
            Endpoint("base: create project (one platform)", "/v1/projects", method="POST", body=create, token=""),
        ),
        Pair(
            Endpoint(
                f"POST /v1/projects ({SPREAD_PLATFORMS} platforms)",
                "/v1/projects",
                method="POST",
                body=create,
                tokens=files.spread_tokens,
            ),
            Endpoint(
                f"base: create project ({SPREAD_PLATFORMS} platforms)",
                "/v1/projects?spread=1",
                method="POST",
                body=create,
                token="",
            ),
        ),
        Pair(
            Endpoint(
                "POST /v1/flows",
                "/v1/flows",
                files.project_ids,
                method="POST",
                body='{"displayName":"Bench flow {n}","projectId":"{id}"}',
            ),
            Endpoint(
                "base: create flow",
                "/v1/flows",
                files.project_ids,
                method="POST",
                body='{"displayName":"Bench flow {n}","projectId":"{id}"}',
                token="",
            ),
        ),
        Pair(
            Endpoint(
                "POST /v1/flows/{id} CHANGE_NAME", "/v1/flows/{id}", files.flow_ids, method="POST", body=operation
            ),
            Endpoint("base: flow CHANGE_NAME", "/flows/{id}", files.flow_ids, method="POST", body=operation, token=""),
        ),
        Pair(
            Endpoint(
                "POST /v1/flows/{id} ADD_ACTION", "/v1/flows/{id}", files.flow_ids, method="POST", body=ADD_ACTION
            ),
            Endpoint("base: flow ADD_ACTION", "/flows/{id}", files.flow_ids, method="POST", body=ADD_ACTION, token=""),
        ),
        # Last: a published flow's next edit copies its version to a new draft, which is other work.
        Pair(
            Endpoint(
                "POST /v1/flows/{id} LOCK_AND_PUBLISH",
                "/v1/flows/{id}",
                files.flow_ids,
                method="POST",
                body='{"type":"LOCK_AND_PUBLISH","request":{}}',
            ),
            Endpoint(
                "base: flow LOCK_AND_PUBLISH",
                "/flows/{id}",
                files.flow_ids,
                method="POST",
                body='{"type":"LOCK_AND_PUBLISH","request":{}}',
                token="",
            ),
        ),
        Pair(
            Endpoint("POST /v1/global-connections", "/v1/global-connections", method="POST", body=UPSERT),
            Endpoint("base: upsert connection", "/v1/global-connections", method="POST", body=UPSERT, token=""),
        ),
        Pair(
            Endpoint("POST /v1/folders", "/v1/folders", files.project_ids, method="POST", body=CREATE_FOLDER),
            Endpoint(
                "base: create folder", "/v1/folders", files.project_ids, method="POST", body=CREATE_FOLDER, token=""
            ),
        ),
        Pair(
            Endpoint(
                "POST /v1/app-connections", "/v1/app-connections", files.project_ids, method="POST", body=PROJECT_UPSERT
            ),
            Endpoint(
                "base: upsert project connection",
                "/v1/app-connections",
                files.project_ids,
                method="POST",
                body=PROJECT_UPSERT,
                token="",
            ),
        ),
    ]


def check_deep_page(server_url: str, path: str) -> None:
    """A deep cursor must land on a full page at the end, or the figure would mean nothing."""
    page = httpx.get(
        server_url + path, headers={"Authorization": f"Bearer {BENCH_KEY}"}, timeout=REQUEST_TIMEOUT
    ).json()
    if len(page.get("data", [])) != PAGE or page.get("next") is not None or page.get("previous") is None:
        raise RuntimeError(f"the deep cursor of {path} does not reach the last page: {str(page)[:300]}")


def check_same_body(server_url: str, base_url: str, pair: Pair) -> None:
    """The baseline must answer the same bytes as the server, or it would not be the same work."""
    if pair.server.method != "GET":
        return
    row_id = pair.server.ids.read_text().split()[0] if pair.server.ids else ""
    ours = httpx.get(
        server_url + fill(pair.server.path, row_id, ""), headers=pair.server.headers(), timeout=REQUEST_TIMEOUT
    )
    theirs = httpx.get(base_url + fill(pair.baseline.path, row_id, ""), timeout=REQUEST_TIMEOUT)
    if ours.content != theirs.content:
        raise RuntimeError(
            f"{pair.baseline.name} does not answer what {pair.server.name} does:\n"
            f"{ours.content[:400]!r}\n{theirs.content[:400]!r}"
        )


# --- one measurement: a fresh database, both servers, R rounds over the endpoints


@dataclass
class Row:
    """One endpoint's medians over the rounds."""

    name: str
    server: Stats
    baseline: Stats
    vs_equal: float
    vs_by_id: float
    # Where one request's time goes: each part's share of the server's busy samples (bench/profile.py).
    breakdown: dict[str, float] | None = None
    busy: float | None = None  # the share of samples in which the server was busy, not idle


@dataclass
class Measurement:
    records: int
    by_id: Stats
    rows: list[Row]
    started: str = ""  # when, in UTC, and the load average (1, 5, 15 minutes) before and after
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)


def median_stats(runs: list[Stats]) -> Stats:
    return Stats(
        rps=statistics.median(s.rps for s in runs),
        p50_ms=statistics.median(s.p50_ms for s in runs),
        p99_ms=statistics.median(s.p99_ms for s in runs),
        non2xx=sum(s.non2xx for s in runs),
        socket_errors=sum(s.socket_errors for s in runs),
        completed=sum(s.completed for s in runs),
        probe_ms=runs[0].probe_ms,
    )


def measure(
    records: int, args: argparse.Namespace, load: Load, tmp: Path, choose: Callable[[Seeded, Files], list[Pair]]
) -> Measurement:
    run_dir = tmp / f"k{records}"
    run_dir.mkdir()
    started_at, load_before = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), os.getloadavg()
    with fresh_database() as database_url, ExitStack() as stack:
        started = time.monotonic()
        run_migrations(database_url)
        seeded = asyncio.run(seed(database_url, records))
        print(f"\nK={records}: seeded in {time.monotonic() - started:.1f}s")
        files = write_files(seeded, run_dir)
        by_id = replace(BY_ID, ids=files.project_ids)
        pairs = choose(seeded, files)

        base_url = stack.enter_context(baseline_server(database_url, args.workers, seeded, run_dir / "baseline.log"))
        server_url, server_pid = stack.enter_context(app_server(database_url, args.workers, run_dir))
        for pair in pairs:
            if "<deep>" in pair.server.name:
                check_deep_page(server_url, pair.server.path)
            check_same_body(server_url, base_url, pair)
        load = replace(load, database_url=database_url)
        profile_dir = args.profile / f"k{records}" if args.profile else run_dir / "profile"
        profile_dir.mkdir(parents=True, exist_ok=True)
        profile = None if args.no_profile else Profile(profile_dir, server_pid)

        by_id_runs: list[Stats] = []
        server_runs: dict[str, list[Stats]] = {p.server.name: [] for p in pairs}
        base_runs: dict[str, list[Stats]] = {p.server.name: [] for p in pairs}
        ratios: dict[str, list[tuple[float, float]]] = {p.server.name: [] for p in pairs}
        for round_ in range(args.repeat):
            print(f"round {round_ + 1} of {args.repeat}")
            # The by-id baseline before and after the endpoints: a machine that slows midway shows.
            first = load.measure(base_url, by_id)
            measured = []
            for pair in pairs:
                base = load.measure(base_url, pair.baseline)
                # Profile the first round only: py-spy takes some CPU from the figures it watches.
                ours = load.measure(server_url, pair.server, profile if round_ == 0 else None)
                measured.append((pair.server.name, base, ours))
            second = load.measure(base_url, by_id)
            by_id_round = (first.rps + second.rps) / 2
            by_id_runs += [first, second]
            for name, base, ours in measured:
                base_runs[name].append(base)
                server_runs[name].append(ours)
                ratios[name].append((ours.rps / base.rps if base.rps else 0, ours.rps / by_id_round))

    rows = []
    for name in server_runs:
        shares, busy = breakdown(profile.path(name)) if profile is not None else ({}, None)
        rows.append(
            Row(
                name,
                median_stats(server_runs[name]),
                median_stats(base_runs[name]),
                round(statistics.median(r[0] for r in ratios[name]), 3),
                round(statistics.median(r[1] for r in ratios[name]), 3),
                {part: round(share, 4) for part, share in shares.items()} or None,
                busy,
            )
        )
    loads = tuple(round(value, 2) for value in os.getloadavg())
    return Measurement(records, median_stats(by_id_runs), rows, started_at, load_before, loads)  # type: ignore[arg-type]


def measure_scaling(args: argparse.Namespace, load: Load, tmp: Path) -> dict[str, Any]:
    """By-id reads with 2 workers against 1, both in the same database, rounds interleaved."""
    run_dir = tmp / "scaling"
    run_dir.mkdir()
    figures: dict[int, dict[str, list[float]]] = {1: {}, 2: {}}
    with fresh_database() as database_url:
        run_migrations(database_url)
        seeded = asyncio.run(seed(database_url, args.records))
        files = write_files(seeded, run_dir)
        server_cpus, load_cpus = pinning()
        load = replace(load, database_url=database_url, cpus=load_cpus)
        endpoints = [p.server for p in reads(seeded, files)[:2]]
        for round_ in range(args.repeat):
            for workers in (1, 2):
                print(f"round {round_ + 1}: {workers} worker(s)")
                with app_server(database_url, workers, run_dir, cpus=server_cpus) as (server_url, _):
                    for endpoint in endpoints:
                        stats = load.measure(server_url, endpoint)
                        figures[workers].setdefault(endpoint.name, []).append(stats.rps)
    result: dict[str, Any] = {"server cpus": server_cpus, "load generator cpus": load_cpus}
    pinned = f"server on CPUs {server_cpus}, wrk on CPU {load_cpus}" if server_cpus else "not pinned: too few CPUs"
    taken = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    loads = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"\nby-id reads, 2 workers against 1, taken {taken}, load average {loads}")
    print(f"  (cpus={os.cpu_count()}, {pinned}, medians of {args.repeat} rounds)")
    for name in figures[1]:
        one, two = statistics.median(figures[1][name]), statistics.median(figures[2][name])
        result[name] = {"1 worker": one, "2 workers": two, "ratio": round(two / one, 2)}
        print(f"  {name:40} 1 worker {one:7.0f} req/s   2 workers {two:7.0f} req/s   {two / one:5.2f}x")
    return result


def pinning() -> tuple[str | None, str | None]:
    """Where the server and the load generator run for --scaling: wrk on the last CPU, the server's
    two workers on two others (PostgreSQL on what is left), so the workers do not share a CPU with
    the load. Needs 4 CPUs: with fewer, nothing is pinned (the figures then say so)."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 4 or not shutil.which("taskset"):
        return None, None
    return f"{cpus[0]},{cpus[1]}", str(cpus[-1])


def measure_servers(args: argparse.Namespace, load: Load, tmp: Path) -> dict[str, Any]:
    """The same app under uvicorn (as `openpieces serve` runs it) and under granian: the chosen
    endpoints (default: the by-id reads), one database, rounds interleaved, medians."""
    run_dir = tmp / "servers"
    run_dir.mkdir()
    servers = ("uvicorn", "granian")
    figures: dict[str, dict[str, list[Stats]]] = {server: {} for server in servers}
    with fresh_database() as database_url:
        run_migrations(database_url)
        seeded = asyncio.run(seed(database_url, args.records))
        files = write_files(seeded, run_dir)
        load = replace(load, database_url=database_url)
        base = [by_id_endpoint(files)]
        pairs = chooser(args.only)(seeded, files) if args.only else reads(seeded, files)[:2]
        with baseline_server(database_url, args.workers, seeded, run_dir / "baseline.log") as base_url:
            for round_ in range(args.repeat):
                figures.setdefault("baseline", {}).setdefault(BY_ID.name, []).append(load.measure(base_url, base[0]))
                for server in servers:
                    print(f"round {round_ + 1}: {server}")
                    with app_server(database_url, args.workers, run_dir, server=server) as (server_url, _):
                        for pair in pairs:
                            stats = load.measure(server_url, pair.server)
                            figures[server].setdefault(pair.server.name, []).append(stats)
    by_id = median_stats(figures["baseline"][BY_ID.name])
    print(
        f"\nuvicorn against granian, taken {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average"
        f" {' '.join(f'{v:.2f}' for v in os.getloadavg())}, workers={args.workers}, cpus={os.cpu_count()},"
        f" medians of {args.repeat} rounds; raw asyncpg by id {by_id.rps:.0f} req/s, p99 {by_id.p99_ms:.1f} ms"
    )
    print(f"  {'endpoint':46} {'server':8} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'vs by-id':>8}")
    result: dict[str, Any] = {"baseline": asdict(by_id)}
    for name in figures["uvicorn"]:
        result[name] = {}
        for server in servers:
            stats = median_stats(figures[server][name])
            result[name][server] = asdict(stats)
            print(
                f"  {name:46} {server:8} {stats.rps:7.0f} {stats.p50_ms:7.2f} {stats.p99_ms:7.2f}"
                f" {stats.rps / by_id.rps:8.2f}"
            )
    return result


def by_id_endpoint(files: Files) -> Endpoint:
    return replace(BY_ID, ids=files.project_ids)


def measure_pooler(args: argparse.Namespace, load: Load, tmp: Path) -> dict[str, Any]:
    """The by-id read and `POST /v1/projects`, straight on PostgreSQL and behind PgBouncer in
    transaction mode: one database, rounds interleaved, medians."""
    run_dir = tmp / "pooler"
    run_dir.mkdir()
    modes = ("direct", "pgbouncer")
    figures: dict[str, dict[str, list[Stats]]] = {mode: {} for mode in modes}
    with fresh_database() as database_url, pgbouncer(database_url, pool_size=args.pgbouncer_pool_size) as pooled_url:
        run_migrations(database_url)
        seeded = asyncio.run(seed(database_url, args.records))
        files = write_files(seeded, run_dir)
        load = replace(load, database_url=database_url)
        endpoints = [reads(seeded, files)[0].server, writes(files)[0].server]
        servers = {
            "direct": (database_url, None),
            "pgbouncer": (
                pooled_url,
                {"AP_DATABASE_POOLER": "transaction", "AP_DATABASE_DIRECT_URL": database_url},
            ),
        }
        for round_ in range(args.repeat):
            for mode in modes:
                url, extra_env = servers[mode]
                print(f"round {round_ + 1}: {mode}")
                with app_server(url, args.workers, run_dir, extra_env) as (server_url, _):
                    for endpoint in endpoints:
                        figures[mode].setdefault(endpoint.name, []).append(load.measure(server_url, endpoint))
    result: dict[str, Any] = {}
    print(
        f"\nstraight on PostgreSQL vs behind PgBouncer (transaction mode, default_pool_size="
        f"{args.pgbouncer_pool_size}), workers={args.workers}, cpus={os.cpu_count()}, medians of {args.repeat} rounds"
    )
    print(f"  {'endpoint':40} {'':10} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    for name in figures["direct"]:
        result[name] = {}
        for mode in modes:
            stats = median_stats(figures[mode][name])
            result[name][mode] = asdict(stats)
            print(f"  {name:40} {mode:10} {stats.rps:8.0f} {stats.p50_ms:8.2f} {stats.p99_ms:8.2f} {stats.non2xx:8d}")
        ratio = result[name]["pgbouncer"]["rps"] / result[name]["direct"]["rps"]
        result[name]["ratio"] = round(ratio, 2)
        print(f"  {'':40} {'ratio':10} {ratio:8.2f}")
    return result


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def measure_rss(args: argparse.Namespace, load: Load, tmp: Path) -> dict[str, Any]:
    """A worker's RSS after 1,000 requests and after 100,000, over a mix of every endpoint."""
    run_dir = tmp / "rss"
    run_dir.mkdir()
    with fresh_database() as database_url:
        run_migrations(database_url)
        seeded = asyncio.run(seed(database_url, args.records))
        files = write_files(seeded, run_dir)
        endpoints = [p.server for p in reads(seeded, files) + writes(files)]
        load = replace(load, database_url=database_url, warmup=0)
        run = run_wrk if load.generator == "wrk" else run_python
        with app_server(database_url, 1, run_dir) as (server_url, pid):
            sent = 0
            while sent < 1_000:  # one at a time, a few of each endpoint
                for endpoint in endpoints:
                    probe(server_url, endpoint)
                    sent += 1
            after_1k = rss_kib(pid)
            print(f"RSS after {sent:,} requests: {after_1k / 1024:.1f} MiB")
            while sent < 100_000:
                for endpoint in endpoints:
                    sent += run(server_url, endpoint, 2, load.connections).completed
                wait_idle(database_url)
                print(f"  {sent:,} requests: {rss_kib(pid) / 1024:.1f} MiB")
            after_100k = rss_kib(pid)
    growth = after_100k / after_1k - 1
    print(f"RSS after {sent:,} requests: {after_100k / 1024:.1f} MiB ({growth:+.1%} against 1,000)")
    return {"after_1000_kib": after_1k, "requests": sent, "after_requests_kib": after_100k, "growth": growth}


# --- output


def print_table(m: Measurement, args: argparse.Namespace, generator: str) -> None:
    before, after = (" ".join(f"{v:.2f}" for v in load) for load in (m.load_before, m.load_after))
    print(f"\ntaken {m.started}, load average (1, 5, 15 min) {before} before and {after} after")
    print(
        f"workers={args.workers} records={m.records} duration={args.duration}s connections={args.connections}"
        f" load={generator} cpus={os.cpu_count()} medians of {args.repeat} rounds"
    )
    print(
        f"{'endpoint':46} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'base/s':>7} {'base p99':>8}"
        f" {'vs equal':>8} {'vs by-id':>8} {'failed':>6}"
    )
    b = m.by_id
    print(f"{BY_ID.name:46} {b.rps:7.0f} {b.p50_ms:7.2f} {b.p99_ms:7.2f} {'':>7} {'':>8} {'':>8} {1:8.2f} {0:6d}")
    for row in m.rows:
        s, base = row.server, row.baseline
        failed = s.non2xx + s.socket_errors + base.non2xx + base.socket_errors
        print(
            f"{row.name:46} {s.rps:7.0f} {s.p50_ms:7.2f} {s.p99_ms:7.2f} {base.rps:7.0f} {base.p99_ms:8.2f}"
            f" {row.vs_equal:8.2f} {row.vs_by_id:8.2f} {failed:6d}"
        )
    print_breakdown(m)


def print_breakdown(m: Measurement) -> None:
    """Where one request's time goes, from the py-spy profile of round 1: each part's share of the
    server's busy time, and that share of one request's time (busy time / requests per second)."""
    profiled = [row for row in m.rows if row.breakdown]
    if not profiled:
        return
    parts = list(profiled[0].breakdown or {})
    short = [part.split(":")[0].split(" (")[0] for part in parts]
    print("\nwhere one request's time goes (py-spy, round 1): % of the server's busy time / us per request")
    print(f"{'endpoint':46} {'us/req':>7} " + " ".join(f"{name:>15}" for name in short))
    for row in profiled:
        busy_us = (row.busy or 1.0) * 1e6 / row.server.rps if row.server.rps else 0.0
        cells = [f"{100 * share:4.0f}% / {share * busy_us:5.0f}" for share in (row.breakdown or {}).values()]
        print(f"{row.name:46} {busy_us:7.0f} " + " ".join(f"{cell:>15}" for cell in cells))
    print("  (parts: " + "; ".join(parts) + ")")


def print_sizes_table(measurements: list[Measurement]) -> None:
    """One row per endpoint, one column per K: flat numbers across a row mean cost does not grow with K."""
    print("\np50 / p99 ms (ratio to equal-work baseline / to by-id baseline) by number of records K")
    header = "".join(f"{'K=' + format(m.records, ','):>34}" for m in measurements)
    print(f"{'endpoint':46}{header}")
    for i, row in enumerate(measurements[0].rows):
        cells = []
        for m in measurements:
            r = m.rows[i]
            cells.append(f"{r.server.p50_ms:.1f} / {r.server.p99_ms:.1f} ({r.vs_equal:.2f} / {r.vs_by_id:.2f})")
        print(f"{row.name:46}" + "".join(f"{cell:>34}" for cell in cells))


def parse_sizes(value: str) -> list[int]:
    return [int(part.replace("_", "")) for part in value.split(",") if part.strip()]


def chooser(only: str | None) -> Callable[[Seeded, Files], list[Pair]]:
    """The endpoints `--only` names: a group, or those whose name holds one of the comma-separated parts."""
    groups: dict[str | None, Callable[[Seeded, Files], list[Pair]]] = {
        None: lambda seeded, files: reads(seeded, files) + writes(files),
        "reads": reads,
        "writes": lambda seeded, files: writes(files),
        "lists": lambda seeded, files: lists(seeded),
    }
    if only in groups:
        return groups[only]
    parts = [part.strip() for part in (only or "").split(",") if part.strip()]

    def matching(seeded: Seeded, files: Files) -> list[Pair]:
        pairs = [p for p in groups[None](seeded, files) if any(part in p.server.name for part in parts)]
        if not pairs:
            sys.exit(f"--only {only}: no endpoint's name holds any of {parts}")
        return pairs

    return matching


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=1, help="server (and baseline) worker processes")
    parser.add_argument(
        "--records", "--projects", dest="records", type=int, default=10_000, help="projects, flows and connections"
    )
    parser.add_argument("--duration", type=int, default=5, help="seconds measured per endpoint")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load before each measurement")
    parser.add_argument("--connections", type=int, default=32, help="concurrent HTTP connections")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the table shows medians")
    parser.add_argument("--sizes", type=parse_sizes, help="e.g. 1000,10000,100000: the lists at each K")
    parser.add_argument(
        "--only",
        help="measure only these endpoints: reads, writes, lists, or comma-separated parts of endpoint names"
        " (e.g. folders,app-connections)",
    )
    parser.add_argument(
        "--profile", type=Path, help="keep the py-spy recordings of the server in this directory (default: a temp one)"
    )
    parser.add_argument("--no-profile", action="store_true", help="no py-spy recording, no time breakdown")
    parser.add_argument("--scaling", action="store_true", help="by-id reads: 2 workers against 1")
    parser.add_argument(
        "--servers", action="store_true", help="the same app under uvicorn and under granian (by-id reads, or --only)"
    )
    parser.add_argument("--rss", action="store_true", help="a worker's RSS after 1,000 and 100,000 requests")
    parser.add_argument("--load", choices=["auto", "wrk", "python"], default="auto", help="load generator")
    parser.add_argument(
        "--pgbouncer", action="store_true", help="by-id read and POST /v1/projects: direct vs behind PgBouncer"
    )
    parser.add_argument("--pgbouncer-pool-size", type=int, default=20, help="PgBouncer's default_pool_size")
    args = parser.parse_args()

    generator = args.load if args.load != "auto" else ("wrk" if shutil.which("wrk") else "python")
    if generator == "wrk" and not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install wrk (or --load python)")
    load = Load(generator, args.duration, args.warmup, args.connections)
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    if not args.no_profile and not Path(Profile.py_spy()).exists():
        print("py-spy not found (pip install -e '.[bench]'): no time breakdown", file=sys.stderr)
        args.no_profile = True

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="ap-bench-"))
    report: dict[str, Any] = {
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "load_generator": generator,
        "cpus": os.cpu_count(),
    }
    measurements: list[Measurement] = []
    if args.pgbouncer:
        report["pgbouncer"] = measure_pooler(args, load, tmp)
    elif args.servers:
        report["servers"] = measure_servers(args, load, tmp)
    elif args.scaling:
        report["scaling"] = measure_scaling(args, load, tmp)
    elif args.rss:
        report["rss"] = measure_rss(args, load, tmp)
    else:
        choose = chooser(args.only if not args.sizes else "lists")
        for records in args.sizes or [args.records]:
            measurements.append(measure(records, args, load, tmp, choose))
            print_table(measurements[-1], args, generator)
        if args.sizes:
            print_sizes_table(measurements)
        report["runs"] = [asdict(m) for m in measurements]
    if args.profile:
        for path in sorted(args.profile.rglob("*.txt")):
            print("\n" + summarise(path, 10))

    kinds = {
        "pgbouncer": args.pgbouncer,
        "servers": args.servers,
        "scaling": args.scaling,
        "rss": args.rss,
        "sizes": bool(args.sizes),
    }
    kind = next((name for name, chosen in kinds.items() if chosen), "endpoints")
    out = RESULTS_DIR / f"bench-{kind}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"\nwritten: {out}")

    failed = any(s.non2xx or s.socket_errors for m in measurements for r in m.rows for s in (r.server, r.baseline))
    if failed:  # keep the server logs to find out why
        print(f"some requests failed; server logs kept in {tmp}", file=sys.stderr)
        sys.exit(1)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
