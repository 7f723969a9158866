"""Changes every replica must hear of at once (a deleted key, a reset), through PostgreSQL's
LISTEN/NOTIFY: whoever makes the change publishes it in the same transaction, so it is announced
exactly when it commits; each replica listens on a connection of its own to the direct URL (LISTEN
needs a session, which a transaction-mode pooler does not keep) and reconnects when it drops.

What is missed while the listener is down is made up for by forgetting everything on reconnect, and a
cache does not remember anything while its listener is down (`on_connection`).

A change is *confirmed* (`ChangeConfirmation`): each listener answers a change it has applied on the
acknowledgement channel, and whoever made the change waits, before answering its client, until every
listener of the database has answered. So a request that arrives after the answer, on any replica or
worker, finds the change applied there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

log = logging.getLogger("openpieces.changes")

CHANNEL = "openpieces_changes"
ACK_CHANNEL = "openpieces_change_acks"
# How a listening connection shows in pg_stat_activity: the confirmation waits for each of them.
LISTENER_APPLICATION_NAME = "openpieces-listener"
# A listener that does not answer by then is taken to be gone (its process died, its network broke):
# the change is answered anyway, and that replica forgets everything when its listener reconnects.
CONFIRM_TIMEOUT_SECONDS = 2.0

# What a replica does with a change: `{"kind": ..., ...}`. `None` (a reconnect): everything may have
# changed.
ChangeHandler = Callable[[dict[str, Any] | None], None]


async def publish(
    conn: AsyncConnection | asyncpg.Connection, kind: str, *, change_id: str | None = None, **fields: Any
) -> None:
    """Announce a change to every replica when `conn`'s transaction commits (works through a
    transaction-mode pooler: NOTIFY is part of the transaction). `conn`: SQLAlchemy's or asyncpg's.
    `change_id`: the id a `ChangeConfirmation` waits for the listeners to acknowledge."""
    change = {"kind": kind, **fields}
    if change_id is not None:
        change["changeId"] = change_id
    payload = orjson.dumps(change).decode()
    if isinstance(conn, asyncpg.Connection):
        await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)
    else:
        await conn.execute(text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": payload})


class ChangeListener:
    """One LISTEN connection per process, kept open (reconnecting with a growing pause) until
    `stop()`. `on_connection(True)` once listening (after everything was forgotten),
    `on_connection(False)` as soon as the connection is lost: while nobody listens, nothing may be
    remembered."""

    def __init__(
        self,
        connect: Callable[[], Awaitable[asyncpg.Connection]],
        handler: ChangeHandler,
        on_connection: Callable[[bool], None] | None = None,
    ) -> None:
        self._connect = connect
        self._handler = handler
        self._on_connection = on_connection or (lambda _listening: None)
        self._task: asyncio.Task[None] | None = None
        self._lost: asyncio.Event = asyncio.Event()
        # The listener's connection runs its acknowledgements and its keep-alive query one at a time.
        self._conn_lock = asyncio.Lock()
        self._acks: set[asyncio.Task[None]] = set()
        self.connected = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="openpieces-change-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _on_notification(self, conn: asyncpg.Connection, pid: int, channel: str, payload: str) -> None:
        try:
            change = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return
        self._dispatch(change if isinstance(change, dict) else None)
        # Applied (the handler is synchronous): say so to whoever waits to answer its client.
        change_id = change.get("changeId") if isinstance(change, dict) else None
        if isinstance(change_id, str):
            task = asyncio.get_running_loop().create_task(self._acknowledge(conn, change_id))
            self._acks.add(task)
            task.add_done_callback(self._acks.discard)

    async def _acknowledge(self, conn: asyncpg.Connection, change_id: str) -> None:
        try:
            async with self._conn_lock:
                await conn.execute("SELECT pg_notify($1, $2)", ACK_CHANNEL, change_id, timeout=5)
        except Exception as exc:  # the connection is going: the waiter's timeout covers it
            log.warning("could not acknowledge a change: %s", type(exc).__name__)

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
                self._on_connection(True)
                pause = 0.1
                await self._watch(conn)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("change listener lost its connection: %s", type(exc).__name__)
            finally:
                self.connected.clear()
                self._on_connection(False)
                if conn is not None and not conn.is_closed():
                    await _close_quietly(conn)
            await asyncio.sleep(pause)
            pause = min(pause * 2, 5.0)

    async def _watch(self, conn: asyncpg.Connection) -> None:
        """Return when the connection is gone; a cheap query every few seconds finds a connection a
        network failure left half-open."""
        while not self._lost.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._lost.wait(), timeout=5)
                return
            async with self._conn_lock:
                await conn.execute("SELECT 1", timeout=5)


async def _close_quietly(conn: asyncpg.Connection) -> None:
    """Close a dedicated connection that may already be broken, even if the closer is cancelled."""
    with contextlib.suppress(Exception):
        await asyncio.shield(conn.close(timeout=2))


@dataclass
class PendingChange:
    """A change about to be published: its id, and the listeners (backend pids) that applied it."""

    id: str
    acknowledged: set[int] = field(default_factory=set)
    answered: asyncio.Event = field(default_factory=asyncio.Event)

    def on_ack(self, conn: object, pid: int, channel: str, payload: str) -> None:
        if payload == self.id:
            self.acknowledged.add(pid)
            self.answered.set()


class ChangeConfirmation:
    """Makes a published change known everywhere before its maker answers:

    async with confirmation.expecting(change_id) as change:
        async with db.transaction() as conn:
            ...; await publish(conn, "reset", change_id=change.id)
    # here every listener of the database has applied it (or CONFIRM_TIMEOUT_SECONDS passed)
    """

    def __init__(
        self, connect: Callable[[], Awaitable[asyncpg.Connection]], timeout: float = CONFIRM_TIMEOUT_SECONDS
    ) -> None:
        self._connect = connect
        self._timeout = timeout

    @asynccontextmanager
    async def expecting(self, change_id: str) -> AsyncIterator[PendingChange]:
        change = PendingChange(change_id)
        conn = await self._connect()
        try:
            # Listening before the change commits, so no acknowledgement can come too early to be heard.
            await conn.add_listener(ACK_CHANNEL, change.on_ack)
            yield change
            await self._wait(conn, change)
        finally:
            await _close_quietly(conn)

    async def _wait(self, conn: asyncpg.Connection, change: PendingChange) -> None:
        deadline = time.monotonic() + self._timeout
        while True:
            change.answered.clear()
            # The listeners now: one that started after the commit forgot everything on connecting.
            listening = {
                row["pid"]
                for row in await conn.fetch(
                    "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()",
                    LISTENER_APPLICATION_NAME,
                )
            }
            if listening <= change.acknowledged:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                log.warning(
                    "a change was not acknowledged by every listener in time",
                    extra={"changeId": change.id, "missing": len(listening - change.acknowledged)},
                )
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(change.answered.wait(), timeout=min(remaining, 0.05))
