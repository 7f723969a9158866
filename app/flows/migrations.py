"""Bring an imported flow of an older schema version up to the latest, as the real server does
before it validates an IMPORT_FLOW request (flow.controller.ts, preValidation, through the flow
migrations in packages/server/api/src/app/flows/flow-version/migrations/).

Each real migration applies to one `schemaVersion` and moves the flow to the next, up to the
newest real schema version this server knows (`LATEST_FLOW_SCHEMA_VERSION`, 28: the last migration
of the real source moves 27 to 28). The ones that change what a client can send and that need
nothing but the flow itself are done here; the others (agent, AI-provider and tables pieces,
re-resolving piece versions against the pieces' metadata) only move the version on. The step-output
nesting of version 21 (`{{step_1.x}}` rewritten to `{{step_1['output'].x}}`) is not applied: the
real server reverts it at version 22, which this server does too for a flow that arrives nested.
A version newer than the newest known is refused (`NewerSchemaVersion`): its changes are unknown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from app.kit.clock import clock
from app.kit.serialization import iso

LATEST_FLOW_SCHEMA_VERSION = "28"
# "0" to the newest, as a pattern for the API's description.
KNOWN_SCHEMA_VERSION_PATTERN = "^(" + "|".join(str(n) for n in range(int(LATEST_FLOW_SCHEMA_VERSION) + 1)) + ")$"


class NewerSchemaVersion(ValueError):
    """A flow of a schema version past the newest this server can migrate to."""

    def __init__(self, version: str) -> None:
        super().__init__(
            f"schemaVersion {version} is not a flow schema version this server can migrate from"
            f" (it knows up to {LATEST_FLOW_SCHEMA_VERSION})"
        )
        self.version = version


Step = dict[str, Any]
Flow = dict[str, Any]  # {"trigger", "schemaVersion", "notes"}: the parts of an import a migration reads


def _steps(trigger: Any) -> Iterator[Step]:
    """Every step of a raw tree, old shapes included (a BRANCH's two chains), without recursion."""
    pending = [trigger]
    while pending:
        step = pending.pop()
        if not isinstance(step, dict):
            continue
        yield step
        pending.append(step.get("nextAction"))
        pending.append(step.get("firstLoopAction"))
        children = step.get("children")
        if isinstance(children, list):
            pending.extend(children)
        pending.append(step.get("onSuccessAction"))
        pending.append(step.get("onFailureAction"))


def _settings(step: Step) -> dict[str, Any]:
    settings = step.get("settings")
    if not isinstance(settings, dict):
        settings = {}
        step["settings"] = settings
    return settings


def _branch_to_router(flow: Flow) -> None:
    """v0: the old two-way BRANCH step becomes a ROUTER with one condition branch and a fallback."""
    for step in _steps(flow.get("trigger")):
        if step.get("type") != "BRANCH":
            continue
        router = {
            "displayName": step.get("displayName"),
            "name": step.get("name"),
            "valid": step.get("valid"),
            "type": "ROUTER",
            "settings": {
                "branches": [
                    {
                        "branchName": "Branch 1",
                        "conditions": _settings(step).get("conditions"),
                        "branchType": "CONDITION",
                    },
                    {"branchName": "Otherwise", "branchType": "FALLBACK"},
                ],
                "executionType": "EXECUTE_FIRST_MATCH",
                "sampleData": {},
            },
            "nextAction": step.get("nextAction"),
            "children": [step.get("onSuccessAction"), step.get("onFailureAction")],
        }
        step.clear()  # in place: the walk goes on into the router's chains
        step.update(router)


def _http_return_response_to_webhook(flow: Flow) -> None:
    """v5: the HTTP piece's "return response" action moved to the webhook piece."""
    for step in _steps(flow.get("trigger")):
        settings = _settings(step)
        if not (
            step.get("type") == "PIECE"
            and settings.get("pieceName") == "@activepieces/piece-http"
            and settings.get("actionName") == "return_response"
        ):
            continue
        old = settings.get("input") or {}
        body = old.get("body")
        fields: dict[str, Any] = {}
        if isinstance(body, dict):
            if _version_at_least(str(settings.get("pieceVersion", "0.0.0")), (0, 5, 0)):
                if "data" in body:
                    fields["body"] = body["data"]
            else:
                fields["body"] = body
        if old.get("status") is not None:
            fields["status"] = old["status"]
        if old.get("headers"):
            fields["headers"] = old["headers"]
        manual = {"type": "MANUAL"}
        settings.update(
            {
                "pieceName": "@activepieces/piece-webhook",
                "pieceVersion": "0.1.20",
                "actionName": "return_response",
                "input": {"respond": "stop", "responseType": old.get("body_type") or "json", "fields": fields},
                "propertySettings": {
                    **(settings.get("propertySettings") or {}),
                    "respond": dict(manual),
                    "responseType": dict(manual),
                    "fields": dict(manual),
                },
            }
        )


def _version_at_least(version: str, floor: tuple[int, int, int]) -> bool:
    parts = version.lstrip("~^").split(".")
    try:
        return tuple(int(part) for part in parts[:3]) >= floor
    except ValueError:
        return False


def _property_settings(flow: Flow) -> None:
    """v6: `inputUiInfo` gives way to `propertySettings` (one per input, DYNAMIC when it was a
    customized input), `customLogoUrl` and `sampleDataSettings`."""
    for step in _steps(flow.get("trigger")):
        settings = _settings(step)
        ui = settings.get("inputUiInfo") if isinstance(settings.get("inputUiInfo"), dict) else {}
        customized = ui.get("customizedInputs") if isinstance(ui.get("customizedInputs"), dict) else {}
        schema = settings.get("schema") if isinstance(settings.get("schema"), dict) else {}
        logo = customized.get("logoUrl") or step.get("customLogoUrl")
        inputs = settings.get("input") if isinstance(settings.get("input"), dict) else {}
        settings.pop("inputUiInfo", None)
        if logo is not None:
            settings["customLogoUrl"] = logo
        settings["sampleDataSettings"] = {
            key: ui[key] for key in ("sampleDataFileId", "sampleDataInputFileId", "lastTestDate") if ui.get(key)
        }
        settings["propertySettings"] = {
            key: {"type": "DYNAMIC" if customized.get(key) else "MANUAL"}
            | ({"schema": schema[key]} if schema.get(key) is not None else {})
            for key in inputs
        }


def _add_notes(flow: Flow) -> None:
    """v13: a version always has a notes list."""
    if flow.get("notes") is None:
        flow["notes"] = []


def _add_last_updated_date(flow: Flow) -> None:
    """v17: every step carries `lastUpdatedDate` (its sample's last test date, else now)."""
    now = iso(clock.now())
    for step in _steps(flow.get("trigger")):
        sample = _settings(step).get("sampleData")
        tested = sample.get("lastTestDate") if isinstance(sample, dict) else None
        step["lastUpdatedDate"] = tested or now


def _exact_piece_versions(flow: Flow) -> None:
    """v19: piece versions lose their `~`/`^` range (the real server resolves the range against the
    pieces it has, falling back to the bare version when it has none; this server has none)."""
    for step in _steps(flow.get("trigger")):
        settings = _settings(step)
        version = settings.get("pieceVersion")
        if step.get("type") in ("PIECE", "PIECE_TRIGGER") and isinstance(version, str) and version[:1] in "~^":
            settings["pieceVersion"] = version[1:]


_STEP_OUTPUT = "['output']"
_MUSTACHE = re.compile(r"\{\{.*?\}\}", re.DOTALL)


def _revert_step_output_nesting(flow: Flow) -> None:
    """v22: the v21 nesting is undone (`{{step_1['output'].x}}` is `{{step_1.x}}` again, for the
    flow's own step names, inside expressions), and the reverted feature's
    `continueOnFailureBranches` are dropped with their subtrees."""
    names = [str(step["name"]) for step in _steps(flow.get("trigger")) if isinstance(step.get("name"), str)]
    if not names:
        return
    nested = re.compile("(?<![A-Za-z0-9_])(" + "|".join(map(re.escape, names)) + r")\[['\"]output['\"]\]")

    def unwrap_token(match: re.Match[str]) -> str:
        return nested.sub(r"\1", match.group(0))

    def unwrap(value: Any) -> Any:
        if isinstance(value, str):
            return _MUSTACHE.sub(unwrap_token, value) if "output" in value else value
        if isinstance(value, list):
            return [unwrap(item) for item in value]
        if isinstance(value, dict):
            return {key: unwrap(item) for key, item in value.items() if key != "continueOnFailureBranches"}
        return value

    for step in _steps(flow.get("trigger")):
        if isinstance(step.get("settings"), dict):
            step["settings"] = unwrap(step["settings"])


def _piece_steps(flow: Flow, *, triggers: bool) -> Iterator[dict[str, Any]]:
    """The settings of every piece action (and, with `triggers`, piece trigger)."""
    kinds = ("PIECE", "PIECE_TRIGGER") if triggers else ("PIECE",)
    for step in _steps(flow.get("trigger")):
        if step.get("type") in kinds:
            yield _settings(step)


def _fix_piece_versions(piece_name: str, broken: set[str], fixed: str, *, triggers: bool) -> Callable[[Flow], None]:
    def fix(flow: Flow) -> None:
        for settings in _piece_steps(flow, triggers=triggers):
            if settings.get("pieceName") == piece_name and settings.get("pieceVersion") in broken:
                settings["pieceVersion"] = fixed

    return fix


AI_PIECE_NAME = "@activepieces/piece-ai"
AI_PIECE_COST_BILLING_VERSION = (0, 11, 0)
_AGENT_DEFAULT_MAX_STEPS = 20
_LEADING_VERSION = re.compile(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?")


def _coerced(version: Any) -> tuple[int, int, int] | None:
    """semver.coerce: the first `x[.y[.z]]` in the string, missing parts 0."""
    match = _LEADING_VERSION.search(version) if isinstance(version, str) else None
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2) or 0), int(match.group(3) or 0)


def _ai_piece_cost_billing(flow: Flow) -> None:
    """v26: the AI piece is raised to the first version that bills by cost (0.11.0), and its
    agent action gets a numeric `maxSteps` (the stored one when it is a positive integer as text,
    else 20; a number or an expression is kept)."""
    floor = ".".join(map(str, AI_PIECE_COST_BILLING_VERSION))
    for settings in _piece_steps(flow, triggers=False):
        if settings.get("pieceName") != AI_PIECE_NAME:
            continue
        current = _coerced(settings.get("pieceVersion"))
        if current is None or current < AI_PIECE_COST_BILLING_VERSION:
            settings["pieceVersion"] = floor
        if settings.get("actionName") != "run_agent":
            continue
        inputs = settings.get("input") if isinstance(settings.get("input"), dict) else {}
        stored = inputs.get("maxSteps")
        if (isinstance(stored, int | float) and not isinstance(stored, bool)) or (
            isinstance(stored, str) and _MUSTACHE.search(stored)
        ):
            continue
        settings["input"] = {**inputs, "maxSteps": _positive_integer(stored) or _AGENT_DEFAULT_MAX_STEPS}


def _positive_integer(value: Any) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = float(value.strip())
    except ValueError:
        return None
    return int(parsed) if parsed.is_integer() and parsed > 0 else None


_HTTP_PIECE = "@activepieces/piece-http"
_UPGRADES = {
    _HTTP_PIECE: (
        {"0.8.4", "0.8.6", "0.8.7", "0.11.0", "0.11.1", "0.11.2"} | {f"0.11.{patch}" for patch in range(4, 11)},
        "0.11.21",
    ),
    "@activepieces/piece-slack": ({"0.15.0", "0.16.0", "0.16.1", "0.16.2", "0.16.3", "0.16.4"}, "0.17.9"),
    "@activepieces/piece-oracle-database": ({"0.1.11", "0.1.12"}, "0.1.15"),
}
_NON_GET_METHODS = {"POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}


def _piece_version_upgrades(flow: Flow) -> None:
    """v27: known broken versions of the HTTP, Slack and Oracle Database pieces move to fixed ones,
    except an HTTP request (or a piece's custom API call) that may send a GET with a body, which the
    newer versions refuse."""
    for settings in _piece_steps(flow, triggers=True):
        upgrade = _UPGRADES.get(str(settings.get("pieceName")))
        if upgrade is None or settings.get("pieceVersion") not in upgrade[0]:
            continue
        if _may_send_get_with_body(settings):
            continue
        settings["pieceVersion"] = upgrade[1]


def _may_send_get_with_body(settings: dict[str, Any]) -> bool:
    action = settings.get("actionName")
    guarded = action == "custom_api_call" or (settings.get("pieceName") == _HTTP_PIECE and action == "send_request")
    inputs = settings.get("input")
    if not guarded or not isinstance(inputs, dict):
        return False
    body = inputs.get("body")
    if body is None or (isinstance(body, str) and not body.strip()) or (isinstance(body, dict | list) and not body):
        return False
    method = inputs.get("method")
    return not isinstance(method, str) or method.strip().upper() not in _NON_GET_METHODS


def _nothing(flow: Flow) -> None:
    """A migration of pieces' own inputs (agents, AI providers, tables) or of the version's
    metadata, which an import does not carry; or the reverted v21 step-output nesting."""


# By the schema version each one applies to, in the real order; each moves the flow one version on.
_MIGRATIONS: list[tuple[str | None, Callable[[Flow], None]]] = [
    (None, _branch_to_router),
    ("1", _nothing),  # connectionIds, recomputed on every write here
    ("2", _nothing),
    ("3", _nothing),
    ("4", _nothing),
    ("5", _http_return_response_to_webhook),
    ("6", _property_settings),
    ("7", _nothing),
    ("8", _nothing),
    ("9", _nothing),
    ("10", _nothing),
    ("11", _nothing),
    ("12", _nothing),  # re-resolves the piece versions of LOCKED versions only; an import is a draft
    ("13", _add_notes),
    ("14", _nothing),
    ("15", _nothing),
    ("16", _nothing),
    ("17", _add_last_updated_date),
    ("18", _nothing),
    ("19", _exact_piece_versions),
    ("20", _nothing),
    ("21", _nothing),
    ("22", _revert_step_output_nesting),
    ("23", _nothing),  # re-resolves piece versions against the pieces' metadata (piece-upgrade.service)
    ("24", _fix_piece_versions("@activepieces/piece-openai", {"0.10.0"}, "0.10.1", triggers=False)),
    ("25", _fix_piece_versions(_HTTP_PIECE, {"0.11.11"}, "0.11.16", triggers=False)),
    ("26", _ai_piece_cost_billing),
    ("27", _piece_version_upgrades),
]


def assert_known(version: Any) -> None:
    """A schema version this server can migrate from (none, or a number up to the newest known)."""
    if version is None:
        return
    text = str(version)
    if not text.isdigit() or int(text) > int(LATEST_FLOW_SCHEMA_VERSION):
        raise NewerSchemaVersion(text)


def migrate(flow: Flow) -> Flow:
    """Apply, in order, every migration whose version the flow is at (in place; returns the flow)."""
    assert_known(flow.get("schemaVersion"))
    for target, apply in _MIGRATIONS:
        if flow.get("schemaVersion") == target:
            apply(flow)
            flow["schemaVersion"] = str(int(target or 0) + 1)
    return flow
