"""What the admin API does to `/v1` traffic: injected faults and a log of recent requests. Both
live in the worker's memory (run one worker, the default, when a test relies on them)."""

from __future__ import annotations

import fnmatch
from collections import deque
from dataclasses import dataclass
from typing import Any

from app.ids import new_id

# The error code an injected status answers with, unless the fault names one.
DEFAULT_CODES = {
    400: "VALIDATION",
    401: "AUTHENTICATION",
    403: "AUTHORIZATION",
    404: "ENTITY_NOT_FOUND",
    409: "VALIDATION",
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL_ERROR",
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


class FaultInjector:
    """Faults fire in the order they were added; each on its next `times` matching requests."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(
        self, *, path_pattern: str, method: str | None, status: int | None, code: str | None, times: int, delay_ms: int
    ) -> Fault:
        fault = Fault(new_id(), path_pattern, method.upper() if method else None, status, code, times, delay_ms, times)
        self._faults.append(fault)
        return fault

    def clear(self) -> None:
        self._faults.clear()

    def list(self) -> list[Fault]:
        return list(self._faults)

    def take(self, method: str, path: str) -> Fault | None:
        """The fault this request meets, if any (one use of it is spent)."""
        if not self._faults:
            return None
        for fault in self._faults:
            if fault.remaining > 0 and fault.matches(method, path):
                fault.remaining -= 1
                return fault
        return None


class RequestLog:
    """The last requests to the API: method, path, status, latency, request id and body size; never
    a header, a query string or a body."""

    def __init__(self, size: int = 1000) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=size)

    def record(self, entry: dict[str, Any]) -> None:
        self._entries.append(entry)

    def last(self, limit: int) -> list[dict[str, Any]]:
        """Oldest first, so a test reads them in the order its client called."""
        if limit <= 0:
            return []
        return list(self._entries)[-limit:]

    def clear(self) -> None:
        self._entries.clear()


@dataclass(slots=True)
class Traffic:
    faults: FaultInjector
    requests: RequestLog
