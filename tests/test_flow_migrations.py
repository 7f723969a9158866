"""Imported flows of older schema versions are brought up to the latest (22), as the real server's
flow migrations do before it validates an IMPORT_FLOW (app/flows/migrations.py)."""

from __future__ import annotations

from typing import Any

from tests.conftest import Tenant, personal_project_id


async def _flow(tenant: Tenant) -> str:
    response = await tenant.client.post(
        "/v1/flows", json={"displayName": "Old", "projectId": await personal_project_id(tenant)}
    )
    assert response.status_code == 201
    assert response.json()["version"]["schemaVersion"] == "22"
    return str(response.json()["id"])


async def _import(tenant: Tenant, flow_id: str, request: dict[str, Any]) -> dict[str, Any]:
    response = await tenant.client.post(f"/v1/flows/{flow_id}", json={"type": "IMPORT_FLOW", "request": request})
    assert response.status_code == 200, response.text
    return dict(response.json()["version"])


def _webhook_trigger(next_action: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "name": "trigger",
        "displayName": "Webhook",
        "type": "PIECE_TRIGGER",
        "valid": True,
        "settings": {
            "pieceName": "@activepieces/piece-webhook",
            "pieceVersion": "~0.1.3",
            "triggerName": "catch_webhook",
            "input": {"authType": "none"},
            "inputUiInfo": {"customizedInputs": {}},
        },
        "nextAction": next_action,
    }


async def test_an_unversioned_flow_gets_routers_for_branches_property_settings_and_exact_versions(
    tenant: Tenant,
) -> None:
    flow_id = await _flow(tenant)
    branch = {
        "name": "step_1",
        "displayName": "Check",
        "type": "BRANCH",
        "valid": True,
        "settings": {"conditions": [[{"firstValue": "{{trigger.body.ok}}", "operator": "BOOLEAN_IS_TRUE"}]]},
        "onSuccessAction": {
            "name": "step_2",
            "displayName": "Code",
            "type": "CODE",
            "valid": True,
            "settings": {
                "sourceCode": {"code": "export const code = async () => 1", "packageJson": "{}"},
                "input": {"value": "{{trigger.body}}"},
                "inputUiInfo": {"customizedInputs": {"value": True}},
            },
        },
        "onFailureAction": None,
    }
    version = await _import(tenant, flow_id, {"displayName": "Imported", "trigger": _webhook_trigger(branch)})
    trigger = version["trigger"]
    # v19: the range becomes the exact version; v6: inputUiInfo gives way to propertySettings.
    assert trigger["settings"]["pieceVersion"] == "0.1.3"
    assert "inputUiInfo" not in trigger["settings"]
    assert trigger["settings"]["propertySettings"] == {"authType": {"type": "MANUAL"}}
    router = trigger["nextAction"]
    # v0: a BRANCH is a ROUTER with one condition branch (its success chain) and a fallback.
    assert router["type"] == "ROUTER" and router["name"] == "step_1"
    assert router["settings"]["branches"] == [
        {
            "branchName": "Branch 1",
            "branchType": "CONDITION",
            "conditions": [[{"firstValue": "{{trigger.body.ok}}", "operator": "BOOLEAN_IS_TRUE"}]],
        },
        {"branchName": "Otherwise", "branchType": "FALLBACK"},
    ]
    assert router["settings"]["executionType"] == "EXECUTE_FIRST_MATCH"
    assert router["children"][1] is None
    code = router["children"][0]
    assert code["name"] == "step_2" and code["valid"] is True
    assert code["settings"]["propertySettings"] == {"value": {"type": "DYNAMIC"}}
    assert version["valid"] is True and version["notes"] == []
    assert version["schemaVersion"] == "22"


async def test_an_http_return_response_of_schema_5_moves_to_the_webhook_piece(tenant: Tenant) -> None:
    flow_id = await _flow(tenant)
    respond = {
        "name": "step_1",
        "displayName": "Respond",
        "type": "PIECE",
        "valid": True,
        "settings": {
            "pieceName": "@activepieces/piece-http",
            "pieceVersion": "~0.5.1",
            "actionName": "return_response",
            "input": {"status": 201, "headers": {"x": "1"}, "body": {"data": {"ok": True}}, "body_type": "json"},
            "propertySettings": {},
        },
    }
    version = await _import(
        tenant, flow_id, {"displayName": "Imported", "trigger": _webhook_trigger(respond), "schemaVersion": "5"}
    )
    settings = version["trigger"]["nextAction"]["settings"]
    assert (settings["pieceName"], settings["pieceVersion"], settings["actionName"]) == (
        "@activepieces/piece-webhook",
        "0.1.20",
        "return_response",
    )
    assert settings["input"] == {
        "respond": "stop",
        "responseType": "json",
        "fields": {"body": {"ok": True}, "status": 201, "headers": {"x": "1"}},
    }
    # v6 (next in line) derives the property settings from the new input.
    assert settings["propertySettings"] == {key: {"type": "MANUAL"} for key in ("respond", "responseType", "fields")}


async def test_a_flow_of_the_latest_schema_is_imported_as_it_is(tenant: Tenant) -> None:
    flow_id = await _flow(tenant)
    trigger = _webhook_trigger(None)
    trigger["settings"].pop("inputUiInfo")
    trigger["settings"]["propertySettings"] = {}
    # Of the latest schema, so as the real schema requires it (no migration fills it in).
    trigger["lastUpdatedDate"] = "2024-01-10T10:00:00.000Z"
    version = await _import(tenant, flow_id, {"displayName": "Imported", "trigger": trigger, "schemaVersion": "22"})
    # No migration ran (v6 would have filled propertySettings); the exact version is the step logic's.
    assert version["trigger"]["settings"]["propertySettings"] == {}
    assert version["trigger"]["settings"]["pieceVersion"] == "0.1.3"
