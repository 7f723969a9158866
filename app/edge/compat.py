"""The two answers: the documented one (the seed documents) and the real server's.

Where the public docs and the deployed Activepieces server disagree, `AP_COMPAT` picks one answer for
every route at once: `docs` (the default) or `server`. This module is the only place that knows the
difference. Services raise the same typed errors in both modes; the HTTP edge asks the policy how to
answer them (`render`, `invalid_request`), and the few decisions that are not about an error's shape
(an undecodable cursor, a route the real server keeps for users) are policy methods too.

Facts for `server` mode come from `packages/server/api/src/app/helper/error-handler.ts` (status map,
error body), `server.ts` (Fastify with `fastify-type-provider-zod`'s validator, zod 4) and the real
server's integration tests. The wording of request-validation messages follows zod 4 as that
validator reports it: `<part><instancePath> <zod message>`, joined with ", ".
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any

from pydantic import BaseModel, RootModel

from app.kit.errors import (
    ActivepiecesError,
    EntityNotFound,
    FolderNotFound,
    NoCredentials,
    NotAnApiKey,
    NotTheCallersPlatform,
    OfAnotherPlatform,
    PlatformNotFound,
    PrincipalNotAllowed,
    ProjectNotFound,
    RouteNotFound,
    ValidationFailed,
)
from app.kit.pagination import Cursor, InvalidCursor
from app.kit.serialization import json_type


class CompatMode(StrEnum):
    DOCS = "docs"
    SERVER = "server"


# The real server's status for the codes this API raises (error-handler.ts `statusCodeMap`); a
# code it does not list is a 400 there.
SERVER_STATUS: Mapping[str, int] = {
    "AUTHENTICATION": 401,
    "INVALID_API_KEY": 401,
    "INVALID_BEARER_TOKEN": 401,
    "AUTHORIZATION": 403,
    "PERMISSION_DENIED": 403,
    "ENTITY_NOT_FOUND": 404,
    "VALIDATION": 409,
    "PROJECT_EXTERNAL_ID_ALREADY_EXISTS": 409,
    "FLOW_EXTERNAL_ID_ALREADY_EXISTS": 409,
    "FLOW_OPERATION_IN_PROGRESS": 409,
    "EXISTING_USER": 409,
    "FEATURE_DISABLED": 402,
    "QUOTA_EXCEEDED": 402,
}
# Codes of this server's own that are no Activepieces ErrorCode (an outage, an internal error):
# they keep their status in both modes.
OWN_CODES = frozenset({"SERVICE_UNAVAILABLE", "INTERNAL_ERROR"})

# The real server's message when an API key reaches another platform's project.
FOREIGN_PROJECT_MESSAGE = "Service is not allowed to access this project"
# The real server's message when a key names a platform other than its own (platform.controller.ts).
FOREIGN_PLATFORM_MESSAGE = "You are not authorized to access this platform"
# Resources whose path id the real server does check (`ApId`, a pattern): a malformed id is a
# request-shape failure there, not an entity it looks up.
_PATTERN_CHECKED_RESOURCES = frozenset({"platforms"})
# The real server's refusal of a principal a route does not take (an anonymous one, an API key on
# a users-only route).
PRINCIPAL_NOT_ALLOWED_MESSAGE = "principal is not allowed for this route"
# The message the real server's access-token check gives a bearer token that is no API key.
INVALID_BEARER_TOKEN_MESSAGE = "invalid access token or session expired"

# Fastify checks a request's parts in this order and reports the first part that fails.
_PART_ORDER = ("path", "body", "query", "header")
_PART_NAMES = {"path": "params", "body": "body", "query": "querystring", "header": "headers"}
_UNION_TAG = re.compile(r"^[A-Z][A-Z0-9_]*$")


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CompatPolicy:
    mode: CompatMode = CompatMode.DOCS

    @classmethod
    def of(cls, mode: str | CompatMode) -> CompatPolicy:
        return cls(CompatMode(mode))

    @property
    def is_server(self) -> bool:
        return self.mode is CompatMode.SERVER

    # --- errors raised by services

    def render(self, error: ActivepiecesError) -> Answer:
        if not self.is_server:
            return Answer(error.status_code, error.body())
        if isinstance(error, RouteNotFound):
            # No route: Fastify's own 404 (no ActivepiecesError is involved there).
            message = error.params.get("message", "")
            return Answer(404, {"message": message, "error": "Not Found", "statusCode": 404})
        code, params = error.code, error.params
        if isinstance(error, OfAnotherPlatform):
            # The real server checks a service's access to the entity's project before looking it
            # up (rbac-service: "Service is not allowed to access this project", with the project
            # and the caller's platform). A flow's project is another platform's id: not named.
            code = "AUTHORIZATION"
            params = {"message": FOREIGN_PROJECT_MESSAGE}
            if error.named_project_id is not None:
                params["projectId"] = error.named_project_id
            params["platformId"] = error.caller_platform_id
        elif isinstance(error, NotTheCallersPlatform):
            code, params = "AUTHORIZATION", {"message": FOREIGN_PLATFORM_MESSAGE}
        elif isinstance(error, NotAnApiKey):
            code, params = "INVALID_BEARER_TOKEN", {"message": INVALID_BEARER_TOKEN_MESSAGE}
        elif isinstance(error, NoCredentials | PrincipalNotAllowed):
            code, params = "AUTHORIZATION", {"message": PRINCIPAL_NOT_ALLOWED_MESSAGE}
        if code in OWN_CODES:
            status = error.status_code
        else:
            status = SERVER_STATUS.get(code, 400)
        # No `statusCode`: the real handler sends only `code` and `params`.
        return Answer(status, {"code": code, "params": params})

    # --- requests that do not fit their route's schema

    def invalid_request(
        self,
        errors: Sequence[Mapping[str, Any]],
        *,
        path: str,
        route: Any = None,
        documented: str,
        content_type: str = "",
        body_size: int | None = None,
    ) -> Answer:
        """A request-shape failure (pydantic's errors for body, query and path); `documented` is
        the documented answer's message; `content_type` and `body_size` tell what Fastify's
        content-type parsers would have made of a body that did not arrive as JSON."""
        if not self.is_server:
            return self.render(ValidationFailed(documented))
        # A body that did not arrive as JSON reaches pydantic as nothing, or as the raw bytes.
        if any(
            tuple(e.get("loc", ())) == ("body",) and (e.get("type") == "missing" or isinstance(e.get("input"), bytes))
            for e in errors
        ):
            unparsed = _unparsed_body(content_type, body_size)
            if unparsed is not None:
                return unparsed
        # The real server does not pattern-check most ids: a malformed one passes validation (the
        # body and query are still checked) and is then simply not found. A platform's id is checked.
        ids_checked = _resource_of(path) in _PATTERN_CHECKED_RESOURCES
        shape_errors = [e for e in errors if ids_checked or tuple(e.get("loc", ()))[:1] != ("path",)]
        if not shape_errors:
            return self.render(_not_found_for(path, errors))
        failing = _first_failing_part(shape_errors)
        if any(e.get("type") == "json_invalid" for e in failing):
            return self.invalid_json()
        if tuple(failing[0].get("loc", ()))[:1] == ("body",) and _body_is_union(route):
            # The real body schema is a z.union (connection upserts, flow operations): when no
            # member fits, zod reports the union itself, whatever was wrong inside.
            message = "body/ Invalid input"
        else:
            message = ", ".join(_zod_issue(error, route) for error in failing)
        return fastify_error(400, "FST_ERR_VALIDATION", "Bad Request", message)

    def invalid_json(self) -> Answer:
        if not self.is_server:
            return self.render(ValidationFailed("body must be valid JSON"))
        return fastify_error(
            400,
            "FST_ERR_CTP_INVALID_JSON_BODY",
            "Bad Request",
            "Body is not valid JSON but content-type is set to 'application/json'",
        )

    def body_too_large(self, documented: Mapping[str, Any]) -> Answer:
        if not self.is_server:
            return Answer(413, dict(documented))
        return fastify_error(413, "FST_ERR_CTP_BODY_TOO_LARGE", "Payload Too Large", "Request body is too large")

    # --- decisions that are not about an error's shape

    def cursor(self, raw: str | None) -> str | None:
        """The `cursor` a list should use. Documented: passed on (garbage is a 400 there). Real
        server: a cursor it cannot decode is no cursor, so the answer is the first page."""
        if not self.is_server or not raw:
            return raw
        try:
            Cursor.decode(raw)
        except InvalidCursor:
            return None
        return raw

    @property
    def upsert_matches_projects(self) -> bool:
        """A global-connection upsert's lookup. Documented: the platform's connection with that
        externalId, whatever its projects. Real server (app-connection-service.ts `upsert`): only
        one whose `projectIds` contain every requested id; otherwise a second row of the same
        externalId is inserted (its index is not unique)."""
        return self.is_server

    def users_only(self) -> None:
        """A route the real server keeps for users (`securityAccess.project([USER])`): an API key
        is refused there. Documented mode answers an API key as it would answer a user."""
        if self.is_server:
            raise PrincipalNotAllowed()


DOCS_POLICY = CompatPolicy(CompatMode.DOCS)


def _unparsed_body(content_type: str, body_size: int | None) -> Answer | None:
    """Fastify's answer for a body its parsers refuse or read as no object, before validation:
    an empty JSON body, a type it has no parser for; text/plain is read as a string."""
    media = content_type.split(";")[0].strip().lower()
    if media == "application/json" and body_size == 0:
        return fastify_error(
            400,
            "FST_ERR_CTP_EMPTY_JSON_BODY",
            "Bad Request",
            "Body cannot be empty when content-type is set to 'application/json'",
        )
    if media == "text/plain":
        return fastify_error(
            400, "FST_ERR_VALIDATION", "Bad Request", "body/ Invalid input: expected object, received string"
        )
    # The real server also parses urlencoded and multipart bodies; any other type has no parser.
    if media and media not in ("application/json", "application/x-www-form-urlencoded", "multipart/form-data"):
        return fastify_error(415, "FST_ERR_CTP_INVALID_MEDIA_TYPE", "Unsupported Media Type", "Unsupported Media Type")
    return None


def fastify_error(status: int, code: str, error: str, message: str) -> Answer:
    """Fastify's own error body (an error that is no ActivepiecesError is sent as Fastify
    serializes it)."""
    return Answer(status, {"statusCode": status, "code": code, "error": error, "message": message})


# --- server mode


def _first_failing_part(errors: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    for part in _PART_ORDER:
        found = [e for e in errors if tuple(e.get("loc", ()))[:1] == (part,)]
        if found:
            return found
    return list(errors)


def _not_found_for(path: str, errors: Sequence[Mapping[str, Any]]) -> ActivepiecesError:
    entity_id = next((str(e.get("input")) for e in errors if tuple(e.get("loc", ()))[:1] == ("path",)), "")
    resource = _resource_of(path)
    if resource == "projects":
        return ProjectNotFound(entity_id)
    if resource == "global-connections":
        return EntityNotFound("app_connection", entity_id, "App connection not found")
    if resource == "folders":
        return FolderNotFound(entity_id)
    if resource == "platforms":
        return PlatformNotFound(entity_id)
    return EntityNotFound("flow", entity_id, "Flow not found")


def _resource_of(path: str) -> str:
    parts = [part for part in path.split("/") if part]
    if parts[:2] == ["api", "v1"]:
        parts = parts[2:]
    elif parts[:1] == ["v1"]:
        parts = parts[1:]
    return parts[0] if parts else ""


def _instance_path(loc: Sequence[Any]) -> str:
    part = _PART_NAMES.get(str(loc[0]), str(loc[0])) if loc else "body"
    # pydantic's own path parts (validator names, the tag of a discriminated union) are not the
    # client's: `value/SECRET_TEXT/secret_text` is `value/secret_text` to zod.
    rest = [
        str(p)
        for p in loc[1:]
        if not str(p).startswith(("function-", "json-or-python")) and not _UNION_TAG.match(str(p))
    ]
    return f"{part}/{'/'.join(rest)}"


def _options(expected: str) -> str:
    """pydantic's "'A', 'B' or 'C'" as zod's "A"|"B"|"C"."""
    return "|".join(f'"{item}"' for item in re.findall(r"'([^']*)'", expected))


def _zod_issue(error: Mapping[str, Any], route: Any) -> str:
    loc = tuple(error.get("loc", ()))
    kind: str = error.get("type", "")
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    value = error.get("input")
    if kind == "nested_invalid":
        # A part of a field validated by hand (a step deep in a flow; see app/edge/http.py).
        parts = tuple(part for part in str(ctx.get("path", "")).split("/") if part)
        inner = ctx.get("inner")
        if isinstance(inner, Mapping):
            return _zod_issue({**inner, "loc": (*loc, *parts, *inner.get("loc", ()))}, route)
        return f"{_instance_path((*loc, *parts))} {ctx.get('message', 'Invalid input')}"
    where = _instance_path(loc)
    in_query = loc[:1] == ("query",)
    got = json_type(value)  # zod 4's name for what it got
    if kind == "missing":
        if loc == ("body",):
            return f"{where} Invalid input: expected object, received null"
        expected = _expected_type(route, loc)
        if expected is None:
            return f"{where} Invalid input"
        if expected.startswith("one of "):
            return f"{where} Invalid option: expected {expected}"
        if expected.startswith('"'):
            return f"{where} Invalid input: expected {expected}"
        return f"{where} Invalid input: expected {expected}, received undefined"
    if kind in ("string_type", "string_sub_type"):
        return f"{where} Invalid input: expected string, received {got}"
    if kind == "string_pattern_mismatch":
        return f"{where} Invalid string: must match pattern /{ctx.get('pattern', '')}/"
    if kind in ("int_parsing", "float_parsing") and in_query:
        return f"{where} Invalid input: expected number, received NaN"
    if kind == "int_from_float":
        return f"{where} Invalid input: expected int, received number"
    if kind in ("int_type", "int_parsing", "float_type", "float_parsing", "finite_number"):
        return f"{where} Invalid input: expected number, received {got}"
    if kind in ("bool_type", "bool_parsing"):
        return f"{where} Invalid input: expected boolean, received {got}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"{where} Invalid input: expected object, received {got}"
    if kind in ("list_type", "tuple_type", "set_type"):
        return f"{where} Invalid input: expected array, received {got}"
    if kind == "enum":
        return f"{where} Invalid option: expected one of {_options(str(ctx.get('expected', '')))}"
    if kind == "literal_error":
        options = _options(str(ctx.get("expected", "")))
        if "|" in options:
            return f"{where} Invalid option: expected one of {options}"
        return f"{where} Invalid input: expected {options}"
    if kind == "greater_than":
        return f"{where} Too small: expected number to be >{ctx.get('gt')}"
    if kind == "greater_than_equal":
        return f"{where} Too small: expected number to be >={ctx.get('ge')}"
    if kind == "less_than":
        return f"{where} Too big: expected number to be <{ctx.get('lt')}"
    if kind == "less_than_equal":
        return f"{where} Too big: expected number to be <={ctx.get('le')}"
    if kind == "string_too_short":
        return f"{where} Too small: expected string to have >={ctx.get('min_length')} characters"
    if kind == "string_too_long":
        return f"{where} Too big: expected string to have <={ctx.get('max_length')} characters"
    if kind == "too_short":
        return f"{where} Too small: expected array to have >={ctx.get('min_length')} items"
    if kind == "too_long":
        return f"{where} Too big: expected array to have <={ctx.get('max_length')} items"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        # zod reports a discriminated union's bad or missing tag on the tag itself.
        field = str(ctx.get("discriminator", "")).strip("'")
        if field.isidentifier():
            return f"{where.rstrip('/')}/{field} Invalid input"
    return f"{where} Invalid input"


# --- the type zod would name for a missing field: read from the route's own models


def _body_annotation(route: Any) -> Any:
    body_field = getattr(route, "body_field", None)
    return getattr(getattr(body_field, "field_info", None), "annotation", None)


def _body_is_union(route: Any) -> bool:
    return typing.get_origin(_unwrap(_body_annotation(route))) in (typing.Union, types.UnionType)


def _expected_type(route: Any, loc: Sequence[Any]) -> str | None:
    """zod's name for the type a missing field should have ("string", "array", `one of "A"|"B"`),
    read from the route's body model; None where zod names none (a union)."""
    if route is None or not loc or loc[0] != "body":
        return None
    annotation = _body_annotation(route)
    for part in loc[1:]:
        annotation = _field_annotation(annotation, str(part))
        if annotation is None:
            return None
    return _zod_type_name(annotation)


def _field_annotation(annotation: Any, name: str) -> Any:
    annotation = _unwrap(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and _UNION_TAG.match(name):
        # pydantic names a discriminated union's member by its tag: follow that member.
        return next((member for member in typing.get_args(annotation) if _has_tag(member, name)), None)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = annotation.model_fields.get(name)
        return field.annotation if field is not None else None
    return None


def _has_tag(member: Any, tag: str) -> bool:
    member = _unwrap(member)
    if not (isinstance(member, type) and issubclass(member, BaseModel)):
        return False
    field = member.model_fields.get("type")
    if field is None:
        return False
    values = typing.get_args(_unwrap(field.annotation))
    return tag in [getattr(value, "value", value) for value in values]


def _unwrap(annotation: Any) -> Any:
    """`Annotated[X, ...]`, `X | None` and a root model of X are X to zod's type name."""
    while True:
        origin = typing.get_origin(annotation)
        if isinstance(annotation, type) and issubclass(annotation, RootModel):
            annotation = annotation.model_fields["root"].annotation
        elif origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def _zod_type_name(annotation: Any) -> str | None:
    annotation = _unwrap(annotation)
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return None
    if origin in (list, tuple, set, Sequence):
        return "array"
    if origin in (dict, Mapping):
        return "record"
    if origin is typing.Literal:
        values = typing.get_args(annotation)
        if len(values) == 1:
            return f'"{getattr(values[0], "value", values[0])}"'
        return "one of " + "|".join(f'"{getattr(value, "value", value)}"' for value in values)
    if isinstance(annotation, type):
        if issubclass(annotation, Enum):
            return "one of " + "|".join(f'"{member.value}"' for member in annotation)
        if issubclass(annotation, bool):
            return "boolean"
        if issubclass(annotation, int | float):
            return "number"
        if issubclass(annotation, str):
            return "string"
        if issubclass(annotation, BaseModel):
            return "object"
        if issubclass(annotation, list):
            return "array"
        if issubclass(annotation, dict):
            return "record"
    return None
