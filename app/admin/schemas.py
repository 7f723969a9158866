"""Request shapes of the admin API (`/admin`, on when AP_ADMIN_TOKEN is set)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


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
