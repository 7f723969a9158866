"""Bring an imported flow of an older schema version up to the latest, as the real server does
before it validates an IMPORT_FLOW request (flow.controller.ts, preValidation, through the flow
migrations in packages/server/api/src/app/flows/flow-version/migrations/).

Each real migration applies to one `schemaVersion` and moves the flow to the next. The ones that
change what a client can send and that need nothing but the flow itself are done here; the others
(agent, AI-provider and tables pieces, re-resolving piece versions against the pieces' metadata)
only move the version on. The step-output nesting of version 21 (`{{step_1.x}}` rewritten to
`{{step_1['output'].x}}`) is not applied: the real server reverted it in the next schema version,
so expressions stay as the client wrote them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from app.kit.clock import clock
from app.kit.serialization import iso

LATEST_FLOW_SCHEMA_VERSION = "22"

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
]


def migrate(flow: Flow) -> Flow:
    """Apply, in order, every migration whose version the flow is at (in place; returns the flow)."""
    for target, apply in _MIGRATIONS:
        if flow.get("schemaVersion") == target:
            apply(flow)
            flow["schemaVersion"] = str(int(target or 0) + 1)
    return flow
