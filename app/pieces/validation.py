"""Whether a flow step's input satisfies its piece's properties, as the real server judges a step a
client adds or updates (`piecePropertiesUtils.buildSchema` over the action's or trigger's props, plus
the connection when the piece has auth and the step requires it). Pure functions over the catalogue."""

from __future__ import annotations

from typing import Any

from app.pieces import catalog, versions

AUTH_PROPERTY = "auth"
_TEXT = {"DATE_TIME", "SHORT_TEXT", "LONG_TEXT", "COLOR", "FILE", "SECRET_TEXT"}
_NO_CHECK = {"BASIC_AUTH", "CUSTOM_AUTH", "OAUTH2", "CUSTOM"}


def _string(value: Any, required: bool) -> bool:
    return isinstance(value, str) and (not required or value != "")


def _fits(prop: dict[str, Any], value: Any) -> bool:
    kind = prop.get("type")
    required = prop.get("required") is True
    if kind == "ARRAY":
        # Not made optional as the other kinds are (the real schema checks an optional array
        # against its items): a missing array does not fit, required or not.
        items = prop.get("properties")
        if isinstance(value, list):
            if required and not value:
                return False
            if items is None:
                return all(_string(item, required) for item in value)
            return all(isinstance(item, dict) and input_fits(items, item, None) for item in value)
        return isinstance(value, dict) or _string(value, required)
    if not required and value is None:
        return True
    if kind == "MARKDOWN" or kind in _NO_CHECK:
        return True
    if kind in _TEXT:
        return _string(value, required)
    if kind == "CHECKBOX":
        return isinstance(value, (bool, str))
    if kind == "NUMBER":
        return (isinstance(value, (int, float)) and not isinstance(value, bool)) or _string(value, required)
    if kind in ("STATIC_DROPDOWN", "DROPDOWN"):
        return value is not None
    if kind == "OBJECT":
        return isinstance(value, dict) or _string(value, required)
    if kind == "JSON":
        return isinstance(value, (dict, list)) or _string(value, required)
    if kind in ("MULTI_SELECT_DROPDOWN", "STATIC_MULTI_SELECT_DROPDOWN"):
        if isinstance(value, list):
            return not required or len(value) > 0
        return _string(value, required)
    if kind == "DYNAMIC":
        return isinstance(value, dict)
    # A property type the framework does not know adds no key to the real schema.
    return True


def input_fits(props: dict[str, Any], given: dict[str, Any], auth: Any, require_auth: bool = True) -> bool:
    for name, prop in props.items():
        if isinstance(prop, dict) and prop.get("type") is not None and not _fits(prop, given.get(name)):
            return False
    if auth and require_auth:
        return _string(given.get(AUTH_PROPERTY), True)
    return True


def published_step_is_valid(
    piece_name: str, piece_version: str, kind: str, step_name: str, given: dict[str, Any]
) -> bool | None:
    """For a step of a published piece: whether its input satisfies the step's properties (False
    for a step the piece does not have). None when the catalogue does not hold the piece version:
    the caller keeps its own rule."""
    exact = piece_version.lstrip("^~")
    matching = [
        piece for piece in catalog.load() if piece["name"] == piece_name and versions.matches(piece["version"], exact)
    ]
    if not matching:
        return None
    piece = versions.newest_first(matching, lambda p: p["version"])[0]
    step = piece.get(kind, {}).get(step_name)
    if not isinstance(step, dict):
        return False
    props = step.get("props") if isinstance(step.get("props"), dict) else {}
    require_auth = step.get("requireAuth")
    return input_fits(props, given, piece.get("auth"), True if require_auth is None else bool(require_auth))
