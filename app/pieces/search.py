"""The piece search of the real list route (piece-searching.ts): a fuzzy search over the pieces'
names and descriptions and, when suggestions are asked for, their actions' and triggers', with the
options the real server gives Fuse.js (threshold 0.2, case-insensitive). Pure functions."""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from typing import Any

THRESHOLD = 0.2
# Fuse.js scores a perfect match as 0 and gives it this weight in the product of a record's keys.
EPSILON = 2.220446049250313e-16
# The nested search for suggested actions keeps Fuse's location defaults (location 0, distance 100).
DISTANCE = 100
# Bitap in Fuse.js works on at most this many characters of the pattern.
MAX_PATTERN = 32


def _errors_and_start(pattern: str, text: str) -> list[tuple[int, int]]:
    """For each end position in `text`, the fewest edits that make some substring ending there equal
    `pattern`, with where that substring starts (approximate substring matching, as Bitap does)."""
    m = len(pattern)
    previous = list(range(m + 1))
    starts = [0] * (m + 1)
    found: list[tuple[int, int]] = []
    for j, char in enumerate(text, start=1):
        current = [0] * (m + 1)
        current_starts = [j] * (m + 1)
        for i in range(1, m + 1):
            substitute = previous[i - 1] + (pattern[i - 1] != char)
            delete = previous[i] + 1
            insert = current[i - 1] + 1
            best = min(substitute, delete, insert)
            current[i] = best
            if best == substitute:
                current_starts[i] = starts[i - 1] if i > 1 else j - 1
            elif best == delete:
                current_starts[i] = starts[i]
            else:
                current_starts[i] = current_starts[i - 1]
        found.append((current[m], current_starts[m]))
        previous, starts = current, current_starts
    return found


@functools.lru_cache(maxsize=65536)
def score(pattern: str, text: str, *, ignore_location: bool) -> float | None:
    """Fuse.js's score of `text` for `pattern` (0 is perfect), or None above the threshold."""
    pattern = pattern.lower()[:MAX_PATTERN]
    text = text.lower()
    if not pattern:
        return None
    m = len(pattern)
    best: float | None = None
    index = text.find(pattern)
    if index >= 0:
        best = 0.0 if ignore_location else index / DISTANCE
    if best != 0.0:
        for errors, start in _errors_and_start(pattern, text):
            value = errors / m + (0 if ignore_location else abs(start) / DISTANCE)
            if best is None or value < best:
                best = value
    if best is None or best > THRESHOLD:
        return None
    return best


def _norm(text: str) -> float:
    # Fuse.js's field-length norm: 1 / sqrt(number of words), rounded to 3 places.
    words = max(1, len(text.split()))
    return round(1 / math.sqrt(words), 3)


def record_score(pattern: str, fields: Iterable[tuple[float, str]], *, ignore_location: bool) -> float | None:
    """A record's score over its `(weight, text)` fields, as Fuse.js computes it: the product of
    each matching field's score raised to its weight times its norm. None when no field matches."""
    total = 1.0
    matched = False
    for weight, text in fields:
        if not text:
            continue
        value = score(pattern, text, ignore_location=ignore_location)
        if value is None:
            continue
        matched = True
        total *= (EPSILON if value == 0 else value) ** (weight * _norm(text))
    return total if matched else None


def _steps(piece: dict[str, Any], kind: str, wanted: bool) -> list[dict[str, Any]]:
    return list(piece.get(kind, {}).values()) if wanted else []


def search(
    pieces: list[dict[str, Any]], query: str | None, suggestion_type: str | None
) -> list[tuple[dict[str, Any], dict[str, Any] | None, dict[str, Any] | None]]:
    """The pieces that match `query`, best first (a piece whose name holds a word of the query is
    never lost), each with the actions and triggers suggested for it (None when no query: all)."""
    if not query:
        return [(piece, None, None) for piece in pieces]
    with_actions = suggestion_type in ("ACTION", "ACTION_AND_TRIGGER")
    with_triggers = suggestion_type in ("TRIGGER", "ACTION_AND_TRIGGER")
    # Weights as the real keys give them: displayName 3, the rest 1 (normalised by their sum).
    weights = {"displayName": 3.0, "description": 1.0, "steps": 1.0}
    weight_sum = sum(weights.values()) + 3.0  # six keys: displayName, description, 4 step keys
    scored: list[tuple[float, int, dict[str, Any]]] = []
    for index, piece in enumerate(pieces):
        steps = _steps(piece, "actions", with_actions) + _steps(piece, "triggers", with_triggers)
        fields: list[tuple[float, str]] = [
            (weights["displayName"] / weight_sum, piece.get("displayName") or ""),
            (weights["description"] / weight_sum, piece.get("description") or ""),
        ]
        for step in steps:
            fields.append((weights["steps"] / weight_sum, step.get("displayName") or ""))
            fields.append((weights["steps"] / weight_sum, step.get("description") or ""))
        value = record_score(query, fields, ignore_location=True)
        if value is not None:
            scored.append((value, index, piece))
    scored.sort(key=lambda entry: (entry[0], entry[1]))
    matched = [piece for _, _, piece in scored]
    names = {piece["name"] for piece in matched}
    tokens = [token for token in query.lower().split() if token]
    for piece in pieces:
        if piece["name"] in names:
            continue
        haystack = f"{piece.get('displayName', '')} {piece['name']}".lower()
        if any(token in haystack for token in tokens):
            matched.append(piece)
    return [
        (
            piece,
            _suggest(_steps(piece, "actions", with_actions), query, piece.get("displayName") or ""),
            _suggest(_steps(piece, "triggers", with_triggers), query, piece.get("displayName") or ""),
        )
        for piece in matched
    ]


def _suggest(steps: list[dict[str, Any]], query: str, piece_display_name: str) -> dict[str, Any]:
    """The steps that match `query` by the piece's name, their own name or description, best first."""
    scored: list[tuple[float, int, dict[str, Any]]] = []
    for index, step in enumerate(steps):
        fields = [
            (1 / 3, piece_display_name),
            (1 / 3, step.get("displayName") or ""),
            (1 / 3, step.get("description") or ""),
        ]
        value = record_score(query, fields, ignore_location=False)
        if value is not None:
            scored.append((value, index, step))
    scored.sort(key=lambda entry: (entry[0], entry[1]))
    return {step["name"]: step for _, _, step in scored}
