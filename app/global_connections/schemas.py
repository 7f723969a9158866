"""Request shapes of `/v1/global-connections`; the values, the responses and the per-type shapes are
the shared ones of `app.app_connections.schemas`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, RootModel, model_validator

from app.app_connections.schemas import (
    AppConnectionScope,
    AppConnectionStatus,
    AppConnectionType,
    AppConnectionWithoutSensitiveData,
    ConnectionRequest,
    ConnectionValue,
    IdList,
    NonEmpty,
    SeekPageConnections,
    connection_body,
    typed_upserts,
)
from app.edge.limits import FreeJson
from app.kit.schema_types import Boolean

__all__ = [
    "AppConnectionScope",
    "AppConnectionStatus",
    "AppConnectionType",
    "AppConnectionWithoutSensitiveData",
    "ConnectionValue",
    "SeekPageConnections",
    "UpdateGlobalConnectionRequest",
    "UpsertGlobalConnectionBody",
    "UpsertGlobalConnectionRequest",
    "connection_body",
]


class _UpsertCommon(ConnectionRequest):
    displayName: str
    pieceName: str
    scope: Literal["PLATFORM"]
    projectIds: IdList
    metadata: FreeJson | None = None
    pieceVersion: str | None = None
    externalId: str | None = None
    preSelectForNewProjects: Boolean | None = None


GLOBAL_UPSERTS = typed_upserts(_UpsertCommon, "Upsert")


def _type_of_value(value: Mapping[str, Any]) -> str | None:
    """The connection type a value's keys make plain, or None when they do not."""
    keys = set(value)
    if "secret_text" in keys:
        return "SECRET_TEXT"
    if {"username", "password"} & keys:
        return "BASIC_AUTH"
    if "client_id" in keys:
        if "client_secret" in keys:
            return "OAUTH2"
        return "PLATFORM_OAUTH2" if "redirect_url" in keys else "CLOUD_OAUTH2"
    if "props" in keys:
        return "CUSTOM_AUTH"
    return None


def infer_connection_shape(body: Any) -> Any:
    """The documented example (seed create-global-connection.txt) sends neither `type`, `scope` nor
    `value.type`: fill in what it leaves out. `type` and `value.type` come from each other, or else
    from the value's keys (`secret_text` -> SECRET_TEXT); `scope` can only be PLATFORM on this route.
    What is sent is never overridden, so a contradiction is still refused."""
    if not isinstance(body, dict):
        return body
    body = dict(body)
    value = body.get("value")
    value_type = value.get("type") if isinstance(value, dict) else None
    if isinstance(value, dict):
        inferred = body.get("type") if "type" in body else value_type or _type_of_value(value)
        if "type" not in value and isinstance(inferred, str):
            body["value"] = {**value, "type": inferred}
        if "type" not in body and inferred is not None:
            body["type"] = inferred
    body.setdefault("scope", AppConnectionScope.PLATFORM.value)
    return body


UpsertGlobalConnectionRequest = Annotated[
    GLOBAL_UPSERTS[0]
    | GLOBAL_UPSERTS[1]
    | GLOBAL_UPSERTS[2]
    | GLOBAL_UPSERTS[3]
    | GLOBAL_UPSERTS[4]
    | GLOBAL_UPSERTS[5]
    | GLOBAL_UPSERTS[6]
    | GLOBAL_UPSERTS[7],
    Field(discriminator="type"),
]


class UpsertGlobalConnectionBody(RootModel[UpsertGlobalConnectionRequest]):
    """The body of the upsert route: the request, after `infer_connection_shape` (a root model, so
    the inference runs before the union picks its member by `type`)."""

    @model_validator(mode="before")
    @classmethod
    def _infer(cls, data: Any) -> Any:
        return infer_connection_shape(data)


class UpdateGlobalConnectionRequest(ConnectionRequest):
    displayName: NonEmpty | None = None
    projectIds: IdList | None = None
    metadata: FreeJson | None = None
    preSelectForNewProjects: Boolean | None = None
