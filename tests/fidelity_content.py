"""What the real schemas cannot check: the content of an answer, against the real server's rules.
Run by the real-schema hook (tests/fidelity.py) on every response it sees.

- Lists: each list route declares the real sort key (`LISTS`, citing the real source) and every
  page must be ordered by it, and continue from the page its cursor came from; its filters declare
  what a returned row must satisfy (a name filter is the real server's `ILIKE '%value%'`, `%` and
  `_` wildcards, `\\` escaping), and a filtered listing that is complete (no `next`, no `previous`)
  must be exactly the rows of the last complete unfiltered listing of the same list that satisfy
  the filters, in that order, when no write was made through the API in between.
- Errors: an ActivepiecesError body has `statusCode` equal to the HTTP status in documented mode
  and none in server mode (the real handler sends `{code, params}`); Fastify's own bodies carry it
  in both; `params` has the real shape for its `code` (`ErrorParams` of the pinned
  `@activepieces/shared`, `activepieces-error.d.ts`).

Texts compare by code point: the suite's database sorts text with the C collation (tests/pg.py)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from typing import Any, Literal

import httpx

Direction = Literal["asc", "desc"]
Mode = Literal["docs", "server"] | None  # None: a client whose app this hook cannot see (a process)


def _at(row: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        row = row.get(part) if isinstance(row, dict) else None
    return row


# --- filters ---------------------------------------------------------------------------------------


def ilike(pattern: str, value: Any) -> bool:
    """PostgreSQL's `value ILIKE pattern`: `%` any run, `_` any one character, `\\` escapes the next."""
    if not isinstance(value, str):
        return False
    regex, chars = [], iter(pattern)
    for char in chars:
        if char == "\\":
            regex.append(re.escape(next(chars, "\\")))
        elif char == "%":
            regex.append(".*")
        elif char == "_":
            regex.append(".")
        else:
            regex.append(re.escape(char))
    return re.fullmatch("".join(regex), value, re.IGNORECASE | re.DOTALL) is not None


# A filter: (the query's values of its parameter, the row) -> does the row satisfy it.
Predicate = Callable[[list[str], dict[str, Any]], bool]


def contains_name(field_path: str) -> Predicate:
    return lambda values, row: ilike(f"%{values[0]}%", _at(row, field_path))


def equals(field_path: str) -> Predicate:
    return lambda values, row: _at(row, field_path) == values[0]


def equals_folded(field_path: str) -> Predicate:
    return lambda values, row: str(_at(row, field_path)).casefold() == values[0].casefold()


def one_of(field_path: str) -> Predicate:
    return lambda values, row: _at(row, field_path) in values


def folder_is(values: list[str], row: dict[str, Any]) -> bool:
    return row.get("folderId") == (None if values[0] == "NULL" else values[0])


def lists_project(values: list[str], row: dict[str, Any]) -> bool:
    return values[0] in (row.get("projectIds") or [])


def uses_a_connection(values: list[str], row: dict[str, Any]) -> bool:
    return bool(set(values) & set(_at(row, "version.connectionIds") or []))


@dataclass(frozen=True)
class ListRoute:
    path: re.Pattern[str]
    order: tuple[tuple[str, Direction], ...]  # (field, direction); the id last
    source: str  # where the real server sorts it
    filters: dict[str, Predicate] = field(default_factory=dict)
    # Parameters naming which list it is (a project's flows): part of a listing's identity, and
    # checked on the rows like the filters.
    scope: dict[str, Predicate] = field(default_factory=dict)
    # Filters that look at something the rows do not show, under a parameter's values.
    unseen_when: Callable[[httpx.QueryParams], frozenset[str]] = lambda _query: frozenset()
    timestamps: frozenset[str] = frozenset({"created", "updated"})


def _list(path: str, *order: tuple[str, Direction], source: str, **rest: Any) -> ListRoute:
    return ListRoute(re.compile(f"^/v1/{path}$"), order, source, **rest)


# The real server's order of every list this API serves, from its newest source read (and the
# filters each applies). activepieces/activepieces, packages/server/api/src/app/.
LISTS: list[ListRoute] = [
    _list(
        "projects",
        ("type", "asc"),
        ("displayName", "asc"),
        ("id", "asc"),
        source="ee/projects/platform-project-service.ts getForPlatform: orderBy type, displayName, id ASC",
        filters={
            "displayName": contains_name("displayName"),
            "externalId": equals("externalId"),
            "types": one_of("type"),
        },
    ),
    _list(
        "flows",
        ("status", "desc"),
        ("updated", "desc"),
        ("id", "desc"),
        source="flows/flow/flow.service.ts list: orderBy status DESC, updated DESC (id DESC: withIdTiebreaker)",
        filters={
            "status": one_of("status"),
            "folderId": folder_is,
            "folderIds": one_of("folderId"),
            "externalIds": one_of("externalId"),
            "name": contains_name("version.displayName"),
            "connectionExternalIds": uses_a_connection,
        },
        scope={"projectId": equals("projectId"), "versionState": lambda _values, _row: True},
        # With versionState=LOCKED a row shows its published version, the name and connection
        # filters look at the newest one.
        unseen_when=lambda query: (
            frozenset({"name", "connectionExternalIds"}) if query.get("versionState") == "LOCKED" else frozenset()
        ),
    ),
    _list(
        "global-connections",
        ("created", "asc"),
        ("id", "asc"),
        source="app-connection/app-connection-service/app-connection-service.ts list: order ASC (created, then id)",
        filters={
            "pieceName": equals("pieceName"),
            "displayName": contains_name("displayName"),
            "status": one_of("status"),
            "scope": lambda _values, row: row.get("scope") == "PLATFORM",  # ignored: always the global ones
        },
    ),
    _list(
        "app-connections",
        ("created", "asc"),
        ("id", "asc"),
        source="app-connection/app-connection-service/app-connection-service.ts list: order ASC (created, then id)",
        filters={
            "pieceName": equals("pieceName"),
            "displayName": contains_name("displayName"),
            "status": one_of("status"),
        },
        scope={"projectId": lists_project},
    ),
    _list(
        "folders",
        ("created", "asc"),
        ("id", "asc"),
        source="flows/folder/folder.service.ts list: order ASC",
        scope={"projectId": equals("projectId")},
    ),
    _list(
        "users",
        ("created", "desc"),
        ("id", "desc"),
        source="user/user-service.ts list: the paginator's default, created DESC then id",
        filters={"externalId": equals("externalId")},
    ),
    _list(
        "project-members",
        ("created", "asc"),
        ("id", "asc"),
        source="ee/projects/project-members/project-member.service.ts list: order ASC",
        filters={"projectRoleId": equals("projectRoleId")},
        scope={"projectId": equals("projectId")},
    ),
    _list(
        "project-roles/[^/]+/project-members",
        ("created", "asc"),
        ("id", "asc"),
        source="ee/projects/project-members/project-member.service.ts list: order ASC",
    ),
    _list(
        "user-invitations",
        ("created", "asc"),
        ("id", "asc"),
        source="ee/user-invitations/user-invitation.service.ts list: order ASC",
        # The email is matched as stored: in lower case.
        filters={"projectId": equals("projectId"), "status": equals("status"), "email": equals_folded("email")},
        scope={"type": equals("type")},
    ),
    _list(
        "project-roles",
        ("created", "asc"),
        source="ee/projects/project-role/project-role.service.ts list: order created ASC (one page)",
    ),
    _list(
        "flows/[^/]+/versions",
        ("created", "desc"),
        ("id", "desc"),
        source="flows/flow-version/flow-version.service.ts list: order DESC",
    ),
]
# Lists of the real API whose order this hook does not check, and why.
UNORDERED = {
    "GET /v1/app-connections/owners": "its rows (users' names and emails) carry no sort key",
    "GET /v1/pieces": "sorted by the request's sortBy/orderBy (tests/test_pieces.py checks each)",
    "GET /v1/pieces/categories": "a fixed list",
    "GET /v1/pieces/registry": "the registry's own order",
}


def list_route(path: str) -> ListRoute | None:
    return next((route for route in LISTS if route.path.match(path)), None)


# --- state of one test -----------------------------------------------------------------------------


@dataclass
class ContentState:
    writes: int = 0  # requests other than GET seen in this test
    # (path, cursor) -> (direction, the row the cursor was made from)
    edges: dict[tuple[str, str], tuple[str, dict[str, Any]]] = field(default_factory=dict)
    # (path, scope values) -> (writes when listed, the complete unfiltered list's rows)
    listings: dict[tuple[str, tuple[tuple[str, tuple[str, ...]], ...]], tuple[int, list[dict[str, Any]]]] = field(
        default_factory=dict
    )


# --- order -----------------------------------------------------------------------------------------


def _value(route: ListRoute, name: str, row: dict[str, Any]) -> Any:
    value = _at(row, name)
    if name in route.timestamps and isinstance(value, str):
        return datetime.fromisoformat(value)
    return value


def comes_before(route: ListRoute, first: dict[str, Any], second: dict[str, Any]) -> bool | None:
    """Whether `first` comes before `second` in the route's order; None when their keys cannot tell
    (a timestamp tied at the millisecond a body shows, while the database orders microseconds)."""
    for name, direction in route.order:
        a, b = _value(route, name, first), _value(route, name, second)
        if a == b:
            if name in route.timestamps:
                return None
            continue
        if a is None or b is None or type(a) is not type(b):
            return False
        return bool(a < b) if direction == "asc" else bool(a > b)
    return False  # the same key twice: one row listed twice


def _describe(route: ListRoute, row: dict[str, Any]) -> str:
    return "(" + ", ".join(f"{name}={_at(row, name)!r}" for name, _ in route.order) + ")"


def order_violations(route: ListRoute, rows: Sequence[dict[str, Any]]) -> Iterator[str]:
    for index, (first, second) in enumerate(pairwise(rows)):
        if comes_before(route, first, second) is False:
            yield (
                f"$.data[{index + 1}] {_describe(route, second)} comes after {_describe(route, first)}: the real "
                f"server's order is {', '.join(f'{n} {d}' for n, d in route.order)} ({route.source})"
            )


# --- the checks, per response ----------------------------------------------------------------------


def _query_lists(query: httpx.QueryParams, names: dict[str, Predicate]) -> dict[str, list[str]]:
    return {name: query.get_list(name) for name in names if query.get_list(name)}


def check_list(state: ContentState, route: ListRoute, path: str, query: httpx.QueryParams, body: Any) -> Iterator[str]:
    rows = body.get("data") if isinstance(body, dict) else body
    if not isinstance(rows, list):
        return
    yield from order_violations(route, rows)

    cursor = query.get("cursor")
    edge = state.edges.get((path, cursor)) if cursor else None
    if edge is not None and rows:
        direction, row = edge
        if direction == "next" and comes_before(route, row, rows[0]) is False:
            yield f"the page after {_describe(route, row)} starts with {_describe(route, rows[0])}, not after it"
        if direction == "prev" and comes_before(route, rows[-1], row) is False:
            yield f"the page before {_describe(route, row)} ends with {_describe(route, rows[-1])}, not before it"
    if isinstance(body, dict) and rows:
        if body.get("next"):
            state.edges[(path, body["next"])] = ("next", rows[-1])
        if body.get("previous"):
            state.edges[(path, body["previous"])] = ("prev", rows[0])

    unseen = route.unseen_when(query)
    filters = {k: v for k, v in _query_lists(query, route.filters).items() if k not in unseen}
    scope = _query_lists(query, route.scope)
    checks = {**{k: route.filters[k] for k in filters}, **{k: route.scope[k] for k in scope}}
    values = {**filters, **scope}
    for index, row in enumerate(rows):
        for name, predicate in checks.items():
            if not predicate(values[name], row):
                yield f"$.data[{index}] (id {row.get('id')!r}) does not satisfy the filter {name}={values[name]!r}"

    # A complete listing: remembered unfiltered, compared with when filtered.
    complete = isinstance(body, dict) and body.get("next") is None and body.get("previous") is None
    filtered_at_all = any(query.get_list(name) for name in route.filters)
    # Parameters this table does not know may narrow the list in ways it cannot predict.
    known = {*route.filters, *route.scope, "limit", "cursor"} - unseen
    if not complete or cursor or not set(query.keys()) <= known:
        return
    key = (path, tuple(sorted((name, tuple(v)) for name, v in scope.items())))
    if not filtered_at_all:
        state.listings[key] = (state.writes, list(rows))
        return
    remembered = state.listings.get(key)
    if remembered is None or remembered[0] != state.writes:
        return
    expected = [row.get("id") for row in remembered[1] if all(checks[n](values[n], row) for n in filters)]
    got = [row.get("id") for row in rows]
    if got != expected:
        yield (
            f"the filters {filters} answered {got}, but the rows of the full listing that satisfy them are {expected}"
        )


# --- errors ----------------------------------------------------------------------------------------

STR = (str,)
STR_OR_NULL = (str, type(None))


@dataclass(frozen=True)
class Params:
    required: dict[str, tuple[type, ...]] = field(default_factory=dict)
    optional: dict[str, tuple[type, ...]] = field(default_factory=dict)
    open_strings: bool = False  # `Record<string, string> & {...}`: any further key, a string


# `ErrorParams` of @activepieces/shared (activepieces-error.d.ts), for the codes this API answers.
PARAMS: dict[str, Params] = {
    "ENTITY_NOT_FOUND": Params(optional={"message": STR, "entityType": STR, "entityId": STR, "extra": (dict,)}),
    "VALIDATION": Params(required={"message": STR}),
    "AUTHENTICATION": Params(required={"message": STR}),
    "AUTHORIZATION": Params(optional={"message": STR}, open_strings=True),
    "INVALID_BEARER_TOKEN": Params(optional={"message": STR}),
    "INVALID_API_KEY": Params(),
    "FEATURE_DISABLED": Params(required={"message": STR}),
    "QUOTA_EXCEEDED": Params(required={"metric": STR}),
    "PROJECT_EXTERNAL_ID_ALREADY_EXISTS": Params(required={"externalId": STR}),
    "FLOW_OPERATION_INVALID": Params(required={"message": STR}),
    "FLOW_OPERATION_IN_PROGRESS": Params(required={"message": STR}),
    "EXISTING_USER": Params(required={"email": STR, "platformId": STR_OR_NULL}),
    "ENGINE_OPERATION_FAILURE": Params(required={"message": STR}, optional={"context": (object,)}),
    "PIECE_SYNC_NOT_SUPPORTED": Params(required={"release": STR, "message": STR}),
}
# Params this server adds on purpose (docs/fidelity.md lists them).
EXTRA_PARAMS: dict[str, dict[str, tuple[type, ...]]] = {
    "FLOW_OPERATION_INVALID": {"invalidSteps": (list,)},
}
# Documented mode only: keys the contract always names, `null` where there is nothing to name (the
# real server leaves them out).
DOCUMENTED_NULLS: dict[str, frozenset[str]] = {"ENTITY_NOT_FOUND": frozenset({"entityId"})}


def params_violations(code: str, params: Any, mode: Mode = None) -> Iterator[str]:
    if not isinstance(params, dict):
        yield f"$.params must be an object, not {params!r}"
        return
    shape = PARAMS.get(code)
    if shape is None:
        return
    extra = EXTRA_PARAMS.get(code, {})
    for name in shape.required:
        if name not in params:
            yield f"$.params.{name} is missing (the real {code} params have {sorted(shape.required)})"
    for name, value in params.items():
        kinds = shape.required.get(name) or shape.optional.get(name) or extra.get(name)
        if kinds is None and shape.open_strings:
            kinds = STR
        if value is None and mode != "server" and name in DOCUMENTED_NULLS.get(code, ()):
            continue
        if kinds is None:
            yield f"$.params.{name}: the real {code} params have no such key"
        elif not isinstance(value, kinds):
            yield f"$.params.{name} is {value!r}, not of the real type"


def error_violations(mode: Mode, status: int, body: Any, *, check_params: bool = True) -> Iterator[str]:
    if not isinstance(body, dict):
        return
    code = body.get("code")
    fastify = code is None or (isinstance(code, str) and code.startswith("FST_ERR_"))
    if fastify or mode == "docs":
        if body.get("statusCode") != status:
            yield f"$.statusCode is {body.get('statusCode')!r}, the answer's status is {status}"
    elif mode == "server" and "statusCode" in body:
        yield "$.statusCode: the real server's error body is {code, params} only"
    elif "statusCode" in body and body["statusCode"] != status:
        yield f"$.statusCode is {body['statusCode']!r}, the answer's status is {status}"
    if not fastify and check_params:
        yield from params_violations(str(code), body.get("params"), mode)
