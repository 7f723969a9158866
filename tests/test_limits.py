"""The limits (README "Limits"): flows as long as MAX_FLOW_STEPS work in every operation and import
again, one step more is a 4xx; numbers, lists, strings and free-form JSON past their bounds are
400s, never 500s or false 503s."""

from __future__ import annotations

import time
from typing import Any

import asyncpg
import pytest
import sqlalchemy.exc

from app.edge.limits import (
    MAX_FLOW_STEPS,
    MAX_FLOW_TREE_DEPTH,
    MAX_FREE_JSON_BYTES,
    MAX_LIST_ITEMS,
    MAX_QUERY_LIST_ITEMS,
    MAX_STRING_LENGTH,
)
from app.kit.db import is_unavailable_error
from tests.conftest import Tenant, personal_project_id
from tests.test_flows import create_flow, invalid_operation, operate, schedule_trigger, validation

# Temporary (issue 9): its 1,000-step trees are not yet sent as the real schemas require, and
# checking them makes its timing assertions miss; see tests/fidelity.py.
pytestmark = pytest.mark.real_schemas_pending

CODE_SETTINGS = {"sourceCode": {"code": "export const code = async () => 1", "packageJson": "{}"}, "input": {}}


def code(name: str) -> dict[str, Any]:
    return {"name": name, "displayName": "Code", "type": "CODE", "valid": True, "settings": CODE_SETTINGS}


def deep_chain(actions: int) -> dict[str, Any]:
    """A trigger followed by `actions` chained code steps (built without recursion)."""
    trigger = schedule_trigger()
    tail = trigger
    for n in range(1, actions + 1):
        tail["nextAction"] = code(f"step_{n}")
        tail = tail["nextAction"]
    return trigger


def nested_loops(actions: int) -> dict[str, Any]:
    """Each loop's body is the next loop: `actions` levels."""
    trigger = schedule_trigger()
    holder, key = trigger, "nextAction"
    for n in range(1, actions + 1):
        loop = {"name": f"step_{n}", "displayName": "Loop", "type": "LOOP_ON_ITEMS", "settings": {"items": "{{x}}"}}
        holder[key] = loop
        holder, key = loop, "firstLoopAction"
    return trigger


def nested_routers(actions: int) -> dict[str, Any]:
    """Each router's first branch holds the next router: two JSON levels a step."""
    trigger = schedule_trigger()
    holder: Any = trigger
    key: Any = "nextAction"
    for n in range(1, actions + 1):
        router = {
            "name": f"step_{n}",
            "displayName": "Router",
            "type": "ROUTER",
            "settings": {
                "executionType": "EXECUTE_FIRST_MATCH",
                "branches": [
                    {
                        "conditions": [[{"firstValue": "{{a}}", "secondValue": "b", "operator": "TEXT_CONTAINS"}]],
                        "branchType": "CONDITION",
                        "branchName": "B",
                    },
                    {"branchType": "FALLBACK", "branchName": "Otherwise"},
                ],
            },
            "children": [None, None],
        }
        holder[key] = router
        holder, key = router["children"], 0
    return trigger


def count_steps(trigger: dict[str, Any]) -> int:
    count, pending = 0, [trigger]
    while pending:
        step = pending.pop()
        count += 1
        pending.extend(s for s in [step.get("nextAction"), step.get("firstLoopAction")] if s)
        pending.extend(child for child in step.get("children") or [] if child)
    return count


def without_dates(value: Any) -> Any:
    """A tree with `lastUpdatedDate` and an empty loop's `firstLoopAction: null` dropped (how an
    emptied loop is spelled is not what these tests are about), walked without recursion."""
    root: dict[str, Any] = {"v": value}
    pending: list[Any] = [root]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            item.pop("lastUpdatedDate", None)
            if "firstLoopAction" in item and item["firstLoopAction"] is None:
                del item["firstLoopAction"]
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return root["v"]


async def import_tree(
    tenant: Tenant, flow_id: str, trigger: dict[str, Any], expect: int = 200, schema_version: str | None = None
) -> dict[str, Any]:
    body = {"displayName": "Long", "trigger": trigger, "schemaVersion": schema_version}
    return await operate(tenant, flow_id, "IMPORT_FLOW", body, expect=expect)


async def reimport_round_trips(tenant: Tenant, flow: dict[str, Any]) -> None:
    """What the server serves can be imported again, into the same flow and a new one."""
    served, schema_version = flow["version"]["trigger"], flow["version"]["schemaVersion"]
    again = await import_tree(tenant, flow["id"], served, schema_version=schema_version)
    assert without_dates(again["version"]["trigger"]) == without_dates(served)
    other = await create_flow(tenant)
    copied = await import_tree(tenant, other["id"], served, schema_version=schema_version)
    assert without_dates(copied["version"]["trigger"]) == without_dates(served)


# --- long flows (failed before: 500 from the ~477th chained step, 500 on USE_AS_DRAFT past ~253)


async def test_a_flow_of_the_maximum_length_takes_every_operation(tenant: Tenant) -> None:
    flow = await create_flow(tenant)
    flow_id = flow["id"]
    started = time.perf_counter()
    flow = await import_tree(tenant, flow_id, deep_chain(MAX_FLOW_STEPS - 1))
    import_seconds = time.perf_counter() - started
    assert count_steps(flow["version"]["trigger"]) == MAX_FLOW_STEPS
    assert flow["version"]["valid"] is True
    assert import_seconds < 30  # generous: 2 shared cores; alone it takes well under 2 s

    last = f"step_{MAX_FLOW_STEPS - 1}"
    assert (await tenant.client.get(f"/v1/flows/{flow_id}")).status_code == 200
    assert (await tenant.client.get(f"/v1/flows/{flow_id}/template")).status_code == 200
    await operate(tenant, flow_id, "CHANGE_NAME", {"displayName": "Renamed"})
    await operate(tenant, flow_id, "UPDATE_ACTION", {**code(last), "displayName": "Last"})
    too_long = invalid_operation(
        f"A flow has at most {MAX_FLOW_STEPS} steps (this one would have {MAX_FLOW_STEPS + 1})"
    )
    refused = await operate(tenant, flow_id, "ADD_ACTION", {"parentStep": last, "action": code("one_more")}, expect=400)
    assert refused == too_long
    assert await operate(tenant, flow_id, "DUPLICATE_ACTION", {"stepName": "step_7"}, expect=400) == too_long
    await operate(tenant, flow_id, "DELETE_ACTION", {"names": ["step_500"]})
    await operate(tenant, flow_id, "ADD_ACTION", {"parentStep": last, "action": code("one_more")})
    await operate(tenant, flow_id, "MOVE_ACTION", {"name": "one_more", "newParentStep": "trigger"})
    await operate(tenant, flow_id, "SET_SKIP_ACTION", {"names": [last], "skip": True})
    published = await operate(tenant, flow_id, "LOCK_AND_PUBLISH", {})
    assert published["publishedVersionId"] == published["version"]["id"]
    edited = await operate(tenant, flow_id, "DELETE_ACTION", {"names": ["step_2"]})
    assert edited["version"]["id"] != published["version"]["id"]
    draft = await operate(tenant, flow_id, "USE_AS_DRAFT", {"versionId": published["version"]["id"]})
    assert count_steps(draft["version"]["trigger"]) == MAX_FLOW_STEPS
    await reimport_round_trips(tenant, draft)


async def test_one_step_past_the_maximum_is_refused_on_import(tenant: Tenant) -> None:
    flow = await create_flow(tenant)
    refused = await import_tree(tenant, flow["id"], deep_chain(MAX_FLOW_STEPS), expect=400)
    assert refused == validation(f"body/request/trigger must NOT have more than {MAX_FLOW_STEPS} steps")
    unchanged = (await tenant.client.get(f"/v1/flows/{flow['id']}")).json()
    assert unchanged["version"]["trigger"]["type"] == "EMPTY"


async def test_nested_loops_and_routers_of_the_maximum_length(tenant: Tenant) -> None:
    for tree in (nested_loops(MAX_FLOW_STEPS - 1), nested_routers(MAX_FLOW_STEPS - 1)):
        flow = await create_flow(tenant)
        imported = await import_tree(tenant, flow["id"], tree)
        assert count_steps(imported["version"]["trigger"]) == MAX_FLOW_STEPS
        deepest = f"step_{MAX_FLOW_STEPS - 1}"
        await operate(tenant, flow["id"], "MOVE_ACTION", {"name": deepest, "newParentStep": "trigger"})
        await operate(tenant, flow["id"], "DUPLICATE_ACTION", {"stepName": deepest}, expect=400)
        await operate(tenant, flow["id"], "DELETE_ACTION", {"names": ["step_3"]})
        await operate(tenant, flow["id"], "DUPLICATE_ACTION", {"stepName": deepest})
        served = (await tenant.client.get(f"/v1/flows/{flow['id']}")).json()
        await reimport_round_trips(tenant, served)


async def test_a_deep_error_names_the_step(tenant: Tenant) -> None:
    flow = await create_flow(tenant)
    tree = deep_chain(300)
    step = tree
    for _ in range(300):
        step = step["nextAction"]
    step["displayName"] = 5
    refused = await import_tree(tenant, flow["id"], tree, expect=400)
    assert refused == validation("body/request/trigger" + "/nextAction" * 300 + "/displayName must be string")


# --- numbers, strings, lists


async def test_integers_past_a_double_in_free_form_json_are_400(tenant: Tenant) -> None:
    # Failed before: 500 (the stored value could not be read back) and a dropped connection.
    body = '{"displayName":"x","metadata":{"n":1' + "0" * 400 + "}}"
    response = await tenant.client.post(
        "/v1/projects", content=body.encode(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.json() == validation("body/metadata must hold only numbers a double can hold")
    flow = await create_flow(tenant)
    body = '{"type":"UPDATE_METADATA","request":{"metadata":{"a":[1,-1' + "0" * 400 + "]}}}"
    response = await tenant.client.post(
        f"/v1/flows/{flow['id']}", content=body.encode(), headers={"content-type": "application/json"}
    )
    assert response.json() == validation("body/request/metadata must hold only numbers a double can hold")


async def test_too_many_ids_in_one_list_are_400_not_503(tenant: Tenant) -> None:
    # Failed before: 503 "database is unavailable" (the driver's 32,767 bind parameters).
    ids = [f"id-{n}" for n in range(40_000)]
    response = await tenant.client.post("/v1/projects", json={"displayName": "x", "globalConnectionExternalIds": ids})
    assert response.json() == validation(
        f"body/globalConnectionExternalIds must NOT have more than {MAX_LIST_ITEMS} items"
    )
    upsert = {
        "displayName": "c",
        "pieceName": "@activepieces/piece-slack",
        "scope": "PLATFORM",
        "projectIds": ids,
        "type": "SECRET_TEXT",
        "value": {"type": "SECRET_TEXT", "secret_text": "s"},
        "externalId": "ext",
    }
    response = await tenant.client.post("/v1/global-connections", json=upsert)
    assert response.json() == validation(f"body/projectIds must NOT have more than {MAX_LIST_ITEMS} items")
    project_id = await personal_project_id(tenant)
    many = [("projectId", project_id)] + [("externalIds", f"e{n}") for n in range(MAX_QUERY_LIST_ITEMS + 1)]
    response = await tenant.client.get("/v1/flows", params=many)
    assert response.json() == validation(
        f"querystring/externalIds must NOT have more than {MAX_QUERY_LIST_ITEMS} items"
    )
    response = await tenant.client.get("/v1/flows", params=many[:-1])
    assert response.status_code == 200
    # At the maximum, unknown ids are an ordinary answer.
    response = await tenant.client.post(
        "/v1/global-connections", json={**upsert, "projectIds": [project_id, *ids[: MAX_LIST_ITEMS - 1]]}
    )
    assert response.status_code in (400, 404), response.text
    assert response.json()["code"] != "SERVICE_UNAVAILABLE"


async def test_strings_and_free_form_json_are_bounded(tenant: Tenant) -> None:
    response = await tenant.client.post("/v1/projects", json={"displayName": "x" * (MAX_STRING_LENGTH + 1)})
    assert response.json() == validation(f"body/displayName must NOT have more than {MAX_STRING_LENGTH} characters")
    big = {"blob": "x" * MAX_FREE_JSON_BYTES}
    response = await tenant.client.post("/v1/projects", json={"displayName": "x", "metadata": big})
    assert response.json() == validation(f"body/metadata must NOT be larger than {MAX_FREE_JSON_BYTES} bytes as JSON")
    deep: dict[str, Any] = {}
    inner = deep
    for _ in range(150):
        inner["a"] = {}
        inner = inner["a"]
    response = await tenant.client.post("/v1/projects", json={"displayName": "x", "metadata": deep})
    assert response.status_code == 400
    assert response.json()["params"]["message"].endswith("must NOT be nested more than 100 levels deep")


async def test_note_coordinates_must_be_numbers(tenant: Tenant) -> None:
    # Failed before: `true` was stored as 1.0 and "5" as 5.0; the real server's schema refuses both.
    flow = await create_flow(tenant)
    note = {
        "id": "n1",
        "content": "c",
        "color": "orange",
        "position": {"x": 1, "y": 2.5},
        "size": {"width": 3, "height": 4},
    }
    for bad, message in ((True, "must be number"), ("5", "must be number")):
        response = await tenant.client.post(
            f"/v1/flows/{flow['id']}",
            json={"type": "ADD_NOTE", "request": {**note, "position": {"x": bad, "y": 1}}},
        )
        assert response.json() == validation(f"body/request/position/x {message}")
    added = await operate(tenant, flow["id"], "ADD_NOTE", note)
    assert added["version"]["notes"][0]["position"] == {"x": 1, "y": 2.5}


def test_a_driver_programming_error_is_no_outage() -> None:
    # Failed before: any InterfaceError was "the database is unavailable" (a 503 clients retry).
    too_many = asyncpg.InterfaceError("the number of query arguments cannot exceed 32767")
    assert not is_unavailable_error(too_many)
    assert not is_unavailable_error(_wrapped(sqlalchemy.exc.InterfaceError, too_many))
    gone = asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation")
    assert is_unavailable_error(gone)
    assert is_unavailable_error(_wrapped(sqlalchemy.exc.InterfaceError, gone))
    assert is_unavailable_error(_wrapped(sqlalchemy.exc.InterfaceError, asyncpg.InterfaceError("connection is closed")))
    assert is_unavailable_error(ConnectionRefusedError())
    # A connection cut in the middle of a query leaves asyncpg's protocol in a state it cannot leave.
    broken = asyncpg.InternalClientError("cannot switch to state 15; another operation (state 16) is in progress")
    assert is_unavailable_error(broken)
    assert is_unavailable_error(_wrapped(sqlalchemy.exc.InterfaceError, broken))
    assert not is_unavailable_error(asyncpg.InternalClientError("unexpected codec"))


def _wrapped(kind: type[sqlalchemy.exc.DBAPIError], driver_error: Exception) -> sqlalchemy.exc.DBAPIError:
    """As SQLAlchemy raises it: its error, over the adapter's error, raised from asyncpg's."""
    adapter = Exception(str(driver_error))
    adapter.__cause__ = driver_error
    return kind("SELECT 1", None, adapter)  # type: ignore[arg-type]


async def test_a_tree_too_deep_to_import_again_is_refused(tenant: Tenant) -> None:
    flow = await create_flow(tenant)
    await import_tree(tenant, flow["id"], deep_chain(600))
    deep_settings: dict[str, Any] = {}
    inner = deep_settings
    for _ in range(2500):
        inner["a"] = {}
        inner = inner["a"]
    step = {"name": "deep", "displayName": "Deep", "type": "CODE", "settings": deep_settings}
    # Alone the step fits; after 600 steps it would nest past MAX_FLOW_TREE_DEPTH.
    refused = await operate(tenant, flow["id"], "ADD_ACTION", {"parentStep": "step_600", "action": step}, expect=400)
    assert refused == invalid_operation(
        f"A flow's steps must NOT be nested more than {MAX_FLOW_TREE_DEPTH} levels deep"
    )
    await operate(tenant, flow["id"], "ADD_ACTION", {"parentStep": "trigger", "action": step})
    # Moved to the end it would too: refused, nothing changed.
    before = (await tenant.client.get(f"/v1/flows/{flow['id']}")).json()
    await operate(tenant, flow["id"], "MOVE_ACTION", {"name": "deep", "newParentStep": "step_600"}, expect=400)
    assert (await tenant.client.get(f"/v1/flows/{flow['id']}")).json() == before
    too_deep: dict[str, Any] = {}
    inner = too_deep
    for _ in range(MAX_FLOW_TREE_DEPTH):
        inner["a"] = {}
        inner = inner["a"]
    step = {**step, "name": "deeper", "settings": too_deep}
    refused = await operate(tenant, flow["id"], "ADD_ACTION", {"parentStep": "trigger", "action": step}, expect=400)
    assert refused == validation(f"body/request/action must NOT be nested more than {MAX_FLOW_TREE_DEPTH} levels deep")
