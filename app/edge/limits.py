"""What one request and one stored field may hold (README "Limits" says why each number).

The real server bounds a request by its body limit only; here every stored field is bounded too,
so that no response (a page of 100 projects, a flow) can grow without limit, and every flow that
can be built can be served, copied and imported again.

Walks over client JSON are iterative: a flow's step tree is nested as deep as the flow is long.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from app.kit.serialization import json_bytes

# Steps in one flow version, the trigger included.
MAX_FLOW_STEPS = 1000
# JSON nesting of a version's step tree, settings included. A chain of N steps nests N deep, a
# router inside a router two levels a step: 1,000 nested routers are ~2,000 levels, which leaves
# ~1,000 levels for their settings.
MAX_FLOW_TREE_DEPTH = 3000
# A version's steps and notes as JSON: under the 5 MiB body limit, so it can be imported again.
MAX_FLOW_VERSION_BYTES = 4 * 1024 * 1024
# One free-form JSON field (`metadata`, a connection's `props`, a note, a step's settings).
MAX_FREE_JSON_BYTES = 64 * 1024
MAX_FREE_JSON_DEPTH = 100
# One string field (a display name, an external id, a note's content).
MAX_STRING_LENGTH = 64 * 1024
# Ids in one list (`projectIds`, `globalConnectionExternalIds`, `externalIds`, names to delete):
# each becomes a bind parameter, and PostgreSQL's protocol takes at most 32,767 per statement.
MAX_LIST_ITEMS = 10_000
# Values of one repeated query parameter (`externalIds=a&externalIds=b`): fewer, so that a URL with
# as many fits in MAX_HEAD_BYTES (64 KiB) even with long values and names.
MAX_QUERY_LIST_ITEMS = 1_000
# Python's default (1,000 frames) is less than the nesting of a long flow: the standard library's
# JSON parser and encoder and deep copies count each level. 10,000 levels were measured to fit the
# default 8 MiB stacks of the main thread and of worker threads.
RECURSION_LIMIT = 10_000

# The largest magnitude a JSON number may have: what a double holds (the real server parses JSON
# in JavaScript; a larger number is Infinity there and cannot be written back as JSON).
_MAX_DOUBLE = sys.float_info.max


def raise_recursion_limit() -> None:
    if sys.getrecursionlimit() < RECURSION_LIMIT:
        sys.setrecursionlimit(RECURSION_LIMIT)


class JsonProblem(Exception):
    """What is wrong with a JSON value: `path` (keys and indexes from the value's root) and a
    message that reads after the field's name ("must be ...")."""

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def check_json(value: Any, *, max_depth: int) -> int:
    """Walk `value` without recursion: refuse a nesting deeper than `max_depth` and numbers no
    double can hold; return the depth found. Each value costs the same wherever it sits: its path
    is a link to its container's, spelled out only for a problem."""
    deepest = 0
    # (value, depth, link): a link is (the container's link, key or index), None at the root.
    stack: list[tuple[Any, int, Any]] = [(value, 1, None)]
    while stack:
        item, depth, link = stack.pop()
        if isinstance(item, dict):
            if depth > max_depth:
                raise JsonProblem(_path_of(link), f"must NOT be nested more than {max_depth} levels deep")
            if depth > deepest:
                deepest = depth
            stack.extend([(child, depth + 1, (link, key)) for key, child in item.items()])
        elif isinstance(item, list):
            if depth > max_depth:
                raise JsonProblem(_path_of(link), f"must NOT be nested more than {max_depth} levels deep")
            if depth > deepest:
                deepest = depth
            stack.extend([(child, depth + 1, (link, index)) for index, child in enumerate(item)])
        elif isinstance(item, float | int) and not isinstance(item, bool) and not _finite_double(item):
            raise JsonProblem(_path_of(link), "must hold only numbers a double can hold")
    return deepest


def _path_of(link: Any) -> tuple[str | int, ...]:
    keys: list[str | int] = []
    while link is not None:
        link, key = link
        keys.append(key)
    return tuple(reversed(keys))


def _finite_double(number: float) -> bool:
    try:
        return abs(float(number)) <= _MAX_DOUBLE
    except OverflowError:
        return False


def json_size(value: Any) -> int:
    return len(json_bytes(value))


def _free_json(value: Any) -> Any:
    if value is None:
        return value
    try:
        check_json(value, max_depth=MAX_FREE_JSON_DEPTH)
    except JsonProblem as problem:
        # The field is named, not the path inside it: its keys are the client's data.
        raise nested_error((), problem.message) from None
    if json_size(value) > MAX_FREE_JSON_BYTES:
        raise nested_error((), f"must NOT be larger than {MAX_FREE_JSON_BYTES} bytes as JSON")
    return value


def nested_error(path: tuple[str | int, ...], message: str) -> PydanticCustomError:
    """An error about a part of a field; app/edge/http.py names the field, then the part's path."""
    return PydanticCustomError("nested_invalid", "{message}", {"path": "/".join(map(str, path)), "message": message})


FreeJson = Annotated[dict[str, Any], AfterValidator(_free_json)]
"""A free-form JSON object (`metadata`, `props`): bounded in size and depth, numbers a double holds."""
