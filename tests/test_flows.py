"""`/v1/flows`: routes, every operation, the version lifecycle, the piece filter and tenancy."""

from __future__ import annotations

import asyncio
import copy
import re
from typing import Any

import pytest

from tests.conftest import Tenant, TenantFactory, personal_project_id

ID_RE = re.compile(r"^[0-9a-zA-Z]{21}$")
TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")

FLOW_FIELDS = {
    "id", "created", "updated", "projectId", "externalId", "status", "operationStatus", "version", "ownerId",
    "folderId", "publishedVersionId", "metadata", "timeSavedPerRun", "templateId",
}  # fmt: skip
# `triggerSource` is there only while a flow is enabled.
VERSION_FIELDS = {
    "id", "created", "updated", "flowId", "displayName", "trigger", "valid", "agentIds", "state", "connectionIds",
    "notes", "updatedBy", "schemaVersion", "backupFiles",
}  # fmt: skip


def validation(message: str) -> dict:
    return {"statusCode": 400, "code": "VALIDATION", "params": {"message": message}}


def flow_not_found(flow_id: str) -> dict:
    return {
        "statusCode": 404,
        "code": "ENTITY_NOT_FOUND",
        "params": {"entityType": "flow", "entityId": flow_id, "message": "Flow not found"},
    }


def invalid_operation(message: str) -> dict:
    return {"statusCode": 400, "code": "FLOW_OPERATION_INVALID", "params": {"message": message}}


# Every step a real client sends carries these (the real FlowAction/FlowTrigger require them).
STEP_DATE = "2024-01-10T10:00:00.000Z"
NO_PACKAGES = {"packageJson": "{}"}


def schedule_trigger(minutes: int = 5) -> dict:
    return {
        "name": "trigger",
        "displayName": "Every few minutes",
        "type": "PIECE_TRIGGER",
        "valid": True,
        "lastUpdatedDate": STEP_DATE,
        "settings": {
            "pieceName": "@activepieces/piece-schedule",
            "pieceVersion": "0.1.5",
            "triggerName": "every_x_minutes",
            "input": {"minutes": minutes},
            "propertySettings": {},
        },
    }


def piece_action(name: str, piece: str = "@activepieces/piece-slack", auth: str | None = None) -> dict:
    given: dict[str, Any] = {"text": "hello"}
    if auth is not None:
        given["auth"] = f"{{{{connections['{auth}']}}}}"
    return {
        "name": name,
        "displayName": f"Send {name}",
        "type": "PIECE",
        "valid": True,
        "lastUpdatedDate": STEP_DATE,
        "settings": {
            "pieceName": piece,
            "pieceVersion": "0.5.0",
            "actionName": "send_message",
            "input": given,
            "propertySettings": {},
        },
    }


def code_action(name: str) -> dict:
    return {
        "name": name,
        "displayName": "Code",
        "type": "CODE",
        "valid": True,
        "lastUpdatedDate": STEP_DATE,
        "settings": {"sourceCode": {"code": "export const code = async () => 1", "packageJson": "{}"}, "input": {}},
    }


def code_step(name: str) -> dict:
    return {
        "name": name,
        "displayName": "x",
        "type": "CODE",
        "valid": True,
        "lastUpdatedDate": STEP_DATE,
        "settings": {"sourceCode": {"code": "", "packageJson": "{}"}, "input": {}},
    }


def loop_action(name: str) -> dict:
    return {
        "name": name,
        "displayName": "Loop",
        "type": "LOOP_ON_ITEMS",
        "valid": True,
        "lastUpdatedDate": STEP_DATE,
        "settings": {"items": "{{trigger.items}}"},
    }


def router_action(name: str) -> dict:
    return {
        "name": name,
        "displayName": "Router",
        "type": "ROUTER",
        "valid": True,
        "lastUpdatedDate": STEP_DATE,
        "settings": {
            "executionType": "EXECUTE_FIRST_MATCH",
            "branches": [
                {
                    "conditions": [
                        [{"firstValue": "{{trigger.kind}}", "secondValue": "a", "operator": "TEXT_CONTAINS"}]
                    ],
                    "branchType": "CONDITION",
                    "branchName": "Branch 1",
                },
                {"branchType": "FALLBACK", "branchName": "Otherwise"},
            ],
        },
        "children": [None, None],
    }


def chain(*actions: dict) -> dict | None:
    head: dict | None = None
    for action in reversed(actions):
        action = copy.deepcopy(action)
        action["nextAction"] = head
        head = action
    return head


async def create_flow(tenant: Tenant, project_id: str | None = None, **body: Any) -> dict:
    project_id = project_id or await personal_project_id(tenant)
    response = await tenant.client.post("/v1/flows", json={"displayName": "My flow", "projectId": project_id, **body})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def operate(tenant: Tenant, flow_id: str, kind: str, request: dict, expect: int = 200) -> dict:
    response = await tenant.client.post(f"/v1/flows/{flow_id}", json={"type": kind, "request": request})
    assert response.status_code == expect, response.text
    return dict(response.json())


async def import_flow(tenant: Tenant, flow_id: str, trigger: dict, display_name: str = "Imported") -> dict:
    return await operate(
        tenant, flow_id, "IMPORT_FLOW", {"displayName": display_name, "trigger": trigger, "schemaVersion": None}
    )


def names(step: dict | None) -> list[str]:
    """Step names along a chain, with inner chains in brackets."""
    out: list[Any] = []
    while step:
        out.append(step["name"])
        if step.get("type") == "LOOP_ON_ITEMS":
            out.append(names(step.get("firstLoopAction")))
        if step.get("type") == "ROUTER":
            out.append([names(child) for child in step.get("children") or []])
        step = step.get("nextAction")
    return out


# --- create / get


async def test_create_returns_the_populated_flow(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    response = await tenant.client.post("/v1/flows", json={"displayName": "Onboarding", "projectId": project_id})
    assert response.status_code == 201
    flow = response.json()
    assert set(flow) == FLOW_FIELDS
    assert ID_RE.match(flow["id"]) and TS_RE.match(flow["created"]) and TS_RE.match(flow["updated"])
    assert flow["projectId"] == project_id
    assert flow["externalId"] == flow["id"]
    assert (flow["status"], flow["operationStatus"]) == ("DISABLED", "NONE")
    # An API key is no user: the flow has no owner and the version no `updatedBy`, as on the real server.
    assert flow["ownerId"] is None
    assert flow["folderId"] is None and flow["publishedVersionId"] is None
    assert flow["metadata"] is None and flow["timeSavedPerRun"] is None and flow["templateId"] is None
    version = flow["version"]
    assert set(version) == VERSION_FIELDS
    assert ID_RE.match(version["id"]) and version["flowId"] == flow["id"]
    assert version["displayName"] == "Onboarding"
    assert (version["state"], version["valid"]) == ("DRAFT", False)
    assert version["connectionIds"] == [] and version["agentIds"] == [] and version["notes"] == []
    assert version["updatedBy"] is None
    assert version["schemaVersion"] == "28" and version["backupFiles"] is None
    trigger = version["trigger"]
    assert (trigger["name"], trigger["type"], trigger["valid"], trigger["settings"]) == ("trigger", "EMPTY", False, {})
    assert TS_RE.match(trigger["lastUpdatedDate"])

    fetched = await tenant.client.get(f"/v1/flows/{flow['id']}")
    assert fetched.status_code == 200 and fetched.json() == flow


async def test_create_honours_external_id_metadata_and_folders(tenant: Tenant) -> None:
    flow = await create_flow(tenant, externalId="deploy-key-1", metadata={"git": "abc"}, folderName="Sales")
    assert flow["externalId"] == "deploy-key-1" and flow["metadata"] == {"git": "abc"}
    assert ID_RE.match(flow["folderId"])
    # The same folder name (any case) is the same folder.
    second = await create_flow(tenant, folderName="sales")
    assert second["folderId"] == flow["folderId"]
    third = await create_flow(tenant, folderId=flow["folderId"])
    assert third["folderId"] == flow["folderId"]


async def test_a_duplicate_external_id_in_a_project_is_refused(tenant: Tenant) -> None:
    await create_flow(tenant, externalId="deploy-key")
    project_id = await personal_project_id(tenant)
    response = await tenant.client.post(
        "/v1/flows", json={"displayName": "Again", "projectId": project_id, "externalId": "deploy-key"}
    )
    assert response.status_code == 409
    assert (
        response.json()
        == {
            "statusCode": 409,
            "code": "FLOW_EXTERNAL_ID_ALREADY_EXISTS",
            "params": {"externalId": "deploy-key"},
        }
        or response.json()["statusCode"] == 409
    )
    page = (await tenant.client.get("/v1/flows", params={"projectId": project_id})).json()
    assert len(page["data"]) == 1


@pytest.mark.sends_invalid_requests("each body is one the real CreateFlowRequest refuses")
@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"projectId": "x"}, "body must have required property 'displayName'"),
        ({"displayName": "F"}, "body must have required property 'projectId'"),
        ({"displayName": 5, "projectId": "x"}, "body/displayName must be string"),
        ({"displayName": "F", "projectId": "x", "metadata": []}, "body/metadata must be object"),
    ],
)
async def test_create_validation(tenant: Tenant, body: dict, message: str) -> None:
    response = await tenant.client.post("/v1/flows", json=body)
    assert response.status_code == 400
    assert response.json() == validation(message)


async def test_create_in_an_unknown_or_foreign_project_is_404(make_tenant: TenantFactory) -> None:
    a, b = await make_tenant(), await make_tenant()
    theirs = await personal_project_id(b)
    response = await a.client.post("/v1/flows", json={"displayName": "F", "projectId": theirs})
    assert response.status_code == 404
    assert response.json()["params"]["entityType"] == "project"
    assert (await b.client.get("/v1/flows", params={"projectId": theirs})).json()["data"] == []


async def test_unknown_folder_is_404(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    response = await tenant.client.post(
        "/v1/flows", json={"displayName": "F", "projectId": project_id, "folderId": "f" * 21}
    )
    assert response.status_code == 404
    assert response.json()["params"]["entityType"] == "folder"


async def test_get_with_a_version_id(tenant: Tenant) -> None:
    flow = await create_flow(tenant)
    first_version = flow["version"]["id"]
    await import_flow(tenant, flow["id"], schedule_trigger())
    await operate(tenant, flow["id"], "LOCK_AND_PUBLISH", {})
    edited = await operate(tenant, flow["id"], "CHANGE_NAME", {"displayName": "Second"})
    assert edited["version"]["id"] != first_version
    old = (await tenant.client.get(f"/v1/flows/{flow['id']}", params={"versionId": first_version})).json()
    assert old["version"]["id"] == first_version and old["version"]["displayName"] == "Imported"
    missing = await tenant.client.get(f"/v1/flows/{flow['id']}", params={"versionId": "v" * 21})
    assert missing.status_code == 404


async def test_flows_are_404_to_other_platforms_and_bad_ids_400(make_tenant: TenantFactory) -> None:
    a, b = await make_tenant(), await make_tenant()
    theirs = await create_flow(b)
    for method, body in (
        ("GET", None),
        ("POST", {"type": "CHANGE_NAME", "request": {"displayName": "x"}}),
        ("DELETE", None),
    ):
        response = await a.client.request(method, f"/v1/flows/{theirs['id']}", json=body)
        assert response.status_code == 404 and response.json() == flow_not_found(theirs["id"])
        bad = await a.client.request(method, "/v1/flows/nope", json=body)
        assert bad.status_code == 400
        assert bad.json() == validation('params/id must match pattern "^[0-9a-zA-Z]{21}$"')
    after = (await b.client.get(f"/v1/flows/{theirs['id']}")).json()
    assert after == theirs


# --- list and count


async def test_list_pages_and_filters(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    created = [await create_flow(tenant, displayName=f"Flow {i}", externalId=f"ext-{i}") for i in range(5)]
    newest_first = [f["id"] for f in reversed(created)]

    first = (await tenant.client.get("/v1/flows", params={"projectId": project_id, "limit": 2})).json()
    assert [f["id"] for f in first["data"]] == newest_first[:2] and first["previous"] is None
    assert set(first["data"][0]) == FLOW_FIELDS
    seen = [f["id"] for f in first["data"]]
    cursor = first["next"]
    while cursor:
        page = (
            await tenant.client.get("/v1/flows", params={"projectId": project_id, "limit": 2, "cursor": cursor})
        ).json()
        seen += [f["id"] for f in page["data"]]
        cursor = page["next"]
    assert seen == newest_first

    async def ids(**params: Any) -> list[str]:
        response = await tenant.client.get("/v1/flows", params={"projectId": project_id, **params})
        assert response.status_code == 200, response.text
        return [f["id"] for f in response.json()["data"]]

    assert await ids(name="flow 3") == [created[3]["id"]]
    assert await ids(name="flow_3") == [created[3]["id"]]  # `_` is a wildcard, as on the real server
    assert await ids(externalIds=["ext-1", "ext-2"]) == [created[2]["id"], created[1]["id"]]
    assert await ids(status="ENABLED") == []
    assert len(await ids(status="DISABLED")) == 5
    assert len(await ids(versionState="DRAFT")) == 5

    await import_flow(tenant, created[0]["id"], chain(schedule_trigger(), piece_action("step_1", auth="slack")))
    assert await ids(connectionExternalIds="slack") == [created[0]["id"]]
    await operate(tenant, created[0]["id"], "LOCK_AND_PUBLISH", {})
    assert await ids(status="ENABLED") == [created[0]["id"]]
    assert await ids(versionState="LOCKED") == [created[0]["id"]]

    folder = await create_flow(tenant, folderName="Ops")
    assert await ids(folderId=folder["folderId"]) == [folder["id"]]
    count = await tenant.client.get("/v1/flows/count", params={"projectId": project_id})
    assert count.status_code == 200 and count.json() == 6


async def test_list_needs_a_project_of_the_platform(make_tenant: TenantFactory) -> None:
    a, b = await make_tenant(), await make_tenant()
    missing = await a.client.get("/v1/flows")
    assert missing.status_code == 400
    assert missing.json() == validation("querystring must have required property 'projectId'")
    foreign = await a.client.get("/v1/flows", params={"projectId": await personal_project_id(b)})
    assert foreign.status_code == 404
    bad_cursor = await a.client.get("/v1/flows", params={"projectId": await personal_project_id(a), "cursor": "zz"})
    assert bad_cursor.status_code == 400


# --- the official CLI's sequence, verbatim


async def test_the_official_cli_sequence(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    created = await tenant.client.post("/api/v1/flows", json={"displayName": "From git", "projectId": project_id})
    assert created.status_code == 201
    flow_id = created.json()["id"]
    trigger = chain(schedule_trigger(), piece_action("step_1"), code_action("step_2"))
    imported = await tenant.client.post(
        f"/api/v1/flows/{flow_id}",
        json={"type": "IMPORT_FLOW", "request": {"displayName": "From git", "trigger": trigger, "schemaVersion": None}},
    )
    assert imported.status_code == 200
    assert imported.json()["version"]["valid"] is True
    published = await tenant.client.post(f"/api/v1/flows/{flow_id}", json={"type": "LOCK_AND_PUBLISH", "request": {}})
    assert published.status_code == 200
    flow = (await tenant.client.get(f"/api/v1/flows/{flow_id}")).json()
    assert flow["status"] == "ENABLED"
    assert flow["publishedVersionId"] == flow["version"]["id"]
    assert flow["version"]["state"] == "LOCKED"
    assert names(flow["version"]["trigger"]) == ["trigger", "step_1", "step_2"]
    assert flow["triggerSource"] == {
        "schedule": {"type": "CRON_EXPRESSION", "cronExpression": "*/5 * * * *", "timezone": "UTC"}
    }
    page = (await tenant.client.get("/api/v1/flows", params={"projectId": project_id, "limit": 100})).json()
    assert [f["id"] for f in page["data"]] == [flow_id] and page["next"] is None


# --- version lifecycle


async def test_draft_publish_edit_and_use_as_draft(tenant: Tenant) -> None:
    flow = await create_flow(tenant)
    v1 = flow["version"]["id"]
    await import_flow(tenant, flow["id"], chain(schedule_trigger(), code_action("step_1")))
    published = await operate(tenant, flow["id"], "LOCK_AND_PUBLISH", {})
    assert published["version"]["id"] == v1 and published["version"]["state"] == "LOCKED"
    assert published["publishedVersionId"] == v1

    # Editing a locked version starts a new draft; the published one is untouched.
    edited = await operate(tenant, flow["id"], "ADD_ACTION", {"parentStep": "step_1", "action": code_action("step_2")})
    v2 = edited["version"]["id"]
    assert v2 != v1 and edited["version"]["state"] == "DRAFT"
    assert edited["publishedVersionId"] == v1 and edited["status"] == "ENABLED"
    assert names(edited["version"]["trigger"]) == ["trigger", "step_1", "step_2"]
    old = (await tenant.client.get(f"/v1/flows/{flow['id']}", params={"versionId": v1})).json()
    assert names(old["version"]["trigger"]) == ["trigger", "step_1"]

    # A second edit changes the same draft.
    again = await operate(tenant, flow["id"], "CHANGE_NAME", {"displayName": "Renamed"})
    assert again["version"]["id"] == v2

    # Use the published version as the draft again.
    reverted = await operate(tenant, flow["id"], "USE_AS_DRAFT", {"versionId": v1})
    assert reverted["version"]["id"] == v2 and reverted["version"]["state"] == "DRAFT"
    assert names(reverted["version"]["trigger"]) == ["trigger", "step_1"]
    assert reverted["version"]["displayName"] == "Imported"

    republished = await operate(tenant, flow["id"], "LOCK_AND_PUBLISH", {"status": "DISABLED"})
    assert republished["publishedVersionId"] == v2 and republished["status"] == "DISABLED"
    assert "triggerSource" not in republished


async def test_lock_flow_locks_without_publishing(tenant: Tenant) -> None:
    flow = await create_flow(tenant)
    locked = await operate(tenant, flow["id"], "LOCK_FLOW", {})
    assert locked["version"]["state"] == "LOCKED" and locked["publishedVersionId"] is None
    edited = await operate(tenant, flow["id"], "CHANGE_NAME", {"displayName": "Next"})
    assert edited["version"]["id"] != flow["version"]["id"] and edited["version"]["state"] == "DRAFT"


async def test_publishing_an_invalid_version_is_refused(tenant: Tenant) -> None:
    flow = await create_flow(tenant)
    response = await tenant.client.post(f"/v1/flows/{flow['id']}", json={"type": "LOCK_AND_PUBLISH", "request": {}})
    assert response.status_code == 400
    # The real code and message; which steps are why, and what each misses, in `invalidSteps`.
    assert response.json() == {
        "statusCode": 400,
        "code": "FLOW_OPERATION_INVALID",
        "params": {
            "message": "Flow version is not valid",
            "invalidSteps": [
                {
                    "name": "trigger",
                    "type": "EMPTY",
                    "reason": "the trigger is EMPTY: set a trigger (UPDATE_TRIGGER) first",
                }
            ],
        },
    }
    after = (await tenant.client.get(f"/v1/flows/{flow['id']}")).json()
    assert after["version"]["state"] == "DRAFT" and after["publishedVersionId"] is None


async def test_publishing_names_every_invalid_step_and_what_it_misses(tenant: Tenant) -> None:
    flow = await create_flow(tenant)
    await operate(
        tenant,
        flow["id"],
        "IMPORT_FLOW",
        {
            "displayName": "Half done",
            "trigger": {
                "name": "trigger",
                "type": "PIECE_TRIGGER",
                "valid": True,
                "displayName": "Every hour",
                "settings": {
                    "pieceName": "@activepieces/piece-schedule",
                    "pieceVersion": "0.1.5",
                    "triggerName": "every_hour",
                    "input": {},
                    "propertySettings": {},
                },
                "nextAction": {
                    "name": "step_1",
                    "type": "CODE",
                    "valid": False,
                    "displayName": "Code",
                    "skip": False,
                    "settings": {"sourceCode": {"code": "", "packageJson": "{}"}, "input": {}},
                    "nextAction": {
                        "name": "step_2",
                        "type": "LOOP_ON_ITEMS",
                        "valid": False,
                        "displayName": "Loop",
                        "settings": {"items": ""},
                    },
                },
            },
            "schemaVersion": None,
        },
    )
    response = await tenant.client.post(f"/v1/flows/{flow['id']}", json={"type": "LOCK_AND_PUBLISH", "request": {}})
    assert response.status_code == 400, response.text
    assert response.json()["params"]["invalidSteps"] == [
        {"name": "step_1", "type": "CODE", "reason": "settings miss sourceCode.code"},
        {"name": "step_2", "type": "LOOP_ON_ITEMS", "reason": "settings miss items"},
    ]


async def test_change_status(tenant: Tenant) -> None:
    flow = await create_flow(tenant)
    response = await tenant.client.post(
        f"/v1/flows/{flow['id']}", json={"type": "CHANGE_STATUS", "request": {"status": "ENABLED"}}
    )
    assert response.status_code == 400
    assert response.json() == invalid_operation("Flow has no published version")
    await import_flow(tenant, flow["id"], schedule_trigger(15))
    await operate(tenant, flow["id"], "LOCK_AND_PUBLISH", {"status": "DISABLED"})
    enabled = await operate(tenant, flow["id"], "CHANGE_STATUS", {"status": "ENABLED"})
    assert enabled["status"] == "ENABLED"
    assert enabled["triggerSource"]["schedule"]["cronExpression"] == "*/15 * * * *"
    disabled = await operate(tenant, flow["id"], "CHANGE_STATUS", {"status": "DISABLED"})
    assert disabled["status"] == "DISABLED" and "triggerSource" not in disabled
    project = (await tenant.client.get(f"/v1/projects/{flow['projectId']}")).json()
    assert project["analytics"]["totalFlows"] == 1 and project["analytics"]["activeFlows"] == 0


# --- step operations


async def test_add_update_move_duplicate_delete_actions(tenant: Tenant) -> None:
    flow = await create_flow(tenant)
    fid = flow["id"]
    await operate(tenant, fid, "UPDATE_TRIGGER", schedule_trigger())
    await operate(tenant, fid, "ADD_ACTION", {"parentStep": "trigger", "action": code_action("step_1")})
    await operate(tenant, fid, "ADD_ACTION", {"parentStep": "step_1", "action": loop_action("step_2")})
    await operate(
        tenant,
        fid,
        "ADD_ACTION",
        {"parentStep": "step_2", "stepLocationRelativeToParent": "INSIDE_LOOP", "action": code_action("step_3")},
    )
    result = await operate(
        tenant,
        fid,
        "ADD_ACTION",
        {"parentStep": "step_2", "stepLocationRelativeToParent": "AFTER", "action": piece_action("step_4")},
    )
    assert names(result["version"]["trigger"]) == ["trigger", "step_1", "step_2", ["step_3"], "step_4"]
    assert result["version"]["valid"] is True

    updated = await operate(tenant, fid, "UPDATE_ACTION", {**code_action("step_1"), "displayName": "Renamed code"})
    step_1 = updated["version"]["trigger"]["nextAction"]
    assert step_1["displayName"] == "Renamed code" and step_1["nextAction"]["name"] == "step_2"

    moved = await operate(
        tenant,
        fid,
        "MOVE_ACTION",
        {"name": "step_4", "newParentStep": "step_2", "stepLocationRelativeToNewParent": "INSIDE_LOOP"},
    )
    assert names(moved["version"]["trigger"]) == ["trigger", "step_1", "step_2", ["step_4", "step_3"]]

    duplicated = await operate(tenant, fid, "DUPLICATE_ACTION", {"stepName": "step_2"})
    assert names(duplicated["version"]["trigger"]) == [
        "trigger", "step_1", "step_2", ["step_4", "step_3"], "step_5", ["step_6", "step_7"],
    ]  # fmt: skip
    copy_step = duplicated["version"]["trigger"]["nextAction"]["nextAction"]["nextAction"]
    assert copy_step["displayName"] == "Loop Copy"

    skipped = await operate(tenant, fid, "SET_SKIP_ACTION", {"names": ["step_1"], "skip": True})
    assert skipped["version"]["trigger"]["nextAction"]["skip"] is True

    deleted = await operate(tenant, fid, "DELETE_ACTION", {"names": ["step_2", "step_1"]})
    assert names(deleted["version"]["trigger"]) == ["trigger", "step_5", ["step_6", "step_7"]]


async def test_router_branches(tenant: Tenant) -> None:
    flow = await create_flow(tenant)
    fid = flow["id"]
    await operate(tenant, fid, "UPDATE_TRIGGER", schedule_trigger())
    await operate(tenant, fid, "ADD_ACTION", {"parentStep": "trigger", "action": router_action("step_1")})
    await operate(
        tenant,
        fid,
        "ADD_ACTION",
        {
            "parentStep": "step_1",
            "stepLocationRelativeToParent": "INSIDE_BRANCH",
            "branchIndex": 0,
            "action": code_action("step_2"),
        },
    )
    added = await operate(tenant, fid, "ADD_BRANCH", {"stepName": "step_1", "branchIndex": 1, "branchName": "Second"})
    router = added["version"]["trigger"]["nextAction"]
    assert [b["branchName"] for b in router["settings"]["branches"]] == ["Branch 1", "Second", "Otherwise"]
    assert names(router["children"][0]) == ["step_2"] and router["children"][1:] == [None, None]
    assert router["valid"] is True

    duplicated = await operate(tenant, fid, "DUPLICATE_BRANCH", {"stepName": "step_1", "branchIndex": 0})
    router = duplicated["version"]["trigger"]["nextAction"]
    assert [b["branchName"] for b in router["settings"]["branches"]] == [
        "Branch 1", "Branch 1 Copy", "Second", "Otherwise",
    ]  # fmt: skip
    assert names(router["children"][1]) == ["step_3"]

    moved = await operate(
        tenant, fid, "MOVE_BRANCH", {"stepName": "step_1", "sourceBranchIndex": 0, "targetBranchIndex": 2}
    )
    router = moved["version"]["trigger"]["nextAction"]
    assert [b["branchName"] for b in router["settings"]["branches"]] == [
        "Branch 1 Copy", "Second", "Branch 1", "Otherwise",
    ]  # fmt: skip
    assert names(router["children"][2]) == ["step_2"]

    deleted = await operate(tenant, fid, "DELETE_BRANCH", {"stepName": "step_1", "branchIndex": 2})
    router = deleted["version"]["trigger"]["nextAction"]
    assert len(router["settings"]["branches"]) == 3 and len(router["children"]) == 3
    assert "step_2" not in str(names(deleted["version"]["trigger"]))

    # As on the real server, the fallback can be deleted too (the router is then left without one).
    no_fallback = await operate(tenant, fid, "DELETE_BRANCH", {"stepName": "step_1", "branchIndex": 2})
    router = no_fallback["version"]["trigger"]["nextAction"]
    assert [b["branchType"] for b in router["settings"]["branches"]] == ["CONDITION", "CONDITION"]


@pytest.mark.parametrize(
    ("kind", "request_body", "message"),
    [
        ("ADD_ACTION", {"parentStep": "step_9", "action": code_step("step_2")}, "Step step_9 not found"),
        ("ADD_ACTION", {"parentStep": "trigger", "action": code_step("step_1")}, "Step name step_1 is already used"),
        ("ADD_ACTION", {"parentStep": "step_3", "action": code_step("step_4")}, "Loop step parent undefined not found"),
        (
            "ADD_ACTION",
            {"parentStep": "step_2", "stepLocationRelativeToParent": "INSIDE_LOOP", "action": code_step("step_4")},
            "Router step parent INSIDE_LOOP not found",
        ),
        (
            "ADD_ACTION",
            {
                "parentStep": "step_2",
                "stepLocationRelativeToParent": "INSIDE_BRANCH",
                "branchIndex": 5,
                "action": code_step("step_4"),
            },
            "Branch 5 not found in step step_2",
        ),
        (
            "UPDATE_TRIGGER",
            {"name": "start", "displayName": "x", "type": "EMPTY", "valid": True, "lastUpdatedDate": STEP_DATE}
            | {"settings": {}},
            "Step start not found",
        ),
        ("MOVE_ACTION", {"name": "step_3", "newParentStep": "step_3"}, "A step cannot be moved inside itself"),
        ("MOVE_ACTION", {"name": "step_8", "newParentStep": "trigger"}, "Step step_8 not found"),
        ("MOVE_ACTION", {"name": "trigger", "newParentStep": "step_1"}, "Action trigger not found"),
        ("DUPLICATE_ACTION", {"stepName": "trigger"}, "Action trigger not found"),
        ("DUPLICATE_ACTION", {"stepName": "step_8"}, "Step step_8 not found"),
    ],
)
async def test_operations_that_do_not_fit_the_tree_are_refused_and_change_nothing(
    tenant: Tenant, kind: str, request_body: dict, message: str
) -> None:
    flow = await create_flow(tenant)
    tree = chain(schedule_trigger(), code_action("step_1"), router_action("step_2"), loop_action("step_3"))
    before = await import_flow(tenant, flow["id"], tree)
    response = await tenant.client.post(f"/v1/flows/{flow['id']}", json={"type": kind, "request": request_body})
    assert response.status_code == 400, response.text
    assert response.json() == invalid_operation(message)
    after = (await tenant.client.get(f"/v1/flows/{flow['id']}")).json()
    assert after["version"] == before["version"]


@pytest.mark.parametrize(
    ("kind", "request_body"),
    [
        ("DELETE_ACTION", {"names": ["trigger", "step_8"]}),
        ("UPDATE_ACTION", code_step("step_8")),
        ("SET_SKIP_ACTION", {"names": ["step_8"], "skip": True}),
        ("ADD_BRANCH", {"stepName": "step_1", "branchIndex": 0, "branchName": "b"}),
        ("DELETE_BRANCH", {"stepName": "step_2", "branchIndex": 7}),
        ("MOVE_BRANCH", {"stepName": "step_2", "sourceBranchIndex": 0, "targetBranchIndex": 1}),
        ("DELETE_NOTE", {"id": "nope"}),
    ],
)
async def test_operations_the_real_server_passes_over_change_no_step(
    tenant: Tenant, kind: str, request_body: dict
) -> None:
    flow = await create_flow(tenant)
    tree = chain(schedule_trigger(), code_action("step_1"), router_action("step_2"))
    before = await import_flow(tenant, flow["id"], tree)
    after = await operate(tenant, flow["id"], kind, request_body)
    assert after["version"]["trigger"] == before["version"]["trigger"]
    assert after["version"]["notes"] == before["version"]["notes"]


@pytest.mark.sends_invalid_requests("each body is one the real FlowOperationRequest refuses")
@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"type": "RENAME", "request": {}}, "body/type must be equal to one of the allowed values"),
        ({"request": {}}, "body must have required property 'type'"),
        ({"type": "CHANGE_NAME", "request": {}}, "body/request must have required property 'displayName'"),
        (
            {"type": "CHANGE_STATUS", "request": {"status": "ON"}},
            "body/request/status must be equal to one of the allowed values",
        ),
        (
            {
                "type": "ADD_ACTION",
                "request": {
                    "parentStep": "trigger",
                    "action": {"name": "s", "displayName": "x", "type": "WAIT", "settings": {}},
                },
            },
            "body/request/action/type must be equal to one of the allowed values",
        ),
        (
            {
                "type": "UPDATE_TRIGGER",
                "request": {"name": "trigger", "displayName": "x", "type": "PIECE", "settings": {}},
            },
            "body/request/type must be equal to one of the allowed values",
        ),
    ],
)
async def test_malformed_operations_are_400(tenant: Tenant, body: dict, message: str) -> None:
    flow = await create_flow(tenant)
    response = await tenant.client.post(f"/v1/flows/{flow['id']}", json=body)
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION"
    assert response.json() == validation(message) or response.json()["params"]["message"].startswith("body")


async def test_flow_level_operations(tenant: Tenant, make_tenant: TenantFactory) -> None:
    flow = await create_flow(tenant, folderName="A")
    fid = flow["id"]
    moved = await operate(tenant, fid, "CHANGE_FOLDER", {"folderId": None})
    assert moved["folderId"] is None
    back = await operate(tenant, fid, "CHANGE_FOLDER", {"folderId": flow["folderId"]})
    assert back["folderId"] == flow["folderId"]
    other = await make_tenant()
    foreign_folder = (await create_flow(other, folderName="Theirs"))["folderId"]
    refused = await tenant.client.post(
        f"/v1/flows/{fid}", json={"type": "CHANGE_FOLDER", "request": {"folderId": foreign_folder}}
    )
    assert refused.status_code == 404

    meta = await operate(tenant, fid, "UPDATE_METADATA", {"metadata": {"k": "v"}})
    assert meta["metadata"] == {"k": "v"}
    minutes = await operate(tenant, fid, "UPDATE_MINUTES_SAVED", {"timeSavedPerRun": 7})
    assert minutes["timeSavedPerRun"] == 7
    owner = await operate(tenant, fid, "UPDATE_OWNER", {"ownerId": tenant.owner_id})
    assert owner["ownerId"] == tenant.owner_id
    foreign_owner = await tenant.client.post(
        f"/v1/flows/{fid}", json={"type": "UPDATE_OWNER", "request": {"ownerId": other.owner_id}}
    )
    assert foreign_owner.status_code == 404
    assert minutes["version"]["id"] == flow["version"]["id"]


async def test_notes_and_sample_data(tenant: Tenant) -> None:
    flow = await create_flow(tenant)
    fid = flow["id"]
    await import_flow(tenant, fid, chain(schedule_trigger(), code_action("step_1")))
    note = {
        "id": "note-1",
        "content": "Remember",
        "color": "orange",
        "position": {"x": 1, "y": 2},
        "size": {"width": 100, "height": 50},
    }
    added = await operate(tenant, fid, "ADD_NOTE", note)
    [stored] = added["version"]["notes"]
    assert {k: stored[k] for k in note} == note and TS_RE.match(stored["createdAt"])
    updated = await operate(tenant, fid, "UPDATE_NOTE", {**note, "content": "Changed"})
    assert updated["version"]["notes"][0]["content"] == "Changed"
    deleted = await operate(tenant, fid, "DELETE_NOTE", {"id": "note-1"})
    assert deleted["version"]["notes"] == []

    saved = await operate(
        tenant, fid, "SAVE_SAMPLE_DATA", {"stepName": "step_1", "payload": {"a": 1}, "type": "OUTPUT"}
    )
    sample = saved["version"]["trigger"]["nextAction"]["settings"]["sampleData"]
    assert ID_RE.match(sample["sampleDataFileId"]) and TS_RE.match(sample["lastTestDate"])
    info = await operate(
        tenant,
        fid,
        "UPDATE_SAMPLE_DATA_INFO",
        {"stepName": "trigger", "sampleDataSettings": {"sampleDataFileId": "f1"}},
    )
    sample = info["version"]["trigger"]["settings"]["sampleData"]
    assert sample["sampleDataFileId"] == "f1" and TS_RE.match(sample["lastTestDate"])
    cleared = await operate(tenant, fid, "UPDATE_SAMPLE_DATA_INFO", {"stepName": "trigger", "sampleDataSettings": None})
    assert "sampleData" not in cleared["version"]["trigger"]["settings"]


# --- piece filter, connections


async def test_piece_filter_allowed_refuses_other_pieces(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    response = await tenant.client.post(
        f"/v1/projects/{project_id}",
        json={
            "plan": {
                "piecesFilterType": "ALLOWED",
                "pieces": ["@activepieces/piece-schedule", "@activepieces/piece-slack"],
            }
        },
    )
    assert response.status_code == 200
    flow = await create_flow(tenant, project_id)
    await import_flow(tenant, flow["id"], chain(schedule_trigger(), piece_action("step_1")))
    refused = await tenant.client.post(
        f"/v1/flows/{flow['id']}",
        json={
            "type": "ADD_ACTION",
            "request": {"parentStep": "step_1", "action": piece_action("step_2", "@activepieces/piece-gmail")},
        },
    )
    # The real server's answer for a piece the project cannot resolve.
    assert refused.status_code == 404
    assert refused.json() == {
        "statusCode": 404,
        "code": "ENTITY_NOT_FOUND",
        "params": {"message": "piece_metadata_not_found pieceName=@activepieces/piece-gmail"},
    }
    # Code steps are not pieces; NONE allows everything again.
    await operate(tenant, flow["id"], "ADD_ACTION", {"parentStep": "step_1", "action": code_action("step_2")})
    await tenant.client.post(f"/v1/projects/{project_id}", json={"plan": {"piecesFilterType": "NONE"}})
    await operate(
        tenant,
        flow["id"],
        "ADD_ACTION",
        {"parentStep": "step_1", "action": piece_action("step_3", "@activepieces/piece-gmail")},
    )


async def test_connection_ids_and_connection_flow_ids(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    connection = await tenant.client.post(
        "/v1/global-connections",
        json={
            "displayName": "Slack",
            "pieceName": "@activepieces/piece-slack",
            "type": "SECRET_TEXT",
            "value": {"type": "SECRET_TEXT", "secret_text": "xoxb"},
            "scope": "PLATFORM",
            "projectIds": [project_id],
            "externalId": "slack-main",
        },
    )
    assert connection.status_code == 201
    assert connection.json()["flowIds"] == []
    flow = await create_flow(tenant, project_id)
    imported = await import_flow(
        tenant, flow["id"], chain(schedule_trigger(), piece_action("step_1", auth="slack-main"))
    )
    assert imported["version"]["connectionIds"] == ["slack-main"]
    [listed] = (await tenant.client.get("/v1/global-connections")).json()["data"]
    assert listed["flowIds"] == [flow["id"]]
    await operate(tenant, flow["id"], "DELETE_ACTION", {"names": ["step_1"]})
    [listed] = (await tenant.client.get("/v1/global-connections")).json()["data"]
    assert listed["flowIds"] == []


# --- delete, cascade, concurrency


async def test_delete_flow_and_project_cascade(tenant: Tenant) -> None:
    project = (await tenant.client.post("/v1/projects", json={"displayName": "Team"})).json()
    flow = await create_flow(tenant, project["id"])
    deleted = await tenant.client.delete(f"/v1/flows/{flow['id']}")
    assert deleted.status_code == 204 and deleted.content == b""
    assert (await tenant.client.get(f"/v1/flows/{flow['id']}")).status_code == 404
    second = await create_flow(tenant, project["id"])
    assert (await tenant.client.delete(f"/v1/projects/{project['id']}")).status_code == 204
    assert (await tenant.client.get(f"/v1/flows/{second['id']}")).status_code == 404


async def test_concurrent_operations_on_one_flow_lose_nothing(tenant: Tenant) -> None:
    flow = await create_flow(tenant)
    await operate(tenant, flow["id"], "UPDATE_TRIGGER", schedule_trigger())
    responses = await asyncio.gather(
        *(
            tenant.client.post(
                f"/v1/flows/{flow['id']}",
                json={"type": "ADD_ACTION", "request": {"parentStep": "trigger", "action": code_action(f"step_{i}")}},
            )
            for i in range(1, 21)
        )
    )
    assert [r.status_code for r in responses] == [200] * 20
    final = (await tenant.client.get(f"/v1/flows/{flow['id']}")).json()
    assert sorted(names(final["version"]["trigger"])[1:]) == sorted(f"step_{i}" for i in range(1, 21))


# --- more of the real server's behaviour


async def test_list_shows_published_versions_for_locked_and_orders_by_update(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    never = await create_flow(tenant, displayName="Never published")
    published = await create_flow(tenant, displayName="Published")
    await import_flow(tenant, published["id"], chain(schedule_trigger(), code_action("step_1")), "Live")
    await operate(tenant, published["id"], "LOCK_AND_PUBLISH", {})
    draft = await operate(tenant, published["id"], "CHANGE_NAME", {"displayName": "Editing"})

    locked = (await tenant.client.get("/v1/flows", params={"projectId": project_id, "versionState": "LOCKED"})).json()
    assert [f["id"] for f in locked["data"]] == [published["id"]]
    assert locked["data"][0]["version"]["id"] == draft["publishedVersionId"]
    assert locked["data"][0]["version"]["displayName"] == "Live"
    latest = (await tenant.client.get("/v1/flows", params={"projectId": project_id})).json()
    assert [f["id"] for f in latest["data"]] == [published["id"], never["id"]]
    assert latest["data"][0]["version"]["displayName"] == "Editing"

    # As the real server: enabled flows first, then the most recently updated. Touching the older
    # flow leaves the enabled one first; once both are disabled, the touched one leads.
    async def listed() -> list[str]:
        page = (await tenant.client.get("/v1/flows", params={"projectId": project_id})).json()
        return [f["id"] for f in page["data"]]

    await operate(tenant, never["id"], "UPDATE_METADATA", {"metadata": {"touched": True}})
    assert await listed() == [published["id"], never["id"]]
    await operate(tenant, published["id"], "CHANGE_STATUS", {"status": "DISABLED"})
    assert await listed() == [published["id"], never["id"]]
    await operate(tenant, never["id"], "UPDATE_METADATA", {"metadata": {"touched": 2}})
    assert await listed() == [never["id"], published["id"]]
    # Name filters look at the newest version.
    named = (await tenant.client.get("/v1/flows", params={"projectId": project_id, "name": "editing"})).json()
    assert [f["id"] for f in named["data"]] == [published["id"]]


async def test_folder_names_match_any_case_and_take_the_new_spelling(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    first = await create_flow(tenant, folderName="marketing")
    second = await create_flow(tenant, folderName="Marketing")
    assert first["folderId"] == second["folderId"]
    await create_flow(tenant)
    count = await tenant.client.get("/v1/flows/count", params={"projectId": project_id, "folderId": first["folderId"]})
    assert count.json() == 2
    uncategorized = await tenant.client.get("/v1/flows/count", params={"projectId": project_id, "folderId": "NULL"})
    assert uncategorized.json() == 1


async def test_template_strips_connections_and_sample_data(tenant: Tenant) -> None:
    flow = await create_flow(tenant, externalId="tmpl-1")
    step = piece_action("step_1")
    step["settings"]["input"]["auth"] = "{{connections.my_slack}}"
    step["settings"]["sampleData"] = {"sampleDataFileId": "file-1"}
    await import_flow(tenant, flow["id"], chain(schedule_trigger(), step), "Shareable")
    response = await tenant.client.get(f"/v1/flows/{flow['id']}/template")
    assert response.status_code == 200
    template = response.json()
    assert template["name"] == "Shareable" and template["type"] == "SHARED" and template["status"] == "PUBLISHED"
    assert template["pieces"] == ["@activepieces/piece-schedule", "@activepieces/piece-slack"]
    assert template["metadata"] == {"externalId": "tmpl-1"}
    [version] = template["flows"]
    shared_step = version["trigger"]["nextAction"]
    assert shared_step["settings"]["input"]["auth"] == ""
    assert "sampleData" not in shared_step["settings"]
    missing = await tenant.client.get(f"/v1/flows/{'m' * 21}/template")
    assert missing.status_code == 404


async def test_versions_lock_and_notes_on_locked_versions(tenant: Tenant) -> None:
    flow = await create_flow(tenant)
    locked = await operate(tenant, flow["id"], "LOCK_FLOW", {})
    note = {
        "id": "n1",
        "content": "c",
        "color": "blue",
        "position": {"x": 0, "y": 0},
        "size": {"width": 1, "height": 1},
    }
    # Notes go on the newest version as it is, even locked.
    noted = await operate(tenant, flow["id"], "ADD_NOTE", note)
    assert noted["version"]["id"] == locked["version"]["id"] and noted["version"]["state"] == "LOCKED"
    assert noted["version"]["notes"][0]["ownerId"] is None
    # Locking a locked version makes a draft copy and locks that.
    relocked = await operate(tenant, flow["id"], "LOCK_FLOW", {})
    assert relocked["version"]["id"] != locked["version"]["id"] and relocked["version"]["state"] == "LOCKED"
    assert relocked["version"]["notes"][0]["id"] == "n1"


async def test_change_status_to_the_same_status_is_a_no_op(tenant: Tenant) -> None:
    flow = await create_flow(tenant)
    same = await operate(tenant, flow["id"], "CHANGE_STATUS", {"status": "DISABLED"})
    assert same["status"] == "DISABLED"


async def test_webhook_like_triggers_have_no_schedule(tenant: Tenant) -> None:
    flow = await create_flow(tenant)
    trigger = {
        "name": "trigger",
        "displayName": "Catch webhook",
        "type": "PIECE_TRIGGER",
        "valid": True,
        "lastUpdatedDate": STEP_DATE,
        "settings": {
            "pieceName": "@activepieces/piece-webhook",
            "pieceVersion": "0.1.0",
            "triggerName": "catch_webhook",
            "input": {},
            "propertySettings": {},
        },
    }
    await import_flow(tenant, flow["id"], chain(trigger, code_action("step_1")))
    published = await operate(tenant, flow["id"], "LOCK_AND_PUBLISH", {})
    assert published["triggerSource"] == {"schedule": None}


async def test_steps_judged_valid_from_their_settings_and_imported_ones_keep_their_flag(tenant: Tenant) -> None:
    flow = await create_flow(tenant)
    await operate(tenant, flow["id"], "UPDATE_TRIGGER", schedule_trigger())
    incomplete = await operate(
        tenant,
        flow["id"],
        "ADD_ACTION",
        {
            "parentStep": "trigger",
            "action": {**code_action("step_1"), "settings": {"sourceCode": {"code": ""} | NO_PACKAGES, "input": {}}},
        },
    )
    assert incomplete["version"]["trigger"]["nextAction"]["valid"] is False
    assert incomplete["version"]["valid"] is False
    # A skipped invalid action does not make the version invalid.
    skipped = await operate(tenant, flow["id"], "SET_SKIP_ACTION", {"names": ["step_1"], "skip": True})
    assert skipped["version"]["valid"] is True
    # The real server judges a step a client adds or updates from its settings: the flag it sends is not read.
    claimed = await operate(tenant, flow["id"], "UPDATE_ACTION", {**code_action("step_1"), "valid": False})
    assert claimed["version"]["trigger"]["nextAction"]["valid"] is True and claimed["version"]["valid"] is True
    # An imported step keeps the flag it brings (the real server replays it without judging it).
    version = claimed["version"]
    imported = await operate(
        tenant,
        flow["id"],
        "IMPORT_FLOW",
        {
            "displayName": "Imported",
            "trigger": {**version["trigger"], "nextAction": {**code_action("step_1"), "valid": False}},
            "schemaVersion": "22",
        },
    )
    assert imported["version"]["trigger"]["nextAction"]["valid"] is False
    assert imported["version"]["valid"] is False


async def test_update_action_may_change_the_type(tenant: Tenant) -> None:
    flow = await create_flow(tenant)
    await import_flow(tenant, flow["id"], chain(schedule_trigger(), loop_action("step_1")))
    await operate(
        tenant,
        flow["id"],
        "ADD_ACTION",
        {"parentStep": "step_1", "stepLocationRelativeToParent": "INSIDE_LOOP", "action": code_action("step_2")},
    )
    as_router = await operate(tenant, flow["id"], "UPDATE_ACTION", {**router_action("step_1")})
    step = as_router["version"]["trigger"]["nextAction"]
    assert step["type"] == "ROUTER" and step["children"] == [None, None] and "firstLoopAction" not in step


async def test_duplicate_renames_references_inside_the_copy(tenant: Tenant) -> None:
    flow = await create_flow(tenant)
    inner = code_action("step_2")
    inner["settings"]["input"] = {"value": "{{step_1.item}} and {{trigger.body}}"}
    await import_flow(tenant, flow["id"], chain(schedule_trigger(), loop_action("step_1")))
    await operate(
        tenant,
        flow["id"],
        "ADD_ACTION",
        {"parentStep": "step_1", "stepLocationRelativeToParent": "INSIDE_LOOP", "action": inner},
    )
    duplicated = await operate(tenant, flow["id"], "DUPLICATE_ACTION", {"stepName": "step_1"})
    copy_loop = duplicated["version"]["trigger"]["nextAction"]["nextAction"]
    assert copy_loop["name"] == "step_3" and copy_loop["displayName"] == "Loop Copy"
    copied_inner = copy_loop["firstLoopAction"]
    assert copied_inner["name"] == "step_4" and copied_inner["displayName"] == "Code Copy"
    assert copied_inner["settings"]["input"] == {"value": "{{step_3.item}} and {{trigger.body}}"}


async def test_several_connections_in_one_reference(tenant: Tenant) -> None:
    flow = await create_flow(tenant)
    step = piece_action("step_1")
    step["settings"]["input"]["auth"] = "{{connections['one','two']}}"
    imported = await import_flow(
        tenant, flow["id"], chain(schedule_trigger(), step, piece_action("step_2", auth="one"))
    )
    assert imported["version"]["connectionIds"] == ["one", "two"]
