"""Benchmark: the real server against a raw-asyncpg baseline measured in the same run.

    bench/run [--workers N] [--projects K] [--duration S] [--connections C]

Prints a table (requests/s, p50/p99 latency, ratio to the baseline) and writes JSON to bench/results/.
Needs `wrk` (Debian: apt-get install wrk)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.db import run_migrations, to_plain_url  # noqa: E402
from tests.pg import fresh_database  # noqa: E402
from tests.processes import free_port, openpieces_command  # noqa: E402

BENCH_KEY = "sk-bench-" + "k" * 40


async def seed(database_url: str, projects: int) -> tuple[list[str], str]:
    from app.config import Settings  # noqa: F401  (imported for side-effect-free settings)
    from app.db import Database
    from app.platforms.service import PlatformService

    db = Database(database_url, pool_size=1, max_overflow=0)
    created = await PlatformService(db).create_platform("Bench", "ENTERPRISE", api_key=BENCH_KEY)
    await db.dispose()
    conn = await asyncpg.connect(to_plain_url(database_url))
    try:
        await conn.execute(
            """
            INSERT INTO project (id, created, updated, platform_id, owner_id, display_name, type, external_id,
                                 metadata, releases_enabled, icon_color, notify_status)
            SELECT substr(md5(random()::text || g::text), 1, 21), now() - g * interval '1 second', now(),
                   $1, $2, 'Project ' || g, 'TEAM', 'ext-' || g, '{"seed": true}'::jsonb, false, 'BLUE', 'NEVER'
            FROM generate_series(1, $3::int) AS g
            """,
            created.platform_id,
            created.owner_id,
            projects,
        )
        await conn.execute(
            """
            INSERT INTO project_plan (id, project_id, name, locked, pieces_filter_type, pieces)
            SELECT substr(md5('plan' || id), 1, 21), id, 'platform', false, 'NONE', '{}'
            FROM project WHERE platform_id = $1 AND type = 'TEAM'
            """,
            created.platform_id,
        )
        await conn.execute(
            """
            INSERT INTO project_member (id, platform_id, project_id, user_id, project_role)
            SELECT substr(md5('member' || id), 1, 21), platform_id, id, owner_id, 'ADMIN'
            FROM project WHERE platform_id = $1 AND type = 'TEAM'
            """,
            created.platform_id,
        )
        await conn.execute("ANALYZE")
        ids = [r["id"] for r in await conn.fetch("SELECT id FROM project WHERE platform_id = $1", created.platform_id)]
    finally:
        await conn.close()
    return ids, created.platform_id


def start(cmd: list[str], env: dict[str, str], health_url: str, log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    process = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=handle, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{cmd} exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(health_url, timeout=1).status_code < 500:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{cmd} did not start")


WRK_LINE = re.compile(r"^\s*(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, path_template: str, ids_file: Path, duration: int, connections: int, token: str) -> dict:
    env = {**os.environ, "PATH_TEMPLATE": path_template, "IDS_FILE": str(ids_file), "BENCH_TOKEN": token}
    script = str(ROOT / "bench" / "random_path.lua")
    base = ["wrk", "-t1", f"-c{connections}", "--latency", "-s", script, url]
    subprocess.run([*base[:3], "-d2s", *base[3:]], env=env, capture_output=True, check=True)  # warm-up
    out = subprocess.run([*base[:3], f"-d{duration}s", *base[3:]], env=env, capture_output=True, text=True, check=True)
    text = out.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
    latencies = {m.group(1): _ms(m.group(2), m.group(3)) for m in WRK_LINE.finditer(text)}
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    return {
        "rps": rps,
        "p50_ms": latencies.get("50"),
        "p99_ms": latencies.get("99"),
        "non2xx": int(errors.group(1)) if errors else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install wrk")

    results_dir = ROOT / "bench" / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="ap-bench-"))
    with ExitStack() as stack, fresh_database() as database_url:
        run_migrations(database_url)
        ids, _ = asyncio.run(seed(database_url, args.projects))
        ids_file = tmp / "ids.txt"
        ids_file.write_text("\n".join(ids) + "\n")

        base_port, app_port = free_port(), free_port()
        baseline = start(
            [sys.executable, "-m", "uvicorn", "bench.baseline_app:app", "--port", str(base_port),
             "--workers", str(args.workers), "--no-access-log", "--log-level", "warning"],
            {"BENCH_BASELINE_DSN": to_plain_url(database_url), "PYTHONPATH": str(ROOT)},
            f"http://127.0.0.1:{base_port}/row/{ids[0]}",
            tmp / "baseline.log",
        )  # fmt: skip
        stack.callback(lambda: (baseline.terminate(), baseline.wait()))
        server = start(
            [*openpieces_command(), "serve", "--port", str(app_port), "--workers", str(args.workers)],
            {"AP_DATABASE_URL": database_url, "AP_DATA_DIR": str(tmp)},
            f"http://127.0.0.1:{app_port}/v1/health",
            tmp / "server.log",
        )
        stack.callback(lambda: (server.terminate(), server.wait()))

        run = lambda port, path, token="": wrk(  # noqa: E731
            f"http://127.0.0.1:{port}", path, ids_file, args.duration, args.connections, token
        )
        rows: dict[str, dict] = {}
        first_baseline = run(base_port, "/row/{id}")
        rows["GET /v1/projects/{id}"] = run(app_port, "/v1/projects/{id}", BENCH_KEY)
        rows["GET /v1/projects?limit=50"] = run(app_port, "/v1/projects?limit=50", BENCH_KEY)
        second_baseline = run(base_port, "/row/{id}")
        baseline_rps = (first_baseline["rps"] + second_baseline["rps"]) / 2
        rows = {
            "baseline: raw asyncpg by id": {**first_baseline, "rps": baseline_rps,
                                            "p99_ms": max(first_baseline["p99_ms"], second_baseline["p99_ms"])},
            **rows,
        }  # fmt: skip

    print(f"\nworkers={args.workers} projects={args.projects} duration={args.duration}s connections={args.connections}")
    print(f"{'endpoint':34} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'vs base':>8} {'non-2xx':>8}")
    for name, row in rows.items():
        row["ratio"] = round(row["rps"] / baseline_rps, 3)
        print(
            f"{name:34} {row['rps']:9.0f} {row['p50_ms']:8.2f} {row['p99_ms']:8.2f}"
            f" {row['ratio']:8.2f} {row['non2xx']:8d}"
        )
    out = results_dir / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({"args": vars(args), "results": rows}, indent=2))
    print(f"\nwritten: {out}")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
