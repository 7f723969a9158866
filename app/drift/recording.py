"""A recording: one JSON object a line, one line an exchange (a request and its answer), in the
order they were made. No header is kept (so no Authorization), and secrets are replaced."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# What a secret becomes: still a string, so a replayed request has the shape the recorded one had.
REDACTED = "<redacted>"
# Kept in a connection's value: they say which kind of value it is, and are no secret.
_VALUE_FIELDS_KEPT = frozenset({"type"})


class RecordingError(ValueError):
    """A file that is not a recording; the message names the line and what is wrong."""


@dataclass
class Exchange:
    method: str
    path: str
    query: list[tuple[str, str]] = field(default_factory=list)
    requestBody: Any = None
    status: int = 0
    responseBody: Any = None

    def to_json(self) -> str:
        body = asdict(self)
        body["query"] = [list(pair) for pair in self.query]
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def body_of(content: bytes) -> Any:
    """A body as the recording keeps it: its JSON, its text when it is not JSON, None when empty."""
    if not content:
        return None
    text = content.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def redact(value: Any, secrets: Iterable[str] = (), *, connection: bool = False) -> Any:
    """`value` with any of `secrets` (the API key) replaced wherever it appears in a string and, in a
    connection's body, every string under `value` (but its `type`)."""
    hidden = [secret for secret in secrets if secret]

    def scrub(text: str) -> str:
        for secret in hidden:
            text = text.replace(secret, REDACTED)
        return text

    def walk(node: Any, in_value: bool) -> Any:
        if isinstance(node, dict):
            return {
                key: (
                    node[key]
                    if in_value and key in _VALUE_FIELDS_KEPT and isinstance(node[key], str)
                    else walk(node[key], in_value or (connection and key == "value"))
                )
                for key in node
            }
        if isinstance(node, list):
            return [walk(item, in_value) for item in node]
        if isinstance(node, str):
            return REDACTED if in_value else scrub(node)
        return node

    return walk(value, False)


def redacted_exchange(exchange: Exchange, secrets: Iterable[str]) -> Exchange:
    """Only connections carry secret values; everything may carry the key (an echoed header...)."""
    secrets = list(secrets)
    connection = "connections" in exchange.path
    return Exchange(
        method=exchange.method,
        path=redact(exchange.path, secrets),
        query=[(name, redact(value, secrets)) for name, value in exchange.query],
        requestBody=redact(exchange.requestBody, secrets, connection=connection),
        status=exchange.status,
        responseBody=redact(exchange.responseBody, secrets, connection=connection),
    )


def read_recording(path: Path) -> list[Exchange]:
    return list(_parse(path.read_text(encoding="utf-8").splitlines(), path))


def _parse(lines: list[str], path: Path) -> Iterator[Exchange]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            yield Exchange(
                method=str(item["method"]),
                path=str(item["path"]),
                query=[(str(name), str(value)) for name, value in item.get("query", [])],
                requestBody=item.get("requestBody"),
                status=int(item["status"]),
                responseBody=item.get("responseBody"),
            )
        except KeyError as exc:
            raise RecordingError(f"{path}:{number}: not an exchange of a recording (no {exc})") from None
        except (ValueError, TypeError) as exc:
            raise RecordingError(f"{path}:{number}: not an exchange of a recording ({exc})") from None
