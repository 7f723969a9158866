"""Wire formats shared by every domain."""

import json
from datetime import UTC, datetime
from typing import Any

import orjson


def iso(value: datetime | None) -> str | None:
    """`2024-01-10T10:00:00.000Z`: UTC with milliseconds, as the real API writes timestamps."""
    if value is None:
        return None
    if value.utcoffset():
        value = value.astimezone(UTC)
    # isoformat is several times faster than strftime, and this runs for every timestamp served.
    return value.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def json_bytes(value: Any) -> bytes:
    """JSON as bytes: orjson, or the standard library for what orjson refuses (an integer past 64
    bits, which a client may send inside free-form JSON; nesting past 255 levels, as in a long
    flow's step tree)."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def json_loads(data: str | bytes) -> Any:
    """orjson, or the standard library for what orjson refuses: nesting past 1,024 levels (a long
    flow's step tree) and numbers past a double's range."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


def copy_json(value: Any) -> Any:
    """A copy of a JSON value (new objects and lists, the same strings and numbers), without
    recursion and several times faster than `copy.deepcopy`: a long flow's steps nest thousands of
    levels deep."""
    if not isinstance(value, dict | list):
        return value
    root = [value]
    pending: list[tuple[Any, Any]] = [(root, 0)]
    while pending:
        holder, key = pending.pop()
        item = holder[key]
        if isinstance(item, dict):
            holder[key] = copied = dict(item)
            pending.extend([(copied, name) for name, inner in copied.items() if isinstance(inner, dict | list)])
        else:
            holder[key] = copied = list(item)
            pending.extend([(copied, index) for index, inner in enumerate(copied) if isinstance(inner, dict | list)])
    return root[0]


def json_type(value: Any) -> str:
    """The JSON type name of a decoded value (as JSON Schema and zod name it)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    return "object"
