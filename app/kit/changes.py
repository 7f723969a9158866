"""Changes every replica must hear of at once (a deleted key, a reset), through PostgreSQL's
LISTEN/NOTIFY: whoever makes the change publishes it in the same transaction, so it is announced
exactly when it commits; each replica listens on a connection of its own to the direct URL (LISTEN
needs a session, which a transaction-mode pooler does not keep) and reconnects when it drops.

What is missed while the listener is down is made up for by forgetting everything on reconnect; and
the caches that listen keep their TTL as the fallback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

log = logging.getLogger("openpieces.changes")

CHANNEL = "openpieces_changes"

# What a replica does with a change: `{"kind": ..., ...}`. `None` (a reconnect): everything may have
# changed.
ChangeHandler = Callable[[dict[str, Any] | None], None]


async def publish(conn: AsyncConnection | asyncpg.Connection, kind: str, **fields: Any) -> None:
    """Announce a change to every replica when `conn`'s transaction commits (works through a
    transaction-mode pooler: NOTIFY is part of the transaction). `conn`: SQLAlchemy's or asyncpg's."""
    payload = orjson.dumps({"kind": kind, **fields}).decode()
    if isinstance(conn, asyncpg.Connection):
        await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)
    else:
        await conn.execute(text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": payload})


class ChangeListener:
    """One LISTEN connection per process, kept open (reconnecting with a growing pause) until
    `stop()`."""

    def __init__(self, connect: Callable[[], Awaitable[asyncpg.Connection]], handler: ChangeHandler) -> None:
        self._connect = connect
        self._handler = handler
        self._task: asyncio.Task[None] | None = None
        self._lost: asyncio.Event = asyncio.Event()
        self.connected = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="openpieces-change-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _on_notification(self, conn: object, pid: int, channel: str, payload: str) -> None:
        try:
            change = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return
        self._dispatch(change if isinstance(change, dict) else None)

    def _dispatch(self, change: dict[str, Any] | None) -> None:
        try:
            self._handler(change)
        except Exception:
            log.exception("a change handler failed")

    async def _run(self) -> None:
        pause = 0.1
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await self._connect()
                self._lost.clear()
                conn.add_termination_listener(lambda _conn: self._lost.set())
                await conn.add_listener(CHANNEL, self._on_notification)
                # Anything may have changed while nobody listened.
                self._dispatch(None)
                self.connected.set()
                pause = 0.1
                await self._watch(conn)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("change listener lost its connection: %s", type(exc).__name__)
            finally:
                self.connected.clear()
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await asyncio.shield(conn.close(timeout=2))
            await asyncio.sleep(pause)
            pause = min(pause * 2, 5.0)

    async def _watch(self, conn: asyncpg.Connection) -> None:
        """Return when the connection is gone; a cheap query every few seconds finds a connection a
        network failure left half-open."""
        while not self._lost.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._lost.wait(), timeout=5)
                return
            await conn.execute("SELECT 1", timeout=5)
