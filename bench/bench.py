"""Benchmark: the real server against a raw-asyncpg baseline measured in the same run.

    bench/run [--workers N] [--records K] [--duration S] [--connections C] [--sizes K1,K2,...]

Each measurement gets a fresh database seeded with K projects, K flows (one version each) and K
global connections. Without --sizes every endpoint is measured once at K = --records; with
--sizes the by-id and deep-page reads are measured at each K, to show latency does not grow with K.

Prints a table (requests/s, p50/p99 latency, ratio to the baseline's requests/s, non-2xx answers)
and writes JSON to bench/results/. Load comes from `wrk` (Debian: apt-get install wrk); without it,
from a small asyncio + httpx generator (slower: it shares the CPUs with the server)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, replace
from itertools import count
from pathlib import Path
from typing import Any

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.db import run_migrations, to_plain_url  # noqa: E402
from app.pagination import Cursor  # noqa: E402
from app.testing import serving  # noqa: E402
from tests.pg import fresh_database  # noqa: E402
from tests.processes import free_port, running_server  # noqa: E402

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
    project_ids: list[str]
    flow_ids: list[str]
    deep_cursor: str


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
    INSERT INTO project_member (id, platform_id, project_id, user_id, project_role)
    SELECT substr(md5('member' || id), 1, 21), platform_id, id, owner_id, 'ADMIN'
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


async def seed(database_url: str, records: int) -> Seeded:
    from app.db import Database
    from app.projects.provisioning import PlatformProvisioning

    db = Database(database_url, pool_size=1, max_overflow=0)
    # ENTERPRISE: no team-project limit, so POST /v1/projects keeps succeeding.
    created = await PlatformProvisioning(db).create_platform("Bench", "ENTERPRISE", api_key=BENCH_KEY)
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
        await conn.execute("VACUUM ANALYZE")  # settle the new rows now, not while measuring
        project_ids = [r["id"] for r in await conn.fetch("SELECT id FROM project WHERE platform_id = $1", platform_id)]
        flow_ids = [
            r["id"]
            for r in await conn.fetch(
                "SELECT f.id FROM flow f JOIN project p ON p.id = f.project_id WHERE p.platform_id = $1", platform_id
            )
        ]
        # The list is newest first on (created, id); a cursor made from the row PAGE + 1 from the end
        # asks for the last full page, built the way the server builds its `next` cursors.
        total = await conn.fetchval("SELECT count(*) FROM project WHERE platform_id = $1", platform_id)
        anchor = await conn.fetchrow(
            "SELECT created, id FROM project WHERE platform_id = $1 ORDER BY created DESC, id DESC OFFSET $2 LIMIT 1",
            platform_id,
            max(total - PAGE - 1, 0),
        )
    finally:
        await conn.close()
    return Seeded(project_ids, flow_ids, Cursor("next", anchor["created"], anchor["id"]).encode())


# --- load


@dataclass(frozen=True, slots=True)
class Endpoint:
    name: str
    path: str  # "{id}" becomes a random id from `ids`, "{n}" a number unique to the run
    ids: Path | None = None
    method: str = "GET"
    body: str | None = None
    token: str = BENCH_KEY

    def headers(self) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
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


def run_wrk(base_url: str, endpoint: Endpoint, seconds: int, connections: int) -> Stats:
    env = {
        **os.environ,
        "METHOD": endpoint.method,
        "PATH_TEMPLATE": endpoint.path,
        "BODY_TEMPLATE": endpoint.body or "",
        "IDS_FILE": str(endpoint.ids or ""),
        "BENCH_TOKEN": endpoint.token,
    }
    # One thread: the Lua counter behind "{n}" must be shared, and wrk needs little CPU at this rate.
    # A long timeout: a slow endpoint should show as high latency, not as requests wrk gave up on.
    command = [
        "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", f"{REQUEST_TIMEOUT}s", "--latency",
        "-s", str(LUA_SCRIPT), base_url,
    ]  # fmt: skip
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
    headers = endpoint.headers()
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits, timeout=REQUEST_TIMEOUT) as client:
        started = time.perf_counter()
        deadline = started + seconds

        async def user() -> None:
            nonlocal non2xx, socket_errors
            while (sent := time.perf_counter()) < deadline:
                row_id, n = random.choice(ids), f"{tag}-{next(counter)}"
                body = fill(endpoint.body, row_id, n) if endpoint.body is not None else None
                try:
                    response = await client.request(endpoint.method, fill(endpoint.path, row_id, n), content=body)
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
        base_url + fill(endpoint.path, row_id, f"probe-{time.time_ns():x}"),
        content=fill(endpoint.body, row_id, f"probe-{time.time_ns():x}") if endpoint.body is not None else None,
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
class Load:
    generator: str  # "wrk" or "python"
    duration: int
    warmup: int
    connections: int
    database_url: str = ""

    def measure(self, base_url: str, endpoint: Endpoint) -> Stats:
        probe_ms = probe(base_url, endpoint)
        run = run_wrk if self.generator == "wrk" else run_python
        if self.warmup > 0:  # fills the pools and caches; its figures are thrown away
            run(base_url, endpoint, self.warmup, self.connections)
            wait_idle(self.database_url)
        stats = run(base_url, endpoint, self.duration, self.connections)
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
def baseline_server(database_url: str, workers: int, sample_id: str, log: Path) -> Iterator[str]:
    """bench/baseline_app.py under uvicorn with the server's worker count; yields its base URL."""
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "bench.baseline_app:app", "--port", str(port),
        "--workers", str(workers), "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    env = {**os.environ, "BENCH_BASELINE_DSN": to_plain_url(database_url), "PYTHONPATH": str(ROOT)}
    with serving(command, env=env, ready_url=f"http://127.0.0.1:{port}/row/{sample_id}", log_path=log):
        yield f"http://127.0.0.1:{port}"


# --- one measurement: a fresh database, both servers, a list of endpoints


@dataclass
class Measurement:
    records: int
    baseline: Stats
    results: dict[str, Stats]


def endpoints_for(seeded: Seeded, project_ids: Path, flow_ids: Path, *, sizes_only: bool) -> list[Endpoint]:
    by_id = [
        Endpoint("GET /v1/projects/{id}", "/v1/projects/{id}", project_ids),
        Endpoint("GET /v1/flows/{id}", "/v1/flows/{id}", flow_ids),
    ]
    deep = Endpoint(
        f"GET /v1/projects?limit={PAGE}&cursor=<deep>", f"/v1/projects?limit={PAGE}&cursor={seeded.deep_cursor}"
    )
    if sizes_only:
        return [*by_id, deep]
    return [
        by_id[0],
        Endpoint(f"GET /v1/projects?limit={PAGE}", f"/v1/projects?limit={PAGE}"),
        deep,
        by_id[1],
        Endpoint("GET /v1/global-connections", "/v1/global-connections"),
        # Writes last, so the reads above see exactly the seeded rows.
        Endpoint("POST /v1/projects", "/v1/projects", method="POST", body='{"displayName":"Bench project {n}"}'),
        Endpoint(
            "POST /v1/flows/{id} CHANGE_NAME",
            "/v1/flows/{id}",
            flow_ids,
            method="POST",
            body='{"type":"CHANGE_NAME","request":{"displayName":"Renamed {n}"}}',
        ),
    ]


def check_deep_page(server_url: str, cursor: str) -> None:
    """The deep cursor must land on a full page near the end, or the figure would mean nothing."""
    page = httpx.get(
        f"{server_url}/v1/projects",
        params={"limit": PAGE, "cursor": cursor},
        headers={"Authorization": f"Bearer {BENCH_KEY}"},
    ).json()
    if len(page.get("data", [])) != PAGE or page.get("next") is not None or page.get("previous") is None:
        raise RuntimeError(f"the deep cursor does not reach the last page: {str(page)[:300]}")


def measure(records: int, args: argparse.Namespace, load: Load, tmp: Path, *, sizes_only: bool) -> Measurement:
    run_dir = tmp / f"k{records}"
    run_dir.mkdir()
    with fresh_database() as database_url, ExitStack() as stack:
        started = time.monotonic()
        run_migrations(database_url)
        seeded = asyncio.run(seed(database_url, records))
        print(f"\nK={records}: seeded in {time.monotonic() - started:.1f}s")
        project_ids, flow_ids = run_dir / "project_ids.txt", run_dir / "flow_ids.txt"
        project_ids.write_text("\n".join(seeded.project_ids) + "\n")
        flow_ids.write_text("\n".join(seeded.flow_ids) + "\n")

        base_url = stack.enter_context(
            baseline_server(database_url, args.workers, seeded.project_ids[0], run_dir / "baseline.log")
        )
        server_env = {"AP_DATABASE_URL": database_url, "AP_DATA_DIR": str(run_dir)}
        server_url = stack.enter_context(running_server(server_env, workers=args.workers))
        check_deep_page(server_url, seeded.deep_cursor)
        load = replace(load, database_url=database_url)

        baseline = Endpoint("baseline: raw asyncpg by id", "/row/{id}", project_ids, token="")
        # Baseline before and after the server's endpoints: a machine that slows down midway shows.
        first = load.measure(base_url, baseline)
        results = {
            e.name: load.measure(server_url, e)
            for e in endpoints_for(seeded, project_ids, flow_ids, sizes_only=sizes_only)
        }
        second = load.measure(base_url, baseline)

    combined = Stats(
        rps=(first.rps + second.rps) / 2,
        p50_ms=(first.p50_ms + second.p50_ms) / 2,
        p99_ms=max(first.p99_ms, second.p99_ms),
        non2xx=first.non2xx + second.non2xx,
        socket_errors=first.socket_errors + second.socket_errors,
        completed=first.completed + second.completed,
        probe_ms=first.probe_ms,
        ratio=1.0,
    )
    for stats in results.values():
        stats.ratio = round(stats.rps / combined.rps, 3)
    return Measurement(records, combined, results)


# --- output


def print_table(m: Measurement, args: argparse.Namespace, generator: str) -> None:
    print(
        f"\nworkers={args.workers} records={m.records} duration={args.duration}s connections={args.connections}"
        f" load={generator} cpus={os.cpu_count()}"
    )
    print(
        f"{'endpoint':46} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'vs base':>8} {'non-2xx':>8} {'sock err':>8}"
        f" {'alone ms':>9}"
    )
    for name, row in {"baseline: raw asyncpg by id": m.baseline, **m.results}.items():
        # No response during the run means no latency figure, not a latency of 0.
        p50, p99 = (f"{row.p50_ms:8.2f}", f"{row.p99_ms:8.2f}") if row.completed else (f"{'-':>8}", f"{'-':>8}")
        print(
            f"{name:46} {row.rps:8.0f} {p50} {p99} {row.ratio or 0:8.2f}"
            f" {row.non2xx:8d} {row.socket_errors:8d} {row.probe_ms or 0:9.1f}"
        )


def print_sizes_table(measurements: list[Measurement]) -> None:
    """One row per endpoint, one column per K: flat numbers across a row mean cost does not grow with K."""
    print("\np50 / p99 ms (req/s as a ratio of the baseline) by number of records K")
    header = "".join(f"{'K=' + format(m.records, ','):>26}" for m in measurements)
    print(f"{'endpoint':46}{header}")
    names = ["baseline: raw asyncpg by id", *measurements[0].results]
    for name in names:
        cells = []
        for m in measurements:
            row = m.baseline if name == names[0] else m.results[name]
            cells.append(f"{row.p50_ms:.2f} / {row.p99_ms:.2f} ({row.ratio or 0:.2f}x)")
        print(f"{name:46}" + "".join(f"{cell:>26}" for cell in cells))


def parse_sizes(value: str) -> list[int]:
    return [int(part.replace("_", "")) for part in value.split(",") if part.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=1, help="server (and baseline) worker processes")
    parser.add_argument(
        "--records", "--projects", dest="records", type=int, default=10_000, help="projects, flows and connections"
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds measured per endpoint")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load before each measurement")
    parser.add_argument("--connections", type=int, default=32, help="concurrent HTTP connections")
    parser.add_argument("--sizes", type=parse_sizes, help="e.g. 1000,10000,100000: by-id and deep-page reads at each K")
    parser.add_argument("--load", choices=["auto", "wrk", "python"], default="auto", help="load generator")
    args = parser.parse_args()

    generator = args.load if args.load != "auto" else ("wrk" if shutil.which("wrk") else "python")
    if generator == "wrk" and not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install wrk (or --load python)")
    load = Load(generator, args.duration, args.warmup, args.connections)

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="ap-bench-"))
    measurements: list[Measurement] = []
    for records in args.sizes or [args.records]:
        measurements.append(measure(records, args, load, tmp, sizes_only=bool(args.sizes)))
        print_table(measurements[-1], args, generator)
    if args.sizes:
        print_sizes_table(measurements)

    out = RESULTS_DIR / f"bench-{'sizes-' if args.sizes else ''}{time.strftime('%Y%m%d-%H%M%S')}.json"
    report = {
        "args": vars(args),
        "load_generator": generator,
        "cpus": os.cpu_count(),
        "runs": [
            {
                "records": m.records,
                "baseline": asdict(m.baseline),
                "results": {name: asdict(stats) for name, stats in m.results.items()},
            }
            for m in measurements
        ],
    }
    out.write_text(json.dumps(report, indent=2))
    print(f"\nwritten: {out}")

    failed = any(s.non2xx or s.socket_errors for m in measurements for s in [m.baseline, *m.results.values()])
    if failed:  # keep the server logs to find out why
        print(f"some requests failed; server logs kept in {tmp}", file=sys.stderr)
        sys.exit(1)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
