"""Prometheus metrics (`GET /metrics`): requests by route template, method and status; latency;
errors by their envelope's code; the database pools.

Several uvicorn workers (`openpieces serve --workers N`) are separate processes: `serve` then
points `PROMETHEUS_MULTIPROC_DIR` at a fresh directory before they start, every worker writes its
numbers there, and whichever worker answers a scrape adds them all up. Separate replicas are
separate targets: Prometheus scrapes each one.

The per-request cost is one dictionary look-up, a counter increment and a histogram observation;
the pools are read when scraped, not counted per request."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from typing import Any

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import multiprocess as prometheus_multiprocess
from starlette.routing import compile_path
from starlette.types import Scope

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST
UNMATCHED_ROUTE = "unmatched"

# From a cached by-id read (~1 ms) to a request stuck behind a full pool.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

_REGISTRY = CollectorRegistry()

REQUESTS = Counter(
    "openpieces_http_requests",
    "HTTP requests answered, by route template, method and status.",
    ["method", "route", "status"],
    registry=_REGISTRY,
)
LATENCY = Histogram(
    "openpieces_http_request_duration_seconds",
    "Time from a request's arrival to its last byte sent, by route template and method.",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
    registry=_REGISTRY,
)
ERRORS = Counter(
    "openpieces_http_errors",
    "Error responses, by the `code` of their error body (VALIDATION, ENTITY_NOT_FOUND, ...).",
    ["method", "route", "status", "code"],
    registry=_REGISTRY,
)
# livesum: with several workers, the sum over the workers alive now.
POOL_CONNECTIONS = Gauge(
    "openpieces_db_pool_connections",
    "Database connections held by the pool: in_use (checked out) or idle.",
    ["pool", "state"],
    registry=_REGISTRY,
    multiprocess_mode="livesum",
)
POOL_WAITING = Gauge(
    "openpieces_db_pool_waiting",
    "Callers waiting for a database connection because the pool is at its limit.",
    ["pool"],
    registry=_REGISTRY,
    multiprocess_mode="livesum",
)
POOL_LIMIT = Gauge(
    "openpieces_db_pool_limit",
    "The most connections the pool opens (PostgreSQL or the pooler must allow the sum).",
    ["pool"],
    registry=_REGISTRY,
    multiprocess_mode="livesum",
)


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROCESS_ENV) or None


def prepare_multiprocess_dir(path: str) -> None:
    """A worker's files of an earlier run would be added to this one's: start empty."""
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        if name.endswith(".db"):
            os.remove(os.path.join(path, name))


def worker_exited() -> None:
    """Drop this worker's gauges (a pool that is gone holds no connections); counters stay."""
    if multiprocess_dir():
        prometheus_multiprocess.mark_process_dead(os.getpid())


def api_route(template: str) -> str:
    # `/api/v1/x` and `/v1/x` are one route.
    return template[4:] if template.startswith("/api/v1") else template


def _error_code(body: bytes) -> str:
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return "UNKNOWN"
    code = parsed.get("code") if isinstance(parsed, dict) else None
    return code if isinstance(code, str) else "UNKNOWN"


class RequestMetrics:
    """What the edge records once a request is answered, labelled by its route template.
    `templates` are the app's public route templates (its OpenAPI paths), to name the route of a
    request answered before routing: a bad key, an oversized body, an injected fault."""

    def __init__(self, templates: Callable[[], Iterable[str]]) -> None:
        self._templates = templates
        self._patterns: list[tuple[re.Pattern[str], str]] | None = None
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._routed: dict[tuple[str, int], tuple[str, str]] = {}

    def route_of(self, scope: Scope) -> str:
        template = getattr(scope.get("route"), "path_format", None)
        if template is None:
            return self._match(scope["path"])
        path = scope["path"]
        # Cached by template and depth: this runs on every request.
        key = (template, path.count("/"))
        known = self._routed.get(key)
        if known is not None and path.startswith(known[0]):
            return known[1]
        # A route of an included router knows its path below the prefix it was included with
        # (`/projects/{id}` under `/v1`): the prefix is what the path has in front of as many
        # segments as the template has.
        segments = path.split("/")
        prefix = "/".join(segments[: len(segments) - template.count("/")])
        full = api_route(prefix + template)
        self._routed[key] = (prefix, full)
        return full

    def _match(self, path: str) -> str:
        if self._patterns is None:
            self._patterns = [(compile_path(template)[0], template) for template in self._templates()]
        path = api_route(path)
        for pattern, template in self._patterns:
            if pattern.match(path):
                return template
        return UNMATCHED_ROUTE

    def error_code(self, body: bytes) -> str:
        return _error_code(body)

    def observe(self, scope: Scope, status: int, seconds: float, code: str | None) -> None:
        method = scope["method"]
        route = self.route_of(scope)
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = (REQUESTS.labels(method, route, str(status)), LATENCY.labels(method, route))
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)
        if code is not None:
            ERRORS.labels(method, route, str(status), code).inc()


def record_pools(stats: Iterable[Any]) -> None:
    for pool in stats:
        POOL_CONNECTIONS.labels(pool.name, "in_use").set(pool.in_use)
        POOL_CONNECTIONS.labels(pool.name, "idle").set(pool.idle)
        POOL_WAITING.labels(pool.name).set(pool.waiting)
        POOL_LIMIT.labels(pool.name).set(pool.limit)


def scrape() -> bytes:
    """The exposition: this process's registry, or every worker's files added up."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(_REGISTRY)
