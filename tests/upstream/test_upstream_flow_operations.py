"""Translated from `packages/server/api/test/integration/ce/flows/flow/flow-operations.test.ts`
(activepieces/activepieces), over HTTP with API keys, with the real server's answers."""

from __future__ import annotations

from tests.conftest import Tenant, TenantFactory
from tests.upstream.helpers import code_action, create_flow, operate

NON_EXISTENT_FLOW_ID = "nonExistentId12345678"


async def flow_with_code_step(tenant: Tenant) -> dict:
    flow = await create_flow(tenant)
    added = await operate(tenant, flow["id"], "ADD_ACTION", {"parentStep": "trigger", "action": code_action("step_1")})
    assert added.status_code == 200, added.text
    return flow


# "GET /v1/flows/:id" / "should get a flow by id"
async def test_should_get_a_flow_by_id(tenant: Tenant) -> None:
    flow = await create_flow(tenant)
    response = await tenant.client.get(f"/v1/flows/{flow['id']}")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == flow["id"]
    assert body["projectId"] == flow["projectId"]
    assert body["version"]["id"] == flow["version"]["id"]


# "GET /v1/flows/:id" / "should return 404 for non-existent flow"
async def test_should_return_404_for_non_existent_flow(tenant: Tenant) -> None:
    response = await tenant.client.get(f"/v1/flows/{NON_EXISTENT_FLOW_ID}")
    assert response.status_code == 404


# "GET /v1/flows/:id (Cross-project)" / "should deny access for flow in another project"
async def test_should_deny_access_for_flow_in_another_project(make_tenant: TenantFactory) -> None:
    owner, stranger = await make_tenant(), await make_tenant()
    flow = await create_flow(owner)
    response = await stranger.client.get(f"/v1/flows/{flow['id']}")
    assert response.status_code == 403
    # The real server also names the flow's project; another platform's id is not shown here.
    assert response.json() == {
        "code": "AUTHORIZATION",
        "params": {"message": "Service is not allowed to access this project", "platformId": stranger.platform_id},
    }


# "GET /v1/flows/count" / "should count flows in project"
async def test_should_count_flows_in_project(tenant: Tenant) -> None:
    first = await create_flow(tenant)
    await create_flow(tenant)
    response = await tenant.client.get("/v1/flows/count", params={"projectId": first["projectId"]})
    assert response.status_code == 200
    assert response.json() == 2


# "DELETE /v1/flows/:id" / "should delete a flow"
async def test_should_delete_a_flow(tenant: Tenant) -> None:
    flow = await create_flow(tenant)
    response = await tenant.client.delete(f"/v1/flows/{flow['id']}")
    assert response.status_code == 204
    listed = await tenant.client.get("/v1/flows", params={"projectId": flow["projectId"]})
    assert flow["id"] not in [item["id"] for item in listed.json()["data"]]


# "DELETE /v1/flows/:id" / "should return 404 when deleting non-existent flow"
async def test_should_return_404_when_deleting_non_existent_flow(tenant: Tenant) -> None:
    response = await tenant.client.delete(f"/v1/flows/{NON_EXISTENT_FLOW_ID}")
    assert response.status_code == 404


# "DELETE /v1/flows/:id (Cross-project)" / "should deny deleting flow from another project"
async def test_should_deny_deleting_flow_from_another_project(make_tenant: TenantFactory) -> None:
    owner, stranger = await make_tenant(), await make_tenant()
    flow = await create_flow(owner)
    response = await stranger.client.delete(f"/v1/flows/{flow['id']}")
    assert response.status_code == 403
    assert (await owner.client.get(f"/v1/flows/{flow['id']}")).status_code == 200


# "POST /v1/flows/:id CHANGE_NAME" / "should rename a flow"
async def test_should_rename_a_flow(tenant: Tenant) -> None:
    flow = await create_flow(tenant, "Original Name")
    response = await operate(tenant, flow["id"], "CHANGE_NAME", {"displayName": "New Name"})
    assert response.status_code == 200
    assert response.json()["version"]["displayName"] == "New Name"


# "POST /v1/flows/:id CHANGE_FOLDER" / "should move flow to folder"
# (upstream saves a folder row; here a flow created with `folderName` makes it)
async def test_should_move_flow_to_folder(tenant: Tenant) -> None:
    folder_id = (await create_flow(tenant, "holder", folderName="Folder"))["folderId"]
    flow = await create_flow(tenant)
    response = await operate(tenant, flow["id"], "CHANGE_FOLDER", {"folderId": folder_id})
    assert response.status_code == 200
    assert response.json()["folderId"] == folder_id


# "POST /v1/flows/:id CHANGE_FOLDER" / "should move flow to null (unfolder)"
async def test_should_move_flow_to_null_unfolder(tenant: Tenant) -> None:
    folder_id = (await create_flow(tenant, "holder", folderName="Folder"))["folderId"]
    flow = await create_flow(tenant, folderId=folder_id)
    response = await operate(tenant, flow["id"], "CHANGE_FOLDER", {"folderId": None})
    assert response.status_code == 200
    assert response.json()["folderId"] is None


# "POST /v1/flows/:id UPDATE_TRIGGER" / "should update trigger to piece trigger"
async def test_should_update_trigger_to_piece_trigger(tenant: Tenant) -> None:
    flow = await create_flow(tenant)
    response = await operate(
        tenant,
        flow["id"],
        "UPDATE_TRIGGER",
        {
            "type": "PIECE_TRIGGER",
            "settings": {
                "pieceName": "@activepieces/piece-schedule",
                "pieceVersion": "0.2.0",
                "input": {},
                "triggerName": "every_hour",
                "propertySettings": {},
            },
            "valid": False,
            "name": "trigger",
            "displayName": "Schedule",
        },
    )
    assert response.status_code == 200
    trigger = response.json()["version"]["trigger"]
    assert trigger["type"] == "PIECE_TRIGGER"
    assert trigger["settings"]["pieceName"] == "@activepieces/piece-schedule"


# "POST /v1/flows/:id ADD_ACTION" / "should add code action after trigger"
async def test_should_add_code_action_after_trigger(tenant: Tenant) -> None:
    flow = await create_flow(tenant)
    response = await operate(
        tenant, flow["id"], "ADD_ACTION", {"parentStep": "trigger", "action": code_action("step_1")}
    )
    assert response.status_code == 200
    step = response.json()["version"]["trigger"]["nextAction"]
    assert step["type"] == "CODE"
    assert step["displayName"] == "Code Step"


# "POST /v1/flows/:id UPDATE_ACTION" / "should update action settings"
async def test_should_update_action_settings(tenant: Tenant) -> None:
    flow = await flow_with_code_step(tenant)
    updated = code_action("step_1", "Updated Code Step", returns="false")
    updated["settings"]["input"] = {"key": "value"}
    response = await operate(tenant, flow["id"], "UPDATE_ACTION", updated)
    assert response.status_code == 200
    assert response.json()["version"]["trigger"]["nextAction"]["displayName"] == "Updated Code Step"


# "POST /v1/flows/:id UPDATE_ACTION" / "should preserve settings.input for CODE action"
async def test_should_preserve_settings_input_for_code_action(tenant: Tenant) -> None:
    flow = await flow_with_code_step(tenant)
    input_data = {"key": "value", "nested": {"a": 1}}
    updated = code_action("step_1")
    updated["settings"]["input"] = input_data
    response = await operate(tenant, flow["id"], "UPDATE_ACTION", updated)
    assert response.status_code == 200
    assert response.json()["version"]["trigger"]["nextAction"]["settings"]["input"] == input_data


# "POST /v1/flows/:id UPDATE_ACTION" / "should preserve settings.input for PIECE action"
async def test_should_preserve_settings_input_for_piece_action(tenant: Tenant) -> None:
    flow = await create_flow(tenant)

    def piece_step(step_input: dict) -> dict:
        return {
            "type": "PIECE",
            "displayName": "Piece Step",
            "name": "step_1",
            "valid": True,
            "skip": False,
            "settings": {
                "pieceName": "@activepieces/piece-test",
                "pieceVersion": "0.1.0",
                "actionName": "test_action",
                "input": step_input,
                "propertySettings": {},
            },
        }

    added = await operate(tenant, flow["id"], "ADD_ACTION", {"parentStep": "trigger", "action": piece_step({})})
    assert added.status_code == 200
    input_data = {"field1": "hello", "field2": "{{ trigger.body }}"}
    response = await operate(tenant, flow["id"], "UPDATE_ACTION", piece_step(input_data))
    assert response.status_code == 200
    assert response.json()["version"]["trigger"]["nextAction"]["settings"]["input"] == input_data


# "POST /v1/flows/:id DELETE_ACTION" / "should delete action by name"
async def test_should_delete_action_by_name(tenant: Tenant) -> None:
    flow = await flow_with_code_step(tenant)
    response = await operate(tenant, flow["id"], "DELETE_ACTION", {"names": ["step_1"]})
    assert response.status_code == 200
    assert "nextAction" not in response.json()["version"]["trigger"]


# "POST /v1/flows/:id DUPLICATE_ACTION" / "should duplicate an action"
async def test_should_duplicate_an_action(tenant: Tenant) -> None:
    flow = await flow_with_code_step(tenant)
    response = await operate(tenant, flow["id"], "DUPLICATE_ACTION", {"stepName": "step_1"})
    assert response.status_code == 200
    first = response.json()["version"]["trigger"]["nextAction"]
    assert first is not None and first["nextAction"] is not None


# "POST /v1/flows/:id MOVE_ACTION" / "should move action to different position"
async def test_should_move_action_to_different_position(tenant: Tenant) -> None:
    flow = await create_flow(tenant)
    await operate(
        tenant, flow["id"], "ADD_ACTION", {"parentStep": "trigger", "action": code_action("step_1", "Step 1")}
    )
    await operate(
        tenant,
        flow["id"],
        "ADD_ACTION",
        {"parentStep": "step_1", "stepLocationRelativeToParent": "AFTER", "action": code_action("step_2", "Step 2")},
    )
    response = await operate(
        tenant,
        flow["id"],
        "MOVE_ACTION",
        {"name": "step_2", "newParentStep": "trigger", "stepLocationRelativeToNewParent": "AFTER"},
    )
    assert response.status_code == 200
    assert response.json()["version"]["trigger"]["nextAction"]["displayName"] == "Step 2"


# "POST /v1/flows/:id IMPORT_FLOW" / "should import flow definition"
async def test_should_import_flow_definition(tenant: Tenant) -> None:
    flow = await create_flow(tenant)
    response = await operate(
        tenant,
        flow["id"],
        "IMPORT_FLOW",
        {
            "displayName": "Imported Flow",
            "trigger": {
                "type": "EMPTY",
                "name": "trigger",
                "settings": {},
                "valid": False,
                "displayName": "Select Trigger",
            },
            "schemaVersion": None,
            "notes": None,
        },
    )
    assert response.status_code == 200
    assert response.json()["version"]["displayName"] == "Imported Flow"
    assert response.json()["version"]["state"] == "DRAFT"


# "GET /v1/flows/:flowId/versions" / "should list flow versions"
# Upstream calls it with a user's session; the route is users only, so an API key is refused.
async def test_should_list_flow_versions(tenant: Tenant) -> None:
    flow = await create_flow(tenant)
    response = await tenant.client.get(f"/v1/flows/{flow['id']}/versions")
    assert response.status_code == 403
    assert response.json() == {
        "code": "AUTHORIZATION",
        "params": {"message": "principal is not allowed for this route"},
    }
