"""The catalogue of published pieces the server ships: `snapshot/pieces.json.gz`, exported from the
real `@activepieces/piece-*` packages by `snapshot/export.mjs`, read once per process."""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import re
from importlib import resources
from typing import Any

from app.pieces.versions import EXACT_VERSION_PATTERN, newest_first

# The Activepieces release this server answers as: a piece is offered when the release lies within its
# `minimumSupportedRelease`..`maximumSupportedRelease` (the real server's own release check).
SERVER_RELEASE = "0.96.2"
SNAPSHOT = "snapshot/pieces.json.gz"
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def stable_id(*parts: str) -> str:
    """A 21-character id of `[0-9a-zA-Z]` that is the same on every start (the catalogue's rows are
    not stored, but clients may keep their ids)."""
    number = int.from_bytes(hashlib.sha256("\0".join(parts).encode()).digest(), "big")
    chars = []
    for _ in range(21):
        number, digit = divmod(number, len(_ALPHABET))
        chars.append(_ALPHABET[digit])
    return "".join(chars)


def _as_official(piece: dict[str, Any]) -> dict[str, Any]:
    created = piece.pop("created")
    updated = piece.pop("updated")
    return {
        "id": stable_id(piece["name"], piece["version"]),
        "created": created,
        "updated": updated,
        **piece,
        "projectUsage": 0,
        "pieceType": "OFFICIAL",
        "packageType": "REGISTRY",
    }


@functools.cache
def load() -> tuple[dict[str, Any], ...]:
    """Every piece of the snapshot as the real catalogue holds it (an OFFICIAL, REGISTRY piece)."""
    raw = resources.files("app.pieces").joinpath(SNAPSHOT).read_bytes()
    snapshot = json.loads(gzip.decompress(raw))
    return tuple(_as_official(piece) for piece in snapshot["pieces"])


@functools.cache
def source() -> str:
    raw = resources.files("app.pieces").joinpath(SNAPSHOT).read_bytes()
    return str(json.loads(gzip.decompress(raw))["source"])


def find(name: str, version: str) -> dict[str, Any] | None:
    for piece in load():
        if piece["name"] == name and piece["version"] == version:
            return piece
    return None


def latest_version(name: str) -> str | None:
    """The newest exact version of the piece `name` in the catalogue, or None when it holds no such piece."""
    return _latest_versions().get(name)


@functools.cache
def _latest_versions() -> dict[str, str]:
    newest: dict[str, str] = {}
    for piece in newest_first(list(load()), lambda piece: piece["version"]):
        if re.match(EXACT_VERSION_PATTERN, piece["version"]):
            newest.setdefault(piece["name"], piece["version"])
    return newest


def describe() -> str:
    """One line on what the catalogue holds (`openpieces pieces`; the docs quote it)."""
    pieces = load()
    actions = sum(len(piece["actions"]) for piece in pieces)
    triggers = sum(len(piece["triggers"]) for piece in pieces)
    return f"{len(pieces)} published pieces ({actions} actions, {triggers} triggers), loaded with {source()}"
