"""A real PostgreSQL for the tests: the one at AP_TEST_DATABASE_URL (or 127.0.0.1:5432), else an
embedded one from the `pgserver` wheel in a temp dir. Every run gets its own fresh database."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg

from app.db import to_async_url, to_plain_url

LOCAL_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


async def _can_connect(url: str) -> bool:
    try:
        conn = await asyncpg.connect(url, timeout=3)
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    await conn.close()
    return True


async def _execute(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _with_database(url: str, name: str) -> str:
    """Same server, another database (keeps any `?host=` of a unix-socket URL)."""
    base, _, query = url.partition("?")
    server = base.rsplit("/", 1)[0]
    return f"{server}/{name}" + (f"?{query}" if query else "")


@contextmanager
def fresh_database() -> Iterator[str]:
    """Yields a `postgresql+asyncpg://` URL of a new, empty database; drops it afterwards."""
    explicit = os.environ.get("AP_TEST_DATABASE_URL")
    embedded = None
    tmp_dir = None
    if explicit:
        server_url = to_plain_url(to_async_url(explicit))
    elif asyncio.run(_can_connect(LOCAL_SERVER_URL)):
        server_url = LOCAL_SERVER_URL
    else:
        import pgserver

        tmp_dir = tempfile.mkdtemp(prefix="ap-pg-")
        embedded = pgserver.get_server(tmp_dir, cleanup_mode="stop")
        server_url = embedded.get_uri()

    name = f"openpieces_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_execute(server_url, f'CREATE DATABASE "{name}"'))
    try:
        yield to_async_url(_with_database(server_url, name))
    finally:
        try:
            asyncio.run(_execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            if embedded is not None:
                embedded.cleanup()
            if tmp_dir is not None:
                shutil.rmtree(tmp_dir, ignore_errors=True)
