"""The by-id read lane: `GET /v1/<collection>/{id}` answered by the route's own endpoint without the
walk through FastAPI's router, its dependency solving and four middleware layers.

The by-id reads are the requests clients make most, and on them FastAPI's machinery cost more than
the database read. The lane takes a request only when the answer cannot differ from FastAPI's: a
GET with no query string whose path is one segment below a collection that has an eligible route,
whose id passes the route's own path-parameter validation, and that no static route of that
collection claims. Everything else (a bad id, a query string, a HEAD, any other route) goes on
through FastAPI as before, so its validation errors keep their exact bodies.

An eligible route is a GET whose path ends in its only parameter, whose other parameters are the
`Request` and optional query parameters (given their defaults), with no body, headers, cookies or
dependencies, and whose endpoint returns a `Response` itself (nothing to serialise through a
response model)."""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Receive, Scope, Send


@dataclass(frozen=True)
class _ByIdRoute:
    route: APIRoute
    id_name: str
    id_field: Any  # FastAPI's ModelField of the path parameter: the route's own validation
    request_name: str
    defaults: dict[str, Any]  # the optional query parameters, as FastAPI would pass them


def _eligible(route: APIRoute) -> _ByIdRoute | None:
    dependant = route.dependant
    if "GET" not in route.methods or len(dependant.path_params) != 1:
        return None
    if dependant.body_params or dependant.header_params or dependant.cookie_params or dependant.dependencies:
        return None
    if dependant.request_param_name is None or not inspect.iscoroutinefunction(route.endpoint):
        return None
    if any(field.field_info.is_required() for field in dependant.query_params):
        return None
    returns = inspect.signature(route.endpoint).return_annotation
    if returns not in (Response, "Response"):
        return None
    id_field = dependant.path_params[0]
    if not route.path_format.endswith("/{" + id_field.name + "}"):
        return None
    defaults = {field.name: field.get_default() for field in dependant.query_params}
    return _ByIdRoute(route, id_field.name, id_field, dependant.request_param_name, defaults)


def _is_by_id_shape(path_format: str) -> bool:
    """`/projects/{id}`: one parameter, the whole last segment."""
    head, _, last = path_format.rpartition("/")
    return "{" not in head and last.startswith("{") and last.endswith("}") and last.count("{") == 1


def _static_head(path_format: str) -> str:
    """`/projects/{id}` -> `/projects/`."""
    return path_format[: path_format.index("{")]


class ByIdLane:
    """An ASGI layer inside the edge middleware (after authentication, request id and metrics
    bookkeeping, which see the request as before) and in front of the FastAPI app."""

    def __init__(self, app: ASGIApp, *, fastapi: FastAPI, prefixes: Iterable[str], routers: Iterable[Any]) -> None:
        self.app = app
        self.fastapi = fastapi
        self.routes: dict[str, _ByIdRoute] = {}
        static: set[str] = set()
        prefixes = tuple(prefixes)
        gets = [route for router in routers for route in router.routes if isinstance(route, APIRoute)]
        gets = [route for route in gets if "GET" in route.methods]
        heads: dict[str, APIRoute] = {}  # a collection's head -> the first route of shape head/{id}
        for route in gets:
            if "{" not in route.path_format:
                static.update(prefix + route.path_format for prefix in prefixes)
            elif _is_by_id_shape(route.path_format):
                heads.setdefault(_static_head(route.path_format), route)
        for head, route in heads.items():
            by_id = _eligible(route)
            # Taken only when no other route could match one segment below the head: FastAPI
            # matches in declaration order, and the lane must pick what FastAPI would.
            probe = head + "x"
            if by_id is None or any(other is not route and other.path_regex.match(probe) for other in gets):
                continue
            for prefix in prefixes:
                self.routes[prefix + head] = by_id
        self.static = frozenset(static)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        by_id = self._route_for(scope)
        if by_id is None:
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        raw_id = path[path.rindex("/") + 1 :]
        value, errors = by_id.id_field.validate(raw_id, {}, loc=("path", by_id.id_name))
        if errors:  # FastAPI answers it, with its validation error body
            await self.app(scope, receive, send)
            return
        scope["route"] = by_id.route
        scope["endpoint"] = by_id.route.endpoint
        scope["path_params"] = {by_id.id_name: raw_id}
        request = Request(scope, receive)
        try:
            response = await by_id.route.endpoint(
                **{by_id.id_name: value, by_id.request_name: request}, **by_id.defaults
            )
        except Exception as exc:
            handler = self._handler_for(exc)
            if handler is None:  # as in FastAPI: up to the server-error layer
                raise
            response = await handler(request, exc)
        await response(scope, receive, send)

    def _route_for(self, scope: Scope) -> _ByIdRoute | None:
        if scope["type"] != "http" or scope["method"] != "GET" or scope["query_string"]:
            return None
        path = scope["path"]
        slash = path.rfind("/")
        if slash <= 0 or slash == len(path) - 1 or path in self.static:
            return None
        return self.routes.get(path[: slash + 1])

    def _handler_for(self, exc: Exception) -> Any:
        # The handlers FastAPI's exception layer would use; `Exception` itself (and 500) belong
        # to the server-error layer further out, which the exception reaches by being re-raised.
        handlers = self.fastapi.exception_handlers
        for cls in type(exc).__mro__:
            if cls is Exception:
                return None
            if cls in handlers:
                return handlers[cls]
        return None
