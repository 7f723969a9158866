"""How long a snapshot restore takes: a platform of K projects, K flows (one version each) and K
global connections (each linked to a project), plus bench/bench.py's list rows, restored:

- over itself (the platform replaced, in one transaction),
- into a fresh, empty database (a whole-server restore),
- into a fresh database with another encryption key (every secret opened and sealed again).

    .venv/bin/python bench/snapshot_restore.py [--records K] [--repeat R]

Each figure is the median of R runs of the restore itself (checks, deletes, bulk inserts, commit),
in process, on the test PostgreSQL (AP_TEST_DATABASE_URL, else the local server, else an embedded one).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.admin.snapshot import SnapshotService  # noqa: E402
from app.app_connections.service import secret_context  # noqa: E402
from app.kit.crypto import SecretBox, decode_key, new_encoded_key  # noqa: E402
from app.kit.db import Database, run_migrations, to_plain_url  # noqa: E402
from bench.bench import seed  # noqa: E402
from tests.pg import fresh_database  # noqa: E402

SECRET = {"type": "SECRET_TEXT", "secret_text": "xoxb-bench"}


async def seal_every_connection(database_url: str, secrets: SecretBox) -> int:
    """bench/bench.py's connections hold a placeholder: seal a real secret into each."""
    conn = await asyncpg.connect(to_plain_url(database_url))
    try:
        rows = await conn.fetch("SELECT id, platform_id, project_id, external_id FROM app_connection")
        sealed = [
            (secrets.seal(SECRET, secret_context(r["platform_id"], r["external_id"], r["project_id"])), r["id"])
            for r in rows
        ]
        await conn.executemany("UPDATE app_connection SET value_encrypted = $1 WHERE id = $2", sealed)
        return len(sealed)
    finally:
        await conn.close()


async def timed(repeat: int, action: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    timings, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = await action()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), result


async def measure(source_url: str, target_url: str, records: int, repeat: int) -> None:
    key, other_key = new_encoded_key(), new_encoded_key()
    secrets, other_secrets = SecretBox(decode_key(key)), SecretBox(decode_key(other_key))
    seeded = await seed(source_url, records)
    connections = await seal_every_connection(source_url, secrets)
    source, target = Database(source_url, pool_size=2), Database(target_url, pool_size=2)
    try:
        service = SnapshotService(source, secrets)
        export_ms, snapshot = await timed(repeat, lambda: service.export(seeded.platform_id))
        document = orjson.loads(snapshot)
        rows = sum(len(table) for table in document["tables"].values())
        counts = {name: len(document["tables"][name]) for name in ("project", "flow", "app_connection")}
        print(
            f"platform: {counts} ({rows} rows in all, {connections} sealed secrets); snapshot {len(snapshot):,} bytes"
        )
        print(f"export:                                     {export_ms:8.1f} ms")

        def fresh_copy() -> Any:  # a restore may change the rows it is given (resealing)
            return orjson.loads(snapshot)

        replace_ms, _ = await timed(repeat, lambda: service.restore(fresh_copy(), platform_id=seeded.platform_id))
        print(f"restore over itself (platform replaced):    {replace_ms:8.1f} ms")
        fresh = SnapshotService(target, secrets)
        fresh_ms, _ = await timed(repeat, lambda: fresh.restore(fresh_copy()))
        print(f"restore into an empty server (same key):    {fresh_ms:8.1f} ms")
        rekeyed = SnapshotService(target, other_secrets)
        reseal_ms, result = await timed(repeat, lambda: rekeyed.restore(fresh_copy(), source_key=key))
        print(f"restore under another key ({result['resealedSecrets']} resealed): {reseal_ms:8.1f} ms")
    finally:
        await source.dispose()
        await target.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    with fresh_database() as source_url, fresh_database() as target_url:
        run_migrations(source_url)
        run_migrations(target_url)
        asyncio.run(measure(source_url, target_url, options.records, options.repeat))


if __name__ == "__main__":
    main()
