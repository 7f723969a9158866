"""Deterministic mode: the seeded id generator and the logical clock (app/kit/ids.py, app/kit/clock.py),
started from an origin (a seed, an instant, frozen or not) and restarted from it by the admin API and
by a reset, so the same requests get byte-identical answers run after run. Their state is this
process's: deterministic mode runs one server process (`openpieces serve` refuses more workers)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from app.kit.clock import DEFAULT_START, clock, parse_instant
from app.kit.config import Settings
from app.kit.errors import ActivepiecesError
from app.kit.ids import seed_ids
from app.kit.serialization import iso


class DeterministicModeOff(ActivepiecesError):
    status_code = 409
    code = "DETERMINISTIC_MODE_OFF"

    def __init__(self) -> None:
        super().__init__(
            {"message": "Deterministic mode is off: start the server with AP_DETERMINISTIC_SEED=<n> to use its clock"}
        )


@dataclass(frozen=True)
class Origin:
    seed: int
    start: datetime
    frozen: bool


def origin_of(settings: Settings) -> Origin | None:
    if settings.deterministic_seed is None:
        return None
    start = parse_instant(settings.clock) if settings.clock else DEFAULT_START
    return Origin(settings.deterministic_seed, start, settings.clock_frozen)


class DeterministicMode:
    """The process's deterministic mode, or (origin None) its absence: ids random, the system clock."""

    def __init__(self, origin: Origin | None) -> None:
        self.origin = origin

    @property
    def on(self) -> bool:
        return self.origin is not None

    def restart(self) -> None:
        """The generator and the clock as they were when the server started (or last re-seeded)."""
        if self.origin is None:
            seed_ids(None)
            clock.use_system()
            return
        seed_ids(self.origin.seed)
        clock.set(self.origin.start, frozen=self.origin.frozen)

    def reseed(self, *, seed: int | None, start: datetime | None, frozen: bool | None) -> dict[str, Any]:
        """A new origin (what is not given stays), then a restart from it."""
        origin = self._origin()
        self.origin = replace(
            origin,
            seed=origin.seed if seed is None else seed,
            start=origin.start if start is None else start,
            frozen=origin.frozen if frozen is None else frozen,
        )
        self.restart()
        return self.describe()

    def set_clock(self, instant: datetime, frozen: bool | None) -> dict[str, Any]:
        self._origin()
        clock.set(instant, frozen=frozen)
        return self.describe()

    def advance(self, delta: timedelta) -> dict[str, Any]:
        self._origin()
        clock.advance(delta)
        return self.describe()

    def freeze(self, frozen: bool) -> dict[str, Any]:
        self._origin()
        if frozen:
            clock.freeze()
        else:
            clock.unfreeze()
        return self.describe()

    def describe(self) -> dict[str, Any]:
        """What `GET /admin/clock` answers."""
        state = clock.state()
        return {
            "deterministic": self.on,
            "seed": None if self.origin is None else self.origin.seed,
            "mode": state.mode,
            # The instant the next timestamp will carry (stepping: one millisecond per timestamp).
            "now": iso(state.now),
            "start": None if self.origin is None else iso(self.origin.start),
        }

    def _origin(self) -> Origin:
        if self.origin is None:
            raise DeterministicModeOff()
        return self.origin
