"""The server's clock: every timestamp it writes or answers comes from `clock.now()`.

By default it is the system's clock, made strictly increasing (two readings never share a
microsecond, so rows written one after the other keep their order). In deterministic mode it is a
logical clock that only the server's own work and the admin API move: it starts at a set instant and
each reading is one millisecond after the last (`stepping`), or every reading is the same instant
(`frozen`), so the same requests get the same timestamps on every run. Its state is this process's:
deterministic mode runs one server process."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

ClockMode = Literal["system", "stepping", "frozen"]

# The instant a deterministic clock starts at when none is given.
DEFAULT_START = datetime(2026, 1, 1, tzinfo=UTC)
# How far a stepping clock moves per reading: the API's timestamps have milliseconds, so each
# reading is a timestamp of its own.
STEP = timedelta(milliseconds=1)
_TINY = timedelta(microseconds=1)


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant (`2026-01-01T00:00:00Z`, `2026-01-01T00:00:00.000+02:00`) as UTC; a time
    without an offset is taken as UTC."""
    value = datetime.fromisoformat(text.strip())
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass
class ClockState:
    mode: ClockMode
    # The last instant read (stepping: the next reading is one step after it; frozen: every reading).
    now: datetime


class Clock:
    def __init__(self) -> None:
        self._mode: ClockMode = "system"
        self._last = datetime.now(UTC)

    @property
    def mode(self) -> ClockMode:
        return self._mode

    @property
    def controlled(self) -> bool:
        return self._mode != "system"

    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        if self._mode == "system":
            # A system clock may repeat a microsecond, or step back: never let a later reading sort first.
            current = datetime.now(UTC)
            self._last = current if current > self._last else self._last + _TINY
        elif self._mode == "stepping":
            self._last += STEP
        return self._last

    def peek(self) -> datetime:
        """The instant now() would give (stepping: the next step) without moving the clock."""
        if self._mode == "system":
            return datetime.now(UTC)
        return self._last + STEP if self._mode == "stepping" else self._last

    def state(self) -> ClockState:
        return ClockState(self._mode, self.peek())

    def use_system(self) -> None:
        self._mode = "system"
        self._last = datetime.now(UTC)

    def set(self, instant: datetime, *, frozen: bool | None = None) -> None:
        """Deterministic from here on: the next reading is `instant`; `frozen` (None: as it was,
        stepping when it was the system's) says whether readings stay there."""
        if frozen is None:
            frozen = self._mode == "frozen"
        self._mode = "frozen" if frozen else "stepping"
        self._last = instant.astimezone(UTC) if frozen else instant.astimezone(UTC) - STEP

    def advance(self, delta: timedelta) -> None:
        """Move a deterministic clock by `delta` (frozen or not)."""
        self._require_controlled()
        self._last += delta

    def freeze(self) -> None:
        """Every reading from now on is the instant the next one would have been."""
        self._require_controlled()
        if self._mode == "stepping":
            self._last += STEP
        self._mode = "frozen"

    def unfreeze(self) -> None:
        """Stepping again, from the frozen instant on."""
        self._require_controlled()
        if self._mode == "frozen":
            self._last -= STEP
        self._mode = "stepping"

    def _require_controlled(self) -> None:
        if self._mode == "system":
            raise RuntimeError("the system clock cannot be moved")


# The process's one clock (module state: deterministic mode is one process, see above).
clock = Clock()


def now() -> datetime:
    return clock.now()
