"""Imported flows of older schema versions are brought up to the newest known (28), as the real
server's flow migrations do before it validates an IMPORT_FLOW (app/flows/migrations.py); a newer
one is refused."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Tenant, personal_project_id


async def _flow(tenant: Tenant) -> str:
    response = await tenant.client.post(
        "/v1/flows", json={"displayName": "Old", "projectId": await personal_project_id(tenant)}
    )
    assert response.status_code == 201
    assert response.json()["version"]["schemaVersion"] == "28"
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
    assert version["schemaVersion"] == "28"


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
    version = await _import(tenant, flow_id, {"displayName": "Imported", "trigger": trigger, "schemaVersion": "28"})
    assert version["schemaVersion"] == "28"
    # No migration ran (v6 would have filled propertySettings); the exact version is the step logic's.
    assert version["trigger"]["settings"]["propertySettings"] == {}
    assert version["trigger"]["settings"]["pieceVersion"] == "0.1.3"


# --- the schema versions past @activepieces/shared 0.96.2's 22


def _piece_step(name: str, piece: str, version: str, action: str, **inputs: Any) -> dict[str, Any]:
    return {
        "name": name,
        "displayName": name,
        "type": "PIECE",
        "valid": True,
        "lastUpdatedDate": "2024-01-10T10:00:00.000Z",
        "settings": {
            "pieceName": piece,
            "pieceVersion": version,
            "actionName": action,
            "input": inputs,
            "propertySettings": {},
        },
    }


def _chain(*steps: dict[str, Any]) -> dict[str, Any]:
    trigger = _webhook_trigger(None)
    trigger["settings"].pop("inputUiInfo")
    trigger["settings"]["propertySettings"] = {}
    trigger["lastUpdatedDate"] = "2024-01-10T10:00:00.000Z"
    current = trigger
    for step in steps:
        current["nextAction"] = step
        current = step
    return trigger


def _pieces_of(version: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    found, step = [], version["trigger"].get("nextAction")
    while step:
        found.append((step["name"], step["settings"]["pieceVersion"], step["settings"]["input"]))
        step = step.get("nextAction")
    return found


async def test_a_flow_of_schema_23_is_kept_at_the_newest_version_not_rewritten_to_22(tenant: Tenant) -> None:
    flow_id = await _flow(tenant)
    trigger = _chain(_piece_step("step_1", "@activepieces/piece-slack", "0.1.5", "send_message"))
    version = await _import(tenant, flow_id, {"displayName": "Newer", "trigger": trigger, "schemaVersion": "23"})
    assert version["schemaVersion"] == "28"
    assert _pieces_of(version) == [("step_1", "0.1.5", {})]
    flow = (await tenant.client.get(f"/v1/flows/{flow_id}")).json()
    assert flow["version"]["schemaVersion"] == "28"


async def test_piece_versions_fixed_by_the_migrations_24_to_27(tenant: Tenant) -> None:
    flow_id = await _flow(tenant)
    trigger = _chain(
        _piece_step("step_1", "@activepieces/piece-openai", "0.10.0", "ask_chatgpt"),  # v24
        _piece_step("step_2", "@activepieces/piece-http", "0.11.11", "send_request", method="POST"),  # v25
        _piece_step("step_3", "@activepieces/piece-ai", "0.9.2", "run_agent", maxSteps="15"),  # v26
        _piece_step("step_4", "@activepieces/piece-ai", "0.12.0", "run_agent", maxSteps="{{trigger.n}}"),
        _piece_step("step_5", "@activepieces/piece-ai", "0.10.0", "askAi"),
        _piece_step("step_6", "@activepieces/piece-slack", "0.16.2", "send_message"),  # v27
        _piece_step("step_7", "@activepieces/piece-http", "0.11.4", "send_request", method="POST", body={"a": 1}),
        # A GET (or no method) with a body would be refused by the newer HTTP piece: left as it is.
        _piece_step("step_8", "@activepieces/piece-http", "0.11.4", "send_request", method="GET", body={"a": 1}),
        _piece_step("step_9", "@activepieces/piece-oracle-database", "0.1.12", "run_custom_sql"),
    )
    version = await _import(tenant, flow_id, {"displayName": "Fixes", "trigger": trigger, "schemaVersion": "24"})
    assert version["schemaVersion"] == "28"
    assert _pieces_of(version) == [
        ("step_1", "0.10.1", {}),
        ("step_2", "0.11.16", {"method": "POST"}),
        ("step_3", "0.11.0", {"maxSteps": 15}),
        ("step_4", "0.12.0", {"maxSteps": "{{trigger.n}}"}),
        ("step_5", "0.11.0", {}),
        ("step_6", "0.17.9", {}),
        ("step_7", "0.11.21", {"method": "POST", "body": {"a": 1}}),
        ("step_8", "0.11.4", {"method": "GET", "body": {"a": 1}}),
        ("step_9", "0.1.15", {}),
    ]


async def test_an_agent_without_a_usable_max_steps_gets_20(tenant: Tenant) -> None:
    flow_id = await _flow(tenant)
    trigger = _chain(_piece_step("step_1", "@activepieces/piece-ai", "0.11.2", "run_agent", maxSteps="many"))
    version = await _import(tenant, flow_id, {"displayName": "Agent", "trigger": trigger, "schemaVersion": "26"})
    assert _pieces_of(version) == [("step_1", "0.11.2", {"maxSteps": 20})]


async def test_schema_22_step_output_nesting_is_reverted(tenant: Tenant) -> None:
    flow_id = await _flow(tenant)
    trigger = _chain(
        _piece_step("step_1", "@activepieces/piece-slack", "0.1.5", "send_message", text="hi"),
        _piece_step(
            "step_2",
            "@activepieces/piece-slack",
            "0.1.5",
            "send_message",
            text="{{step_1['output'].ts}} and {{ trigger['output'].body }}; step_1['output'] outside",
        ),
    )
    version = await _import(tenant, flow_id, {"displayName": "Nested", "trigger": trigger, "schemaVersion": "22"})
    assert version["schemaVersion"] == "28"
    assert _pieces_of(version)[1][2] == {"text": "{{step_1.ts}} and {{ trigger.body }}; step_1['output'] outside"}


@pytest.mark.sends_invalid_requests("a schema version newer than any this server can migrate from")
@pytest.mark.parametrize("schema_version", ["29", "100", "next"])
async def test_a_schema_version_past_the_newest_known_is_refused_by_name(tenant: Tenant, schema_version: str) -> None:
    flow_id = await _flow(tenant)
    trigger = _chain()
    request = {"displayName": "Future", "trigger": trigger, "schemaVersion": schema_version}
    response = await tenant.client.post(f"/v1/flows/{flow_id}", json={"type": "IMPORT_FLOW", "request": request})
    assert response.status_code == 400
    message = f"body/request schemaVersion {schema_version} is not a flow schema version this server can migrate from"
    assert response.json() == {
        "statusCode": 400,
        "code": "VALIDATION",
        "params": {"message": f"{message} (it knows up to 28)"},
    }
