"""Comparing a recorded answer with a replayed one, by rule rather than by hand:

- an id (21 characters of `[0-9a-zA-Z]`, alone or inside a text such as an error message) matches
  the replay's id at the same place; the first time a recorded id is met it is paired with the
  replay's, and from then on it must meet that one (so a reference to the wrong row is found), and
  every later request says the replay's id where the recording said the recorded one;
- an ISO 8601 timestamp matches any timestamp;
- a page's (`{data, next, previous}`) cursors match any cursor (`null` only `null`), and a
  recorded cursor sent back in `?cursor=` is sent as the replay's;
- a value the server draws at random (a new project's icon colour) matches any value of its type;
- everything else must be equal: the status, each field (missing and extra ones are reported), each
  JSON type, each value, each list's length."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Any

from app.kit.ids import ID_LENGTH
from app.kit.serialization import json_type

_ID_TOKEN = re.compile(rf"\b[0-9a-zA-Z]{{{ID_LENGTH}}}\b")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?$")
CURSOR_FIELDS = frozenset({"next", "previous"})
CURSOR_PARAMETER = "cursor"
# JSON pointer endings of values drawn at random (the real server picks a new project's colour so).
RANDOM_VALUES = ("/icon/color",)


@dataclass(frozen=True)
class Difference:
    exchange: int  # 1 for the recording's first line
    method: str
    path: str  # as recorded
    where: str  # "status", or a JSON pointer into the body ("" is the whole body)
    kind: str  # status, missing, extra, type, value, id, timestamp, cursor
    recorded: Any
    replayed: Any

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def is_timestamp(value: Any) -> bool:
    return isinstance(value, str) and _TIMESTAMP.match(value) is not None


def _pointer(parent: str, key: str | int) -> str:
    return f"{parent}/{str(key).replace('~', '~0').replace('/', '~1')}"


class Correspondence:
    """Which replayed id (and cursor) stands for which recorded one, learnt as the replay goes."""

    def __init__(self) -> None:
        self.ids: dict[str, str] = {}
        self._recorded_of: dict[str, str] = {}
        self.cursors: dict[str, str] = {}

    # Requests: what the recording said, in the replay's ids.
    def translate_text(self, text: str) -> str:
        return _ID_TOKEN.sub(lambda found: self.ids.get(found.group(), found.group()), text)

    def translate(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.translate_text(value)
        if isinstance(value, list):
            return [self.translate(item) for item in value]
        if isinstance(value, dict):
            return {key: self.translate(item) for key, item in value.items()}
        return value

    def translate_cursor(self, cursor: str) -> str:
        return self.cursors.get(cursor, cursor)

    # Answers.
    def match_id(self, recorded: str, replayed: str) -> bool:
        """Pairs the two on first sight; afterwards, whether they are a pair."""
        if recorded not in self.ids and replayed not in self._recorded_of:
            self.ids[recorded] = replayed
            self._recorded_of[replayed] = recorded
        return self.ids.get(recorded) == replayed


class _Comparison:
    def __init__(self, correspondence: Correspondence) -> None:
        self.correspondence = correspondence
        self.found: list[tuple[str, str, Any, Any]] = []  # where, kind, recorded, replayed

    def differ(self, where: str, kind: str, recorded: Any, replayed: Any) -> None:
        self.found.append((where, kind, recorded, replayed))

    def compare(self, where: str, recorded: Any, replayed: Any, *, cursor: bool = False) -> None:
        recorded_type, replayed_type = json_type(recorded), json_type(replayed)
        if cursor and (recorded_type, replayed_type) == ("string", "string"):
            self.correspondence.cursors.setdefault(recorded, replayed)
        elif recorded_type != replayed_type:
            self.differ(where, "type", recorded, replayed)
        elif recorded_type == "object":
            self.compare_objects(where, recorded, replayed)
        elif recorded_type == "array":
            self.compare_arrays(where, recorded, replayed)
        elif where.endswith(RANDOM_VALUES):
            pass  # drawn at random: its type is all that can match
        elif recorded_type == "string":
            self.compare_strings(where, recorded, replayed)
        elif recorded != replayed:
            self.differ(where, "value", recorded, replayed)

    def compare_objects(self, where: str, recorded: dict[str, Any], replayed: dict[str, Any]) -> None:
        page = "data" in recorded  # `{data, next, previous}`: only a page's `next` is a cursor
        for key, value in recorded.items():
            if key not in replayed:
                self.differ(_pointer(where, key), "missing", value, None)
            else:
                self.compare(_pointer(where, key), value, replayed[key], cursor=page and key in CURSOR_FIELDS)
        for key, value in replayed.items():
            if key not in recorded:
                self.differ(_pointer(where, key), "extra", None, value)

    def compare_arrays(self, where: str, recorded: list[Any], replayed: list[Any]) -> None:
        for index, (left, right) in enumerate(zip(recorded, replayed, strict=False)):
            self.compare(_pointer(where, index), left, right)
        for index in range(len(replayed), len(recorded)):
            self.differ(_pointer(where, index), "missing", recorded[index], None)
        for index in range(len(recorded), len(replayed)):
            self.differ(_pointer(where, index), "extra", None, replayed[index])

    def compare_strings(self, where: str, recorded: str, replayed: str) -> None:
        if recorded == replayed and not _ID_TOKEN.search(recorded):
            return
        if is_timestamp(recorded) or is_timestamp(replayed):
            if not (is_timestamp(recorded) and is_timestamp(replayed)):
                self.differ(where, "timestamp", recorded, replayed)
            return
        recorded_ids, replayed_ids = _ID_TOKEN.findall(recorded), _ID_TOKEN.findall(replayed)
        same_text = _ID_TOKEN.split(recorded) == _ID_TOKEN.split(replayed)
        if not (same_text and len(recorded_ids) == len(replayed_ids)):
            self.differ(where, "value", recorded, replayed)
            return
        for recorded_id, replayed_id in zip(recorded_ids, replayed_ids, strict=True):
            if not self.correspondence.match_id(recorded_id, replayed_id):
                self.differ(where, "id", recorded, replayed)
                return


def compare_answers(
    exchange: int,
    method: str,
    path: str,
    recorded: tuple[int, Any],
    replayed: tuple[int, Any],
    correspondence: Correspondence,
) -> list[Difference]:
    """Every difference between a recorded (status, body) and the replayed one."""
    comparison = _Comparison(correspondence)
    if recorded[0] != replayed[0]:
        comparison.differ("status", "status", recorded[0], replayed[0])
    comparison.compare("", recorded[1], replayed[1])
    return [
        Difference(exchange, method, path, where, kind, left, right) for where, kind, left, right in comparison.found
    ]


def _short(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(difference: Difference) -> str:
    """One line of the text report."""
    place = f"#{difference.exchange} {difference.method} {difference.path}"
    if difference.kind == "status":
        return f"{place}: status {difference.recorded} recorded, {difference.replayed} replayed"
    where = f"body{difference.where}" if difference.where else "body"
    if difference.kind == "missing":
        return f"{place}: {where}: missing from the replay (recorded {_short(difference.recorded)})"
    if difference.kind == "extra":
        return f"{place}: {where}: only in the replay ({_short(difference.replayed)})"
    if difference.kind == "type":
        return (
            f"{place}: {where}: {json_type(difference.recorded)} recorded ({_short(difference.recorded)}), "
            f"{json_type(difference.replayed)} replayed ({_short(difference.replayed)})"
        )
    what = {"id": "refers to another row", "timestamp": "a timestamp on one side only", "value": "differs"}
    return (
        f"{place}: {where}: {what.get(difference.kind, difference.kind)}: recorded {_short(difference.recorded)}, "
        f"replayed {_short(difference.replayed)}"
    )
