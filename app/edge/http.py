"""HTTP plumbing shared by every router: JSON responses, the error envelope, request ids and
the access log."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

import asyncpg
import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.edge.auth import API_PREFIXES, authenticate, needs_api_key
from app.edge.compat import DOCS_POLICY, Answer, CompatPolicy
from app.kit.db import is_bad_input_error, is_primary_key_collision, is_unavailable_error
from app.kit.errors import (
    ActivepiecesError,
    DeterministicIdTaken,
    RouteNotFound,
    ServiceUnavailable,
    ValidationFailed,
)
from app.kit.ids import id_seed
from app.kit.serialization import json_bytes

log = logging.getLogger("openpieces.http")


def api_path(path: str) -> str | None:
    """`/api/v1/x` and `/v1/x` are one route; None for paths outside the API."""
    if path.startswith("/api/v1/") or path == "/api/v1":
        return path[4:]
    if path.startswith("/v1/") or path == "/v1":
        return path
    return None


# What the edge asks of the test target's traffic controls (faults, request log). The edge knows
# no domain: the admin domain implements these and `app.main` hands them in.
class InjectedFault(Protocol):
    @property
    def delay_ms(self) -> int: ...

    @property
    def status(self) -> int | None: ...

    def body(self) -> dict[str, Any]: ...


class FaultSource(Protocol):
    async def take(self, method: str, path: str) -> InjectedFault | None: ...


class RequestRecorder(Protocol):
    def record(self, entry: dict[str, Any]) -> None: ...


class DrainState(Protocol):
    """Set once the server is shutting down (app/edge/draining.py)."""

    draining: bool


class TrafficControls(Protocol):
    @property
    def faults(self) -> FaultSource: ...

    @property
    def requests(self) -> RequestRecorder: ...


class RequestObserver(Protocol):
    """Told of every answered request (`app.edge.metrics` implements it): its status, its time, and
    the `code` of its error body when it is an error."""

    def observe(self, scope: Scope, status: int, seconds: float, code: str | None) -> None: ...

    def error_code(self, body: bytes) -> str: ...


class ApJSONResponse(JSONResponse):
    media_type = "application/json; charset=utf-8"

    def render(self, content: Any) -> bytes:
        return json_bytes(content)


def compat_of(app: Any) -> CompatPolicy:
    """The app's answers policy (documented or real server's; see app/edge/compat.py)."""
    return getattr(app.state, "compat", DOCS_POLICY)


def policy_for(request: Request) -> CompatPolicy:
    """The policy for this request's answer: the app's for the Activepieces API; the admin API and
    anything else of this server's own have no real-server counterpart and keep their answers."""
    return compat_of(request.app) if request.url.path.startswith(API_PREFIXES) else DOCS_POLICY


def answer(result: Answer) -> Response:
    return ApJSONResponse(result.body, status_code=result.status)


def error_response(exc: BaseException, policy: CompatPolicy = DOCS_POLICY) -> Response:
    if isinstance(exc, ActivepiecesError):
        error = exc
    elif is_unavailable_error(exc):
        log.warning("database unavailable: %s", type(exc).__name__)
        error = ServiceUnavailable()
    elif is_bad_input_error(exc):
        # The message is ours: the database's would quote the value.
        error = ValidationFailed(
            "request contains a value that cannot be stored (a NUL character or an out-of-range value)"
        )
    elif id_seed() is not None and is_primary_key_collision(exc):
        # Random ids never collide; seeded ones do when the generator is restarted over its own rows.
        error = DeterministicIdTaken()
    else:
        log.exception("unhandled error", exc_info=exc)
        error = ActivepiecesError({"message": "Internal server error"})
    return answer(policy.render(error))


# --- request validation: the messages read like the real server's (ajv's), and never echo input.

_LOCATIONS = {"body": "body", "query": "querystring", "path": "params", "header": "headers"}


_UNION_TAG = re.compile(r"^[A-Z][A-Z0-9_]*$")


def _field_path(loc: tuple[Any, ...]) -> str:
    if not loc:
        return "request"
    head = _LOCATIONS.get(str(loc[0]), str(loc[0]))
    # Drop pydantic's own path parts: validator names and the tag of a discriminated union
    # (`value/SECRET_TEXT/secret_text` is `value/secret_text` to a client).
    rest = [str(part) for part in loc[1:] if not str(part).startswith("function-") and not _UNION_TAG.match(str(part))]
    return "/".join([head, *rest])


def _describe(error: dict[str, Any]) -> str:
    kind: str = error.get("type", "")
    ctx: dict[str, Any] = error.get("ctx") or {}
    loc = tuple(error.get("loc", ()))
    if kind == "missing" and loc == ("body",):
        return "body must be object"
    if kind == "missing":
        parent = _field_path(loc[:-1]) if len(loc) > 1 else "request"
        return f"{parent} must have required property '{loc[-1]}'"
    if kind == "nested_invalid":
        # An error about a part of a field validated by hand (a step deep in a flow, a key deep in
        # free-form JSON): the part's path goes after the field's.
        parts = tuple(part for part in str(ctx.get("path", "")).split("/") if part)
        inner = ctx.get("inner")
        if isinstance(inner, dict):
            return _describe({**inner, "loc": (*loc, *parts, *inner.get("loc", ()))})
        return f"{_field_path((*loc, *parts))} {ctx.get('message', 'is invalid')}"
    where = _field_path(loc)
    if kind == "json_invalid":
        return "body must be valid JSON"
    if kind == "string_pattern_mismatch":
        return f'{where} must match pattern "{ctx.get("pattern")}"'
    if kind in ("string_type", "string_sub_type"):
        return f"{where} must be string"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"{where} must be integer"
    if kind in ("float_type", "float_parsing", "finite_number"):
        return f"{where} must be number"
    if kind in ("bool_type", "bool_parsing"):
        return f"{where} must be boolean"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"{where} must be object"
    if kind in ("list_type", "tuple_type", "set_type"):
        return f"{where} must be array"
    if kind in ("enum", "literal_error"):
        return f"{where} must be equal to one of the allowed values"
    if kind == "greater_than":
        return f"{where} must be > {ctx.get('gt')}"
    if kind == "greater_than_equal":
        return f"{where} must be >= {ctx.get('ge')}"
    if kind == "less_than":
        return f"{where} must be < {ctx.get('lt')}"
    if kind == "less_than_equal":
        return f"{where} must be <= {ctx.get('le')}"
    if kind == "string_too_short":
        return f"{where} must NOT have fewer than {ctx.get('min_length')} characters"
    if kind == "string_too_long":
        return f"{where} must NOT have more than {ctx.get('max_length')} characters"
    if kind == "too_short":
        return f"{where} must NOT have fewer than {ctx.get('min_length')} items"
    if kind == "too_long":
        return f"{where} must NOT have more than {ctx.get('max_length')} items"
    if kind == "value_error":
        return f"{where} {ctx.get('error', 'is invalid')!s}"
    # A discriminated union (a connection's `type`, an operation's `type`): say which field.
    field = str(ctx.get("discriminator", "")).strip("'")
    if kind == "union_tag_invalid" and field.isidentifier():
        return f"{where}/{field} must be equal to one of the allowed values"
    if kind == "union_tag_not_found" and field.isidentifier():
        return f"{where} must have required property '{field}'"
    if kind == "union_tag_invalid" or kind == "union_tag_not_found":
        return f"{where} must match a schema in anyOf"
    return f"{where} is invalid"


def _non_json_content_type(request: Request, exc: RequestValidationError) -> str | None:
    """The Content-Type of a body that was refused because it was not sent as JSON (`curl -d` sends
    application/x-www-form-urlencoded), else None. FastAPI reads only JSON bodies, so the body's own
    errors would otherwise read "body must be object" for a well-formed JSON object."""
    content_type = request.headers.get("content-type")
    if not content_type:
        return None
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type == "application/json" or media_type.endswith("+json"):
        return None
    if any(error.get("loc", ())[:1] == ("body",) for error in exc.errors()):
        return media_type
    return None


def _content_type_message(media_type: str) -> str:
    return f"body must be JSON sent with Content-Type: application/json (got Content-Type: {media_type})"


def validation_message(exc: RequestValidationError) -> str:
    # Every problem at once (joined as Fastify joins ajv's errors), one per field: a client fixes its
    # request in one go instead of one refusal per missing field.
    problems: dict[tuple[Any, ...], str] = {}
    for error in exc.errors():
        loc = tuple(error.get("loc", ()))
        # A missing field is its own problem; other errors are one per field (a union's members
        # each report the same field).
        key = loc if error.get("type") == "missing" else tuple(p for p in loc if not _is_member_tag(p))
        problems.setdefault(key, _describe(error))
    return ", ".join(dict.fromkeys(problems.values())) if problems else "request is invalid"


def _is_member_tag(part: Any) -> bool:
    return isinstance(part, str) and (part.startswith("function-") or bool(_UNION_TAG.match(part)))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ActivepiecesError)
    async def _ap_error(request: Request, exc: ActivepiecesError) -> Response:
        return error_response(exc, policy_for(request))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        length = request.headers.get("content-length", "")
        wrong_type = _non_json_content_type(request, exc)
        result = policy_for(request).invalid_request(
            list(exc.errors()),
            path=request.url.path,
            route=request.scope.get("route"),
            documented=validation_message(exc) if wrong_type is None else _content_type_message(wrong_type),
            content_type=request.headers.get("content-type", ""),
            body_size=int(length) if length.isdigit() else None,
        )
        return answer(result)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        policy = policy_for(request)
        if exc.status_code == 404:
            return error_response(RouteNotFound(request.method, request.url.path), policy)
        if exc.status_code == 405:
            return error_response(RouteNotFound(request.method, request.url.path), policy)
        if exc.status_code == 413:
            return answer(policy.body_too_large(_TOO_LARGE))  # also a chunked body found too large
        if exc.status_code == 400:
            # The body could not be parsed at all (e.g. nested deeper than the JSON parser goes).
            return answer(policy.invalid_json())
        body = {"statusCode": exc.status_code, "code": "HTTP_ERROR", "params": {"message": str(exc.detail)}}
        return ApJSONResponse(body, status_code=exc.status_code)

    # Database errors are answered here, inside the app (a refused value is the client's 400; an
    # unreachable database a 503); only what is left reaches the catch-all below. The raw asyncpg
    # pool (`fast_read`) raises the OS's errors as they are (ConnectionRefusedError, TimeoutError),
    # and asyncpg.InterfaceError is no PostgresError: the catch-all answers outside the middleware,
    # so those 503s would lose their request id and be logged as 500s with a traceback.
    @app.exception_handler(DBAPIError)
    @app.exception_handler(asyncpg.PostgresError)
    @app.exception_handler(asyncpg.InterfaceError)
    @app.exception_handler(OSError)
    async def _database(request: Request, exc: Exception) -> Response:
        return error_response(exc, policy_for(request))

    @app.exception_handler(InvalidUnicodeBody)
    async def _invalid_unicode(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, InvalidUnicodeBody)
        return error_response(ValidationFailed(exc.message), policy_for(request))

    @app.exception_handler(RequestBodyTooLarge)
    async def _too_large(request: Request, exc: Exception) -> Response:
        return answer(policy_for(request).body_too_large(_TOO_LARGE))

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> Response:
        return error_response(exc, policy_for(request))


# --- JSON bodies: only strings of valid Unicode.

# A `\\uD800`..`\\uDFFF` escape: the only way a JSON body can hold a lone surrogate (a raw one is not
# UTF-8, and reading the body refuses it). Python's parser accepts one, but no such string can be
# stored or written back as JSON.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_MAX_NAMED_PROBLEMS = 20


def lone_surrogate_paths(value: Any) -> list[str]:
    """The paths (from `body`) of every key and string in `value` that holds a lone surrogate."""
    found: list[str] = []
    stack: list[tuple[Any, tuple[str, ...]]] = [(value, ("body",))]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if not _encodes(item):
                found.append("/".join(path))
        elif isinstance(item, dict):
            for key, child in item.items():
                # A key is named with the surrogate escaped: the answer must be valid JSON itself.
                shown = key if _encodes(key) else key.encode("utf-8", "backslashreplace").decode()
                if shown is not key:
                    found.append("/".join((*path, shown)) + " (key)")
                stack.append((child, (*path, shown)))
        elif isinstance(item, list):
            stack.extend((child, (*path, str(index))) for index, child in enumerate(item))
    return sorted(found)


def _encodes(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


class InvalidUnicodeBody(StarletteHTTPException):
    """A JSON body holding a lone surrogate (`"\\ud800"`). An HTTPException, so FastAPI's body reading
    passes it on (as RequestBodyTooLarge); answered 400 VALIDATION naming every such string."""

    def __init__(self, paths: list[str]) -> None:
        super().__init__(status_code=400)
        shown = [f"{path} must be a string of valid Unicode (it holds a lone surrogate)" for path in paths]
        if len(shown) > _MAX_NAMED_PROBLEMS:
            shown = [*shown[:_MAX_NAMED_PROBLEMS], f"and {len(shown) - _MAX_NAMED_PROBLEMS} more such strings"]
        self.message = ", ".join(shown)


class UnicodeCheckedRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            value = json.loads(body)
            if _SURROGATE_ESCAPE.search(body) and (paths := lone_surrogate_paths(value)):
                raise InvalidUnicodeBody(paths)
            self._json = value
        return self._json


class ApiRoute(APIRoute):
    """Every API route: its JSON body may hold only strings of valid Unicode (a lone surrogate would
    otherwise reach the size checks, the JSON encoder or PostgreSQL, and be a 500 there)."""

    def get_route_handler(self) -> Callable[[Request], Any]:
        handler = super().get_route_handler()
        if self.body_field is None:
            # No body to check (every GET): a second Request object per request would be pure cost.
            return handler

        async def checked(request: Request) -> Response:
            return await handler(UnicodeCheckedRequest(request.scope, request.receive))  # type: ignore[no-any-return]

        return checked


# --- request ids and one structured access-log line per request.

# Fastify's code, as the real server answers an oversized body.
_TOO_LARGE = {
    "statusCode": 413,
    "code": "FST_ERR_CTP_BODY_TOO_LARGE",
    "params": {"message": "Request body is too large"},
}
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class AccessLog:
    """One JSON line per request, batched: lines written in the same event-loop tick go out in one
    write. Going through `logging` (a LogRecord, a format, a write and a flush per request) cost
    ~15% of a by-id read. Fields are fixed: never a header, query string or body."""

    def __init__(self, sink: Callable[[bytes], None] | None = None) -> None:
        self.sink = sink or _write_stderr
        self._pending: list[bytes] = []

    def record(self, entry: dict[str, Any]) -> None:
        if not self._pending:
            try:
                asyncio.get_running_loop().call_soon(self.flush)
            except RuntimeError:  # no loop: write at once
                self._pending.append(orjson.dumps(entry) + b"\n")
                self.flush()
                return
        self._pending.append(orjson.dumps(entry) + b"\n")

    def flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            self.sink(data)


def _write_stderr(data: bytes) -> None:
    stream = sys.stderr
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        buffer.write(data)
    else:
        stream.write(data.decode())
    stream.flush()


class RequestBodyTooLarge(StarletteHTTPException):
    """A body sent without Content-Length grew past the limit while being read. An HTTPException,
    so FastAPI's body reading passes it on (it answers any other error while reading the body as
    400 "There was an error parsing the body")."""

    def __init__(self) -> None:
        super().__init__(status_code=413)


def _counting(receive: Receive, limit: int) -> Receive:
    received = 0

    async def counted() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise RequestBodyTooLarge
        return message

    return counted


class EdgeMiddleware:
    """What happens at the edge of every request, in one ASGI layer (each layer costs on the hot
    path): a request id, the API key check for API paths, and one access-log line."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        access_log: AccessLog | None = None,
        max_body_bytes: int | None = None,
        traffic: TrafficControls | None = None,
        observer: RequestObserver | None = None,
        drain: DrainState | None = None,
    ) -> None:
        self.app = app
        # While draining, every response closes its connection: no client keeps one to this replica.
        self.drain = drain
        self.access_log = access_log
        self.max_body_bytes = max_body_bytes
        # The admin API's faults and request log; None (no cost) unless the admin API is on.
        self.traffic = traffic
        self.observer = observer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if len(path) > 1 and path[-1] == "/":
            # `/v1/projects/` is `/v1/projects`, as on the real server (Fastify's ignoreTrailingSlash),
            # rather than an empty 307 that a client which does not follow redirects reads as nothing.
            scope["path"] = path[:-1]
        request_id = authorization = None
        body_size = 0
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"content-length" and value.isdigit():
                body_size = int(value)
            elif name == b"x-request-id":
                candidate = value.decode("latin-1")
                if _REQUEST_ID_RE.match(candidate):
                    request_id = candidate
        request_id = request_id or os.urandom(16).hex()
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        observer = self.observer
        failure_code: str | None = None  # the error body's `code`, read only for errors

        async def send_with_id(message: Message) -> None:
            nonlocal status, failure_code
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
                if self.drain is not None and self.drain.draining:
                    message["headers"].append((b"connection", b"close"))
            elif status >= 400 and observer is not None and failure_code is None:
                failure_code = observer.error_code(message.get("body", b""))
            await send(message)

        traffic = self.traffic
        api = api_path(scope["path"]) if traffic is not None else None
        try:
            fault = None
            if api is not None and traffic is not None:
                try:
                    fault = await traffic.faults.take(scope["method"], api)
                except Exception as exc:
                    if not is_unavailable_error(exc):
                        await error_response(exc, compat_of(scope["app"]))(scope, receive, send_with_id)
                        return
                    # The database is down, so no fault can be read: the request goes on and is
                    # answered as it is with the admin API off (a 401 needs no database, a 503 else).
            if fault is not None:
                if fault.delay_ms:
                    await asyncio.sleep(fault.delay_ms / 1000)
                if fault.status is not None:
                    await ApJSONResponse(fault.body(), status_code=fault.status)(scope, receive, send_with_id)
                    return
            if self.max_body_bytes is not None and body_size > self.max_body_bytes:
                # Refused before a byte of it is read.
                policy = compat_of(scope["app"]) if scope["path"].startswith(API_PREFIXES) else DOCS_POLICY
                too_large = policy.body_too_large(_TOO_LARGE)
                await answer(too_large)(scope, receive, send_with_id)
                return
            if needs_api_key(scope["path"]):
                try:
                    await authenticate(scope, authorization)
                except Exception as exc:  # a bad key, or the database being down
                    await error_response(exc, compat_of(scope["app"]))(scope, receive, send_with_id)
                    return
            if self.max_body_bytes is not None and scope["method"] in ("POST", "PUT", "PATCH"):
                receive = _counting(receive, self.max_body_bytes)
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            elapsed_ms = round(elapsed * 1000, 2)
            if observer is not None:
                observer.observe(scope, status, elapsed, failure_code or ("UNKNOWN" if status >= 400 else None))
            if api is not None and traffic is not None:
                traffic.requests.record(
                    {
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "ms": elapsed_ms,
                        "requestId": request_id,
                        "bodySize": body_size,
                    }
                )
            if self.access_log is not None:
                self.access_log.record(
                    {
                        "ts": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                        "level": "info",
                        "logger": "openpieces.access",
                        "msg": "request",
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "ms": elapsed_ms,
                        "requestId": request_id,
                    }
                )


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line. Only fields put in `extra` are added: never headers or bodies."""

    _RESERVED = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in self._RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLogFormatter())
    handler.formatter.converter = time.gmtime  # type: ignore[union-attr]
    root = logging.getLogger("openpieces")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
