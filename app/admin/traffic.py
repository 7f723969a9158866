"""What the admin API does to `/v1` traffic: injected faults and a log of recent requests. Both
live in PostgreSQL, so every replica (and every worker) fires the same faults and logs into the
same log: a test sees one server however many processes serve it."""

from __future__ import annotations

import asyncio
import fnmatch
import logging
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from app.kit.db import Database
from app.kit.ids import new_id

log = logging.getLogger("openpieces.admin")

# The error code an injected status answers with, unless the fault names one.
DEFAULT_CODES = {
    400: "VALIDATION",
    401: "AUTHENTICATION",
    403: "AUTHORIZATION",
    404: "ENTITY_NOT_FOUND",
    409: "VALIDATION",
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL_SERVER_ERROR",
    502: "BAD_GATEWAY",
    503: "SERVICE_UNAVAILABLE",
    504: "GATEWAY_TIMEOUT",
}


@dataclass(slots=True)
class Fault:
    id: str
    path_pattern: str
    method: str | None
    status: int | None
    code: str | None
    times: int
    delay_ms: int
    remaining: int

    @classmethod
    def of(cls, row: asyncpg.Record) -> Fault:
        return cls(
            row["id"],
            row["path_pattern"],
            row["method"],
            row["status"],
            row["code"],
            row["times"],
            row["delay_ms"],
            row["remaining"],
        )

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and fnmatch.fnmatchcase(path, self.path_pattern)

    def body(self) -> dict[str, Any]:
        assert self.status is not None
        code = self.code or DEFAULT_CODES.get(self.status, "INJECTED_FAULT")
        return {"statusCode": self.status, "code": code, "params": {"message": "Injected fault"}}

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "path_pattern": self.path_pattern,
            "method": self.method,
            "status": self.status,
            "code": self.code,
            "times": self.times,
            "delay_ms": self.delay_ms,
            "remaining": self.remaining,
        }


_FAULT_COLUMNS = "id, path_pattern, method, status, code, times, delay_ms, remaining"


class FaultInjector:
    """Faults fire in the order they were added; each on its next `times` matching requests, counted
    across every replica (a use is spent by an atomic decrement in PostgreSQL)."""

    def __init__(self) -> None:
        self.db: Database | None = None

    def _database(self) -> Database:
        if self.db is None:
            raise RuntimeError("the fault store is used before the app started")
        return self.db

    async def add(
        self, *, path_pattern: str, method: str | None, status: int | None, code: str | None, times: int, delay_ms: int
    ) -> Fault:
        async with self._database().fast_read() as conn:
            row = await conn.fetchrow(
                f"INSERT INTO admin_fault ({_FAULT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $6)"
                f" RETURNING {_FAULT_COLUMNS}",
                new_id(),
                path_pattern,
                method.upper() if method else None,
                status,
                code,
                times,
                delay_ms,
            )
        return Fault.of(row)

    async def clear(self) -> None:
        async with self._database().fast_read() as conn:
            await conn.execute("DELETE FROM admin_fault")

    async def list(self) -> list[Fault]:
        async with self._database().fast_read() as conn:
            rows = await conn.fetch(f"SELECT {_FAULT_COLUMNS} FROM admin_fault ORDER BY seq")
        return [Fault.of(row) for row in rows]

    async def take(self, method: str, path: str) -> Fault | None:
        """The fault this request meets, if any (one use of it is spent). One indexed read when no
        fault is left, which is the common case."""
        async with self._database().fast_read() as conn:
            candidates = await conn.fetch(
                f"SELECT seq, {_FAULT_COLUMNS} FROM admin_fault"
                " WHERE remaining > 0 AND (method IS NULL OR method = $1) ORDER BY seq",
                method,
            )
            for candidate in candidates:
                if not Fault.of(candidate).matches(method, path):
                    continue
                spent = await conn.fetchrow(
                    f"UPDATE admin_fault SET remaining = remaining - 1 WHERE seq = $1 AND remaining > 0"
                    f" RETURNING {_FAULT_COLUMNS}",
                    candidate["seq"],
                )
                if spent is not None:  # else another request spent its last use first
                    return Fault.of(spent)
        return None


_INSERT_REQUESTS = """
    WITH inserted AS (
        INSERT INTO admin_request_log (finished, method, path, status, ms, request_id, body_size)
        SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::int[], $5::float8[], $6::text[],
                             $7::bigint[])
        RETURNING seq
    )
    DELETE FROM admin_request_log WHERE seq <= (SELECT max(seq) FROM inserted) - $8
"""


class RequestLog:
    """The last requests to the API: method, path, status, latency, request id and body size; never
    a header, a query string or a body.

    Recording costs a request nothing but an append: entries are written in batches, one statement
    per `flush_interval` at most, off the request's path, and the same statement trims the table to
    the newest `size` rows. Reading waits for the other replicas' next batch first."""

    def __init__(self, size: int = 1000, flush_interval: float = 0.02) -> None:
        self.db: Database | None = None
        self.size = size
        self.flush_interval = flush_interval
        self._pending: deque[tuple[datetime, dict[str, Any]]] = deque(maxlen=size)
        self._flush_scheduled = False
        self._flushing: asyncio.Task[None] | None = None

    def record(self, entry: dict[str, Any]) -> None:
        self._pending.append((datetime.now(UTC), entry))
        if not self._flush_scheduled:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return
            self._flush_scheduled = True
            loop.call_later(self.flush_interval, self._start_flush)

    def _start_flush(self) -> None:
        self._flushing = asyncio.get_running_loop().create_task(self._flush_in_background())

    async def _flush_in_background(self) -> None:
        self._flush_scheduled = False
        try:
            await self.flush()
        except Exception as exc:  # a test log: losing a batch beats failing requests
            log.warning("request log batch not written: %s", type(exc).__name__)

    async def flush(self) -> None:
        if not self._pending or self.db is None:
            return
        batch = list(self._pending)
        self._pending.clear()
        columns: list[list[Any]] = [[], [], [], [], [], [], []]
        for finished, entry in batch:
            for column, value in zip(
                columns,
                (
                    finished,
                    entry["method"],
                    entry["path"],
                    entry["status"],
                    entry["ms"],
                    entry["requestId"],
                    entry["bodySize"],
                ),
                strict=True,
            ):
                column.append(value)
        async with self.db.fast_read() as conn:
            await conn.execute(_INSERT_REQUESTS, *columns, self.size)

    async def last(self, limit: int) -> list[dict[str, Any]]:
        """Oldest first, so a test reads them in the order its client called (by when each request
        finished, on whichever replica)."""
        if limit <= 0 or self.db is None:
            return []
        await self.flush()
        # Every replica writes what it has within `flush_interval`: wait that long (and a little)
        # so a request another replica answered before this one arrived is in the log.
        await asyncio.sleep(self.flush_interval * 2 + 0.01)
        async with self.db.fast_read() as conn:
            rows = await conn.fetch(
                "SELECT method, path, status, ms, request_id, body_size FROM admin_request_log"
                " ORDER BY finished DESC, seq DESC LIMIT $1",
                min(limit, self.size),
            )
        return [
            {
                "method": row["method"],
                "path": row["path"],
                "status": row["status"],
                "ms": row["ms"],
                "requestId": row["request_id"],
                "bodySize": row["body_size"],
            }
            for row in reversed(rows)
        ]

    def forget_pending(self) -> None:
        """After a reset: what was recorded before it is not written after it."""
        self._pending.clear()

    async def close(self) -> None:
        if self._flushing is not None:
            await asyncio.gather(self._flushing, return_exceptions=True)
        try:
            await self.flush()
        except Exception as exc:
            log.warning("request log batch not written: %s", type(exc).__name__)


@dataclass(slots=True)
class Traffic:
    faults: FaultInjector
    requests: RequestLog

    def attach(self, db: Database) -> None:
        self.faults.db = db
        self.requests.db = db
