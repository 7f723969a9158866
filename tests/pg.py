"""A real PostgreSQL for the tests: the one at AP_TEST_DATABASE_URL (or 127.0.0.1:5432), else an
embedded one from the `pgserver` wheel in a temp dir. Every run gets its own fresh database."""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg

from app.kit.db import describe_database_url, import_pgserver, to_async_url, to_plain_url

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


@functools.cache
def chosen_server() -> str | None:
    """The PostgreSQL server the tests use: AP_TEST_DATABASE_URL, else the local one when it
    answers; None means an embedded one in a temp dir. Decided once per run."""
    explicit = os.environ.get("AP_TEST_DATABASE_URL")
    if explicit:
        return to_plain_url(to_async_url(explicit))
    if asyncio.run(_can_connect(LOCAL_SERVER_URL)):
        return LOCAL_SERVER_URL
    return None


def describe_test_server() -> str:
    """One line for pytest's header and summary: which database this run uses (never a password)."""
    server = chosen_server()
    if server is None:
        return (
            f"openpieces tests: database: an embedded PostgreSQL in a temp dir "
            f"({describe_database_url(LOCAL_SERVER_URL)} did not answer; AP_TEST_DATABASE_URL unset)"
        )
    source = "AP_TEST_DATABASE_URL" if os.environ.get("AP_TEST_DATABASE_URL") else "the local server"
    return (
        f"openpieces tests: database: {describe_database_url(server)} ({source}), "
        "a fresh database openpieces_test_* created and dropped by this run"
    )


@contextmanager
def fresh_database() -> Iterator[str]:
    """Yields a `postgresql+asyncpg://` URL of a new, empty database; drops it afterwards."""
    embedded = None
    tmp_dir = None
    server_url = chosen_server()
    if server_url is None:
        pgserver = import_pgserver()
        tmp_dir = tempfile.mkdtemp(prefix="ap-pg-")
        embedded = pgserver.get_server(tmp_dir, cleanup_mode="stop")
        server_url = embedded.get_uri()

    name = f"openpieces_test_{uuid.uuid4().hex[:12]}"
    # Text sorts by code point (the C collation), whatever the server's default: the suite checks
    # each list's order in Python (tests/fidelity.py), where strings compare that way.
    asyncio.run(_execute(server_url, f"CREATE DATABASE \"{name}\" TEMPLATE template0 LC_COLLATE 'C'"))
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
