"""Request shapes of the admin API (`/admin`, on when AP_ADMIN_TOKEN is set)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator


class CreatePlatformRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=255)]
    edition: Literal["COMMUNITY", "PRO", "ENTERPRISE"] = "ENTERPRISE"
    # A fixed key, for suites that want to know it in advance; generated when absent.
    apiKey: Annotated[str, Field(pattern=r"^sk-[A-Za-z0-9_-]{16,200}$")] | None = None


class FaultRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # A glob over the API path without its `/api` prefix, e.g. `/v1/projects*` or `/v1/flows/*`.
    path_pattern: Annotated[str, Field(min_length=1, max_length=500)]
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] | None = None
    status: Annotated[int, Field(ge=400, le=599)] | None = None
    code: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    times: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    delay_ms: Annotated[int, Field(ge=0, le=600_000)] = 0

    @model_validator(mode="after")
    def _does_something(self) -> FaultRequest:
        if self.status is None and self.delay_ms == 0:
            raise ValueError("needs a status, a delay_ms, or both")
        return self


def _as_utc(value: datetime) -> datetime:
    # An instant without an offset is UTC, as the server's timestamps are.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Instant = Annotated[datetime, AfterValidator(_as_utc), Field(description="ISO 8601, e.g. 2026-01-01T00:00:00.000Z")]


class ReseedRequest(BaseModel):
    """`POST /admin/deterministic`: a new origin; what is left out stays as it was."""

    model_config = ConfigDict(extra="forbid")

    seed: Annotated[int, Field(ge=0, le=2**63 - 1, description="Seed of the id generator")] | None = None
    clock: Instant | None = Field(None, description="Where the clock starts")
    frozen: bool | None = Field(None, description="Whether the clock stays at `clock`")


class SetClockRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    now: Instant = Field(description="The next timestamp the server gives")
    frozen: bool | None = Field(None, description="Stay there (true), step on (false); left out: as it was")


class AdvanceClockRequest(BaseModel):
    """A step forward (sums the fields given); to go back in time, set the clock."""

    model_config = ConfigDict(extra="forbid")

    days: Annotated[int, Field(ge=0, le=36_500)] = 0
    hours: Annotated[int, Field(ge=0, le=876_000)] = 0
    minutes: Annotated[int, Field(ge=0, le=52_560_000)] = 0
    seconds: Annotated[int, Field(ge=0, le=3_153_600_000)] = 0
    milliseconds: Annotated[int, Field(ge=0, le=3_153_600_000_000)] = 0

    @model_validator(mode="after")
    def _moves(self) -> AdvanceClockRequest:
        if not self.delta():
            raise ValueError("needs one of days, hours, minutes, seconds, milliseconds above 0")
        return self

    def delta(self) -> timedelta:
        return timedelta(
            days=self.days, hours=self.hours, minutes=self.minutes, seconds=self.seconds, milliseconds=self.milliseconds
        )


class ClockAnswer(BaseModel):
    """The clock routes' answer."""

    deterministic: bool = Field(description="Whether the server runs in deterministic mode")
    seed: int | None = Field(description="The id generator's seed (deterministic mode)")
    mode: Literal["system", "stepping", "frozen"] = Field(
        description="system: the real clock; stepping: one millisecond per timestamp; frozen: one instant"
    )
    now: str = Field(description="The instant the next timestamp will carry")
    start: str | None = Field(description="Where the clock starts again on a reset (deterministic mode)")
