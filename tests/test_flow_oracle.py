"""The differential oracle: random sequences of flow operations, applied to this server over HTTP;
after each one the stored version must equal what the real `flowOperations.apply` (run by node,
tests/flow_oracle.py) makes of the previous version, and the flow's own fields what the real
`flowService.update` makes of them, except where a named stricter rule applies.

Two sets run: the fixed one (seed 0, the same sequences every run) and new ones (a fresh seed each
run, printed in the summary; `AP_ORACLE_SEED=<n>` replays it, `AP_ORACLE_ONLY=<i>` one sequence of
it). Sequence `i` of seed `n` draws from its own generator, so it is the same whatever runs beside it;
`AP_ORACLE_CONCURRENCY` sequences run at once on the session's event loop, their questions to node
pipelined. A failing sequence is shrunk (operations left out while it still fails) and printed as
JSON, ready for a `test_regression_*` case."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import random
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from app.flows.service import FLOW_LEVEL_OPERATIONS, NOTE_OPERATIONS
from tests import fidelity
from tests.conftest import Tenant, TenantFactory, personal_project_id
from tests.flow_oracle import (
    CHECKED,
    UNAVAILABLE,
    FlowOracle,
    OracleUnavailable,
    answered,
    comparable,
    flow_fields,
    kept_difference,
    names,
    walk,
)
from tests.processes import running_server
from tests.test_users import add_user

T = TypeVar("T")

FIXED_SEED = "0"
FIXED_SEQUENCES = int(os.environ.get("ORACLE_FIXED_SEQUENCES", "200"))
NEW_SEQUENCES = int(os.environ.get("ORACLE_SEQUENCES", "800"))
# Drawn once per run unless given, so that the summary names the seed a failure came from.
NEW_SEED = os.environ.get("AP_ORACLE_SEED") or str(random.SystemRandom().randrange(10**9))
ONLY = os.environ.get("AP_ORACLE_ONLY")
CONCURRENCY = int(os.environ.get("AP_ORACLE_CONCURRENCY", "8"))
# 1 in this many requests is also checked against the real schemas (tests/fidelity.py): the oracle
# compares every body's content, and the full check would take most of the run's time.
SCHEMA_SAMPLE = int(os.environ.get("AP_ORACLE_SCHEMA_SAMPLE", "10"))
MAX_OPERATIONS = 8

# Every FlowOperationType of the pinned @activepieces/shared.
ALL_KINDS = frozenset(
    {
        "LOCK_AND_PUBLISH", "USE_AS_DRAFT", "LOCK_FLOW", "CHANGE_STATUS", "CHANGE_FOLDER", "CHANGE_NAME",
        "MOVE_ACTION", "IMPORT_FLOW", "UPDATE_TRIGGER", "ADD_ACTION", "UPDATE_ACTION", "DELETE_ACTION",
        "DUPLICATE_ACTION", "ADD_BRANCH", "DELETE_BRANCH", "DUPLICATE_BRANCH", "MOVE_BRANCH", "SET_SKIP_ACTION",
        "UPDATE_METADATA", "UPDATE_MINUTES_SAVED", "UPDATE_OWNER", "SAVE_SAMPLE_DATA", "UPDATE_SAMPLE_DATA_INFO",
        "ADD_NOTE", "UPDATE_NOTE", "DELETE_NOTE",
    }
)  # fmt: skip


@pytest.fixture(scope="module")
async def oracle() -> AsyncIterator[FlowOracle]:
    try:
        runner = await FlowOracle.start()
    except OracleUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs the flow oracle (node and npm, tests/oracle/): {exc}")
        UNAVAILABLE.append(str(exc))
        pytest.skip(f"the flow oracle cannot run: {exc}")
    yield runner
    await runner.close()


@dataclass
class World:
    """What the sequences of one test share: a platform with users and folders to point flows at."""

    tenant: Tenant
    oracle: FlowOracle
    project_id: str
    folder_ids: list[str]
    user_ids: list[str]
    foreign_user_id: str


@pytest.fixture(scope="module")
def served(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str | None]:
    """`openpieces serve` on the run's database, the sequences' server: in a process of its own it
    serves while this one draws, compares and talks to node (on 2 cores, the in-process app made this
    process the bottleneck). `AP_ORACLE_IN_PROCESS=1` uses the session's in-process app instead."""
    if os.environ.get("AP_ORACLE_IN_PROCESS") == "1":
        yield None
        return
    env = {"AP_DATABASE_URL": database_url, "AP_DATA_DIR": str(tmp_path_factory.mktemp("oracle-server"))}
    with running_server(env) as base_url:
        yield base_url


@pytest.fixture
async def world(make_tenant: TenantFactory, oracle: FlowOracle, db: Any, served: str | None) -> AsyncIterator[World]:
    tenant, other = await make_tenant(), await make_tenant()
    if served is not None:
        client = httpx.AsyncClient(
            base_url=served,
            headers={"Authorization": f"Bearer {tenant.api_key}"},
            limits=httpx.Limits(max_connections=CONCURRENCY),
            timeout=120,
        )
        tenant = dataclasses.replace(tenant, client=client)
    project_id = await personal_project_id(tenant)
    folders = []
    for name in ("Orders", "Leads"):
        response = await tenant.client.post("/v1/folders", json={"displayName": name, "projectId": project_id})
        assert response.status_code == 200, response.text
        folders.append(response.json()["id"])
    members = [(await add_user(db, tenant))["id"] for _ in range(2)]
    foreign = (await add_user(db, other))["id"]
    yield World(tenant, oracle, project_id, folders, [tenant.owner_id, *members], foreign)
    if served is not None:
        await tenant.client.aclose()


# --- one sequence against the server and the oracle


# The flow-level refusals of this server where the real one breaks (README, "Fidelity" >
# "Differential oracle"): a 4xx here, a database error (500) or a thrown assertion there.
def _flow_refusal(world: World, flow: dict[str, Any], operation: dict[str, Any]) -> str | None:
    kind, request = operation["type"], operation["request"]
    if kind == "CHANGE_FOLDER" and request.get("folderId") not in (None, *world.folder_ids):
        return "a flow goes only into a folder of its project"
    if kind == "UPDATE_OWNER" and request.get("ownerId") not in world.user_ids:
        return "a flow's owner is a user of its platform"
    if kind == "CHANGE_STATUS" and request.get("status") != flow["status"] and flow["publishedVersionId"] is None:
        return "a flow without a published version is not enabled"
    return None


def _expected_flow(flow: dict[str, Any], previous: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    """The flow's own fields after the operation, as the real `flowService.update` sets them."""
    kind, request = operation["type"], operation["request"]
    expected = dict(flow)
    if kind == "LOCK_AND_PUBLISH":
        expected["publishedVersionId"] = previous["id"]
        expected["status"] = request.get("status") or "ENABLED"
    elif kind == "CHANGE_STATUS":
        expected["status"] = request["status"]
    elif kind == "CHANGE_FOLDER":
        expected["folderId"] = request["folderId"]
    elif kind == "UPDATE_METADATA":
        expected["metadata"] = request["metadata"]
    elif kind == "UPDATE_MINUTES_SAVED":
        expected["timeSavedPerRun"] = request["timeSavedPerRun"]
    elif kind == "UPDATE_OWNER":
        expected["ownerId"] = request["ownerId"]
    return expected


@dataclass
class Run:
    world: World
    flow_id: str = ""
    flow: dict[str, Any] = field(default_factory=dict)  # the flow's own fields (flow_fields)
    version: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, dict[str, Any]] = field(default_factory=dict)
    log: list[dict[str, Any]] = field(default_factory=list)

    async def start(self) -> None:
        response = await self.world.tenant.client.post(
            "/v1/flows", json={"displayName": "Oracle", "projectId": self.world.project_id}
        )
        assert response.status_code == 201, response.text
        created = response.json()
        self.flow_id = created["id"]
        self.flow = flow_fields(created)
        assert self.flow["status"] == "DISABLED" and self.flow["publishedVersionId"] is None, created
        self._take(created)

    def _take(self, flow: dict[str, Any]) -> None:
        self.version = flow["version"]
        self.versions[self.version["id"]] = self.version

    async def apply(self, operation: dict[str, Any]) -> None:
        self.log.append(operation)
        previous = self.version
        kind = operation["type"]
        # Asked before the request is sent: node answers while this process serves it.
        pending = self.world.oracle.submit(
            _oracle_input(previous, operation), _oracle_operation(self, previous, operation)
        )
        response = await self.world.tenant.client.post(f"/v1/flows/{self.flow_id}", json=operation)
        real = await answered(pending)
        trail = f"\nsequence so far:\n{json.dumps(self.log, indent=1)}\nreal answer: {json.dumps(real)[:3000]}"
        rule = (
            (kept_difference(previous, operation, real) or _flow_refusal(self.world, self.flow, operation))
            if real.get("ok")
            else None
        )
        if response.status_code >= 400:
            assert response.status_code < 500, response.text + trail
            if real.get("ok"):
                assert rule is not None, f"the server refused ({response.text}) what the real server applies" + trail
                CHECKED["kept"][rule] = CHECKED["kept"].get(rule, 0) + 1
            return
        assert response.status_code == 200, response.text + trail
        assert real.get("ok"), f"the server applied what the real server refuses: {response.text[:2000]}" + trail
        assert rule is None, f"the server applied what it refuses on purpose ({rule}): {response.text[:2000]}" + trail
        body = response.json()
        self._take(body)
        CHECKED["operations"] += 1
        CHECKED["kinds"][kind] = CHECKED["kinds"].get(kind, 0) + 1
        expected_flow = _expected_flow(self.flow, previous, operation)
        got_flow = flow_fields(body)
        assert got_flow == expected_flow, (
            f"the flow's fields:\nserver: {json.dumps(got_flow)}\nreal:   {json.dumps(expected_flow)}" + trail
        )
        self.flow = got_flow
        with_state = kind in ("LOCK_FLOW", "LOCK_AND_PUBLISH")
        expected = comparable(real["version"], with_state=with_state)
        got = comparable(self.version, with_state=with_state)
        assert got == expected, f"server:\n{json.dumps(got, indent=1)}\nreal:\n{json.dumps(expected, indent=1)}" + trail


def _oracle_input(previous: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    """The version the real function starts from: an edit of a LOCKED version starts from its DRAFT copy."""
    version = json.loads(json.dumps(previous))
    if version["state"] == "LOCKED" and operation["type"] not in NOTE_OPERATIONS | FLOW_LEVEL_OPERATIONS:
        version["state"] = "DRAFT"
    return version


def _oracle_operation(run: Run, previous: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    """What the real server hands to `flowOperations.apply` for the client's operation."""
    kind, request = operation["type"], operation["request"]
    if kind == "LOCK_AND_PUBLISH":
        return {"type": "LOCK_FLOW", "request": {}}
    if kind == "USE_AS_DRAFT":
        chosen = run.versions.get(request["versionId"])
        if chosen is None:
            return operation
        return {
            "type": "IMPORT_FLOW",
            "request": {
                "displayName": chosen["displayName"],
                "trigger": chosen["trigger"],
                "schemaVersion": chosen["schemaVersion"],
                "notes": chosen["notes"],
            },
        }
    if kind == "SAVE_SAMPLE_DATA":
        # The real server stores the payload in a file and records the file's id on the step.
        step = next((s for s in walk(previous["trigger"]) if s.get("name") == request["stepName"]), None)
        if step is None:
            return {
                "type": "UPDATE_SAMPLE_DATA_INFO",
                "request": {"stepName": request["stepName"], "sampleDataSettings": None},
            }
        before = (step.get("settings") or {}).get("sampleData") or {}
        new_file = "<new file>"
        return {
            "type": "UPDATE_SAMPLE_DATA_INFO",
            "request": {
                "stepName": request["stepName"],
                "sampleDataSettings": {
                    key: value
                    for key, value in {
                        "sampleDataFileId": new_file if request["type"] == "OUTPUT" else before.get("sampleDataFileId"),
                        "sampleDataInputFileId": new_file
                        if request["type"] == "INPUT"
                        else before.get("sampleDataInputFileId"),
                    }.items()
                    if value is not None  # `undefined` in the real server's object
                },
            },
        }
    return operation


# --- generating operations from the version the server holds

STEP_KINDS = ("PIECE", "CODE", "LOOP_ON_ITEMS", "ROUTER")
DISPLAY_NAMES = ("Send", "Ask", "Loop", "Route", "Step")
PIECE_VERSIONS = ("0.1.5", "~0.1.5", "^0.2.0")
CONNECTION_REFS = (
    "{{connections['slack']}}",
    "{{connections['a','b']}}",
    "{{connections['a', 'c']}} and {{connections['d']}}",  # the first reference only
    "{{ connections['spaced'] }}",  # not a reference for the real pattern
    '{{connections["double"]}}',
    "plain text",
)
NOTE_COLORS = ("orange", "red", "green", "blue", "purple", "yellow")
# The operations on the flow row: one of them is offered at every step.
FLOW_ROW_KINDS = ("UPDATE_METADATA", "UPDATE_MINUTES_SAVED", "CHANGE_FOLDER", "CHANGE_STATUS", "UPDATE_OWNER")
UNKNOWN_ID = "unknownId000000000000"  # the real id pattern, nothing's id


class Draw:
    """The choices of one sequence, from its own seeded generator: sequence `i` of seed `n` is the
    same whatever else runs beside it."""

    def __init__(self, seed: str) -> None:
        self._random = random.Random(seed)

    def pick(self, options: Sequence[T]) -> T:
        return options[self._random.randrange(len(options))]

    def coin(self) -> bool:
        return self._random.random() < 0.5

    def number(self, low: int, high: int) -> int:
        return self._random.randint(low, high)

    def some(self, options: Sequence[T], low: int, high: int) -> list[T]:
        return [self.pick(options) for _ in range(self.number(low, high))]


def _maybe(draw: Draw, value: Any, key: str, target: dict[str, Any]) -> None:
    if draw.coin():
        target[key] = value


def _condition(draw: Draw) -> dict[str, Any]:
    complete = draw.coin()
    shape = draw.number(0, 3)
    if shape == 0:
        return {"firstValue": "{{trigger.a}}" if complete else "", "operator": "EXISTS"}
    if shape == 1:  # no operator: the real schema reads it as either shape
        return {"firstValue": "{{trigger.a}}" if complete else "", "secondValue": ""}
    return {
        "firstValue": "{{trigger.a}}" if complete else "",
        "secondValue": draw.pick(["x", ""]) if complete else "",
        "operator": draw.pick(["TEXT_CONTAINS", "TEXT_EXACTLY_MATCHES"]),
        "caseSensitive": draw.coin(),
    }


def _settings(draw: Draw, kind: str, references: list[str]) -> dict[str, Any]:
    reference = draw.pick(references) if references else "trigger"
    if kind == "PIECE":
        settings: dict[str, Any] = {
            "pieceName": "@activepieces/piece-slack",
            "pieceVersion": draw.pick(PIECE_VERSIONS),
            "input": {"text": f"{{{{{reference}.body}}}}"},
            "propertySettings": {},
        }
        _maybe(draw, draw.pick(["send_message", ""]), "actionName", settings)
        _maybe(draw, draw.pick(CONNECTION_REFS), "auth", settings["input"])
        return settings
    if kind == "CODE":
        return {
            "sourceCode": {
                "code": draw.pick(["export const code = async (inputs) => inputs", ""]),
                "packageJson": draw.pick(["{}", ""]),
            },
            "input": {"value": f"{{{{{reference}.id}}}}"}
            | ({"auth": draw.pick(CONNECTION_REFS)} if draw.coin() else {}),
        }
    if kind == "LOOP_ON_ITEMS":
        return {"items": draw.pick([f"{{{{{reference}.items}}}}", ""])}
    branches: list[dict[str, Any]] = [
        {
            "conditions": draw.pick([[[_condition(draw)]], [[_condition(draw), _condition(draw)]], [[]], []]),
            "branchType": "CONDITION",
            "branchName": f"Branch {i + 1}",
        }
        for i in range(draw.number(0, 3))
    ]
    if draw.coin():
        branches.append({"branchType": "FALLBACK", "branchName": "Otherwise"})
    return {"branches": branches, "executionType": draw.pick(["EXECUTE_FIRST_MATCH", "EXECUTE_ALL_MATCH"])}


def _action(
    draw: Draw,
    taken: list[str],
    *,
    kind: str | None = None,
    name: str | None = None,
    nested: bool = False,
) -> dict[str, Any]:
    """An action request; `valid` is required by the real request schema, except on the steps nested
    in an imported trigger (the schema does not look inside `nextAction`)."""
    kind = kind or draw.pick(STEP_KINDS)
    if name is None:
        free = [f"step_{n}" for n in range(1, 40) if f"step_{n}" not in taken]
        # Now and then a name already used, to meet the unique-names rule.
        name = draw.pick(taken) if taken and draw.number(0, 9) == 0 else draw.pick(free[:6])
        if not nested and draw.number(0, 29) == 0:
            name = draw.pick(["step 1", "1step", "step-1"])  # refused by the real request schema
    action: dict[str, Any] = {
        "name": name,
        "displayName": draw.pick(DISPLAY_NAMES),
        "type": kind,
        "settings": _settings(draw, kind, ["trigger", *taken, name]),  # its own name too: a copy renames it
    }
    if nested:
        _maybe(draw, draw.coin(), "valid", action)
        _maybe(
            draw,
            {"sampleDataFileId": "old-file", "lastTestDate": "2024-01-01T00:00:00.000Z"},
            "sampleData",
            action["settings"],
        )
    else:
        action["valid"] = draw.coin()
    _maybe(draw, draw.coin(), "skip", action)
    return action


def _trigger_request(draw: Draw) -> dict[str, Any]:
    if draw.number(0, 3) == 0:
        return {"name": "trigger", "displayName": "Select Trigger", "type": "EMPTY", "settings": {}, "valid": False}
    settings: dict[str, Any] = {
        "pieceName": "@activepieces/piece-webhook",
        "pieceVersion": draw.pick(PIECE_VERSIONS),
        "input": {},
        "propertySettings": {},
    }
    _maybe(draw, draw.pick(["catch_webhook", ""]), "triggerName", settings)
    _maybe(draw, draw.pick(CONNECTION_REFS), "auth", settings["input"])
    trigger = {"name": "trigger", "displayName": "Webhook", "type": "PIECE_TRIGGER", "settings": settings}
    trigger["valid"] = draw.coin()
    return trigger


def _chain(draw: Draw, taken: list[str], depth: int) -> dict[str, Any] | None:
    """A chain of 0-3 steps with nested loops and routers, as a client imports it."""
    first: dict[str, Any] | None = None
    last: dict[str, Any] | None = None
    for _ in range(draw.number(0, 3 if depth == 0 else 2)):
        kind = draw.pick(STEP_KINDS if depth < 2 else ("PIECE", "CODE"))
        step = _action(draw, taken, kind=kind, nested=True)
        taken.append(step["name"])
        if kind == "LOOP_ON_ITEMS":
            inner = _chain(draw, taken, depth + 1)
            if inner:
                step["firstLoopAction"] = inner
        if kind == "ROUTER":
            step["children"] = [_chain(draw, taken, depth + 1) for _ in step["settings"]["branches"]]
        if last is None:
            first = step
        else:
            last["nextAction"] = step
        last = step
    return first


def _note(draw: Draw, note_id: str) -> dict[str, Any]:
    return {
        "id": note_id,
        "content": draw.pick(["todo", "check the loop", ""]),
        "color": draw.pick(NOTE_COLORS),
        "position": {"x": draw.number(0, 500), "y": draw.number(0, 500)},
        "size": {"width": 200, "height": 100},
    }


def _location(draw: Draw, parent: dict[str, Any] | None) -> dict[str, Any]:
    kind = (parent or {}).get("type")
    options: list[str | None] = ["AFTER", None]
    if kind == "LOOP_ON_ITEMS":
        options = ["INSIDE_LOOP", "INSIDE_LOOP", "AFTER", None]
    if kind == "ROUTER":
        options = ["INSIDE_BRANCH", "INSIDE_BRANCH", "AFTER", None]
    location = draw.pick(options)
    placed: dict[str, Any] = {}
    if location is not None:
        placed["location"] = location
    if location == "INSIDE_BRANCH":
        size = len((parent or {}).get("children") or [])
        placed["branchIndex"] = draw.number(0, size)  # one past the end now and then
    return placed


def operation_for(draw: Draw, run: Run) -> dict[str, Any]:
    version = run.version
    trigger = version["trigger"]
    steps = walk(trigger)
    taken = names(trigger)
    actions = [s for s in steps if s is not trigger]
    routers = [s for s in actions if s.get("type") == "ROUTER"]
    action_names = [s["name"] for s in actions]
    kinds = [
        "ADD_ACTION",
        "ADD_ACTION",
        "ADD_ACTION",
        "IMPORT_FLOW",
        "UPDATE_TRIGGER",
        "CHANGE_NAME",
        "ADD_NOTE",
        "LOCK_FLOW",
    ]
    if actions:
        kinds += ["UPDATE_ACTION", "DELETE_ACTION", "MOVE_ACTION", "MOVE_ACTION", "DUPLICATE_ACTION", "SET_SKIP_ACTION"]
        kinds += ["SAVE_SAMPLE_DATA", "UPDATE_SAMPLE_DATA_INFO"]
    if routers:
        kinds += ["ADD_BRANCH", "DELETE_BRANCH", "DUPLICATE_BRANCH", "MOVE_BRANCH"]
    if version["notes"]:
        kinds += ["UPDATE_NOTE", "DELETE_NOTE"]
    if len(run.versions) > 1:
        kinds.append("USE_AS_DRAFT")
    kinds += ["LOCK_AND_PUBLISH", draw.pick(FLOW_ROW_KINDS), draw.pick(FLOW_ROW_KINDS)]
    kind = draw.pick(kinds)

    if kind == "ADD_ACTION":
        parent_name = draw.pick([*taken, "step_99"] if draw.number(0, 19) == 0 else taken)
        parent = next((s for s in steps if s["name"] == parent_name), None)
        placed = _location(draw, parent)
        request: dict[str, Any] = {"parentStep": parent_name, "action": _action(draw, taken)}
        if "location" in placed:
            request["stepLocationRelativeToParent"] = placed["location"]
        if "branchIndex" in placed:
            request["branchIndex"] = placed["branchIndex"]
        return {"type": kind, "request": request}
    if kind == "UPDATE_ACTION":
        # Now and then the trigger's name or an unknown one.
        name = draw.pick([*action_names, "trigger", "step_99"] if draw.number(0, 9) == 0 else action_names)
        return {"type": kind, "request": _action(draw, taken, name=name)}
    if kind == "DELETE_ACTION":
        chosen = draw.some([*action_names, "step_99"], 1, 2)
        return {"type": kind, "request": {"names": chosen}}
    if kind == "MOVE_ACTION":
        name = draw.pick(action_names)
        parent_name = draw.pick(taken)
        parent = next(s for s in steps if s["name"] == parent_name)
        placed = _location(draw, parent)
        request = {"name": name, "newParentStep": parent_name}
        if "location" in placed:
            request["stepLocationRelativeToNewParent"] = placed["location"]
        if "branchIndex" in placed:
            request["branchIndex"] = placed["branchIndex"]
        return {"type": kind, "request": request}
    if kind == "DUPLICATE_ACTION":
        return {"type": kind, "request": {"stepName": draw.pick(action_names)}}
    if kind == "SET_SKIP_ACTION":
        chosen = draw.some([*taken, "step_99"], 1, 3)
        return {"type": kind, "request": {"names": chosen, "skip": draw.coin()}}
    if kind in ("ADD_BRANCH", "DELETE_BRANCH", "DUPLICATE_BRANCH", "MOVE_BRANCH"):
        router = draw.pick(routers)
        size = len(router["settings"]["branches"])
        if kind == "ADD_BRANCH":
            request = {"stepName": router["name"], "branchIndex": draw.number(0, size + 1), "branchName": "New"}
            if draw.coin():
                request["conditions"] = [[_condition(draw)]]
            return {"type": kind, "request": request}
        if kind == "MOVE_BRANCH":
            return {
                "type": kind,
                "request": {
                    "stepName": router["name"],
                    "sourceBranchIndex": draw.number(0, size),
                    "targetBranchIndex": draw.number(0, size),
                },
            }
        if size == 0:
            return {"type": "CHANGE_NAME", "request": {"displayName": "No branch"}}
        top = size if kind == "DELETE_BRANCH" else size - 1  # a copy of a missing branch crashes the real one
        return {"type": kind, "request": {"stepName": router["name"], "branchIndex": draw.number(0, top)}}
    if kind == "UPDATE_TRIGGER":
        return {"type": kind, "request": _trigger_request(draw)}
    if kind == "IMPORT_FLOW":
        imported = _trigger_request(draw) | {"lastUpdatedDate": "2024-01-01T00:00:00.000Z"}  # required by FlowTrigger
        chain = _chain(draw, [], 0)
        if chain:
            imported["nextAction"] = chain
        request = {
            "displayName": draw.pick(["Imported", "Copy"]),
            "trigger": imported,
            "schemaVersion": "22",
        }
        if draw.coin():
            request["notes"] = [
                _note(draw, "n1")
                | {"ownerId": None, "createdAt": "2024-01-01T00:00:00.000Z", "updatedAt": "2024-01-01T00:00:00.000Z"}
            ]
        return {"type": kind, "request": request}
    if kind == "CHANGE_NAME":
        return {"type": kind, "request": {"displayName": draw.pick(["Renamed", "Orders"])}}
    if kind == "ADD_NOTE":
        return {"type": kind, "request": _note(draw, draw.pick(["n1", "n2", "n3"]))}
    if kind == "UPDATE_NOTE":
        note_id = draw.pick([n["id"] for n in version["notes"]] + ["n9"])
        return {"type": kind, "request": _note(draw, note_id) | {"ownerId": None}}
    if kind == "DELETE_NOTE":
        return {"type": kind, "request": {"id": draw.pick([n["id"] for n in version["notes"]] + ["n9"])}}
    if kind == "SAVE_SAMPLE_DATA":
        return {
            "type": kind,
            "request": {
                "stepName": draw.pick(taken),
                "payload": {"ok": True},
                "type": draw.pick(["INPUT", "OUTPUT"]),
            },
        }
    if kind == "UPDATE_SAMPLE_DATA_INFO":
        sample = draw.pick(
            [None, {"sampleDataFileId": "f1"}, {"sampleDataInputFileId": "f2", "sampleDataFileId": "f3"}]
        )
        return {"type": kind, "request": {"stepName": draw.pick(taken), "sampleDataSettings": sample}}
    if kind == "USE_AS_DRAFT":
        return {"type": kind, "request": {"versionId": draw.pick(list(run.versions))}}
    if kind == "LOCK_FLOW":
        return {"type": kind, "request": {}}
    if kind == "LOCK_AND_PUBLISH":
        return {"type": kind, "request": draw.pick([{}, {"status": "DISABLED"}, {"status": "ENABLED"}])}
    if kind == "UPDATE_MINUTES_SAVED":
        return {"type": kind, "request": {"timeSavedPerRun": draw.pick([draw.number(0, 60), None])}}
    if kind == "CHANGE_FOLDER":
        world = run.world
        return {"type": kind, "request": {"folderId": draw.pick([*world.folder_ids, None, UNKNOWN_ID])}}
    if kind == "CHANGE_STATUS":
        return {"type": kind, "request": {"status": draw.pick(["ENABLED", "DISABLED"])}}
    if kind == "UPDATE_OWNER":
        world = run.world
        # The platform's users (its owner among them), another platform's user, an unknown id.
        choices = [*world.user_ids, world.foreign_user_id, UNKNOWN_ID]
        return {"type": kind, "request": {"ownerId": draw.pick(choices)}}
    metadata = draw.pick([{"k": draw.pick(["a", "b"])}, {}, None, {"nested": {"n": [1, None]}}])
    return {"type": "UPDATE_METADATA", "request": {"metadata": metadata}}


# --- the test


async def _sequence(run: Run, seed: str, index: int) -> None:
    draw = Draw(f"{seed}:{index}")
    await run.start()
    for _ in range(draw.number(1, MAX_OPERATIONS)):
        await run.apply(operation_for(draw, run))


async def _fails(world: World, operations: list[dict[str, Any]]) -> AssertionError | None:
    try:
        await _replay(world, operations)
    except AssertionError as error:
        return error
    return None


async def _shrunk(world: World, operations: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], AssertionError]:
    """The failing operations with every one left out that the failure does not need (one at a
    time, from the end: a later operation often needs the steps an earlier one made)."""
    error = await _fails(world, operations)
    assert error is not None, "the failing sequence passed when replayed"
    index = len(operations) - 1
    while index >= 0:
        fewer = operations[:index] + operations[index + 1 :]
        found = await _fails(world, fewer) if fewer else None
        if found is not None:
            operations, error = fewer, found
        index -= 1
    return operations, error


def _children_cpu() -> float:
    """The CPU time (user and system, from /proc) this process's live descendants have used: node and
    the served `openpieces serve`; 0 where there is no /proc."""
    total, pending = 0, [os.getpid()]
    tick = os.sysconf("SC_CLK_TCK")
    while pending:
        pid = pending.pop()
        try:
            for task in Path(f"/proc/{pid}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
            if pid != os.getpid():
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
        except (OSError, ValueError):
            continue
    return total / tick


async def _run_set(world: World, label: str, seed: str, count: int) -> None:
    """`count` sequences of `seed`, CONCURRENCY at a time; the first failure is shrunk and reported
    with how to replay it."""
    fidelity.CURRENT.sample_every = SCHEMA_SAMPLE
    indices = iter([int(ONLY)] if ONLY is not None and label == "new" else range(count))
    failures: list[tuple[int, list[dict[str, Any]], BaseException]] = []
    started, cpu_started, children_started = time.monotonic(), time.process_time(), _children_cpu()
    done = 0

    async def worker() -> None:
        nonlocal done
        for index in indices:
            if failures:
                return
            run = Run(world)
            try:
                await _sequence(run, seed, index)
            except Exception as error:  # an assertion or a crash, reported with its sequence
                failures.append((index, run.log, error))
                return
            done += 1

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    seconds = time.monotonic() - started
    children = _children_cpu() - children_started
    cpu = time.process_time() - cpu_started
    replays = f" (AP_ORACLE_SEED={seed} replays them)" if label == "new" else ""
    CHECKED["sequences"] += done
    CHECKED["runs"].append(
        f"{label} sequences: seed {seed}{replays}, {done} sequences in {seconds:.1f} s "
        f"(CPU: {cpu:.1f} s in this process, {children:.1f} s in node and the server process)"
    )
    if not failures:
        return
    index, logged, error = min(failures, key=lambda failure: failure[0])
    replay = f"AP_ORACLE_SEED={seed} AP_ORACLE_ONLY={index}" if label == "new" else f"the fixed set, sequence {index}"
    shown = "(not shrunk: it did not fail on an assertion)"
    if isinstance(error, AssertionError) and logged:
        operations, error = await _shrunk(world, logged)
        shown = json.dumps(operations, indent=1)
    pytest.fail(
        f"flow oracle, {label} sequences (seed {seed}): sequence {index} fails; replay it with {replay}.\n"
        f"Shrunk to these operations:\n{shown}\n\n{error}",
        pytrace=False,
    )


@pytest.mark.sends_invalid_requests("generates step names the real schema refuses now and then, to compare refusals")
async def test_fixed_sequences_match_the_real_server(world: World) -> None:
    CHECKED["kinds"].clear()
    await _run_set(world, "fixed", FIXED_SEED, FIXED_SEQUENCES)
    if FIXED_SEQUENCES >= 200:  # enough to meet every operation type applied and compared
        assert set(CHECKED["kinds"]) == ALL_KINDS, sorted(ALL_KINDS - set(CHECKED["kinds"]))


@pytest.mark.sends_invalid_requests("generates step names the real schema refuses now and then, to compare refusals")
async def test_new_random_sequences_match_the_real_server(world: World) -> None:
    await _run_set(world, "new", NEW_SEED, NEW_SEQUENCES)


def test_every_operation_type_is_one_of_the_real_ones() -> None:
    real = json.loads(fidelity.SCHEMA_DIR.joinpath("schemas", "FlowOperationRequest.json").read_text())
    kinds = {branch["properties"]["type"]["const"] for branch in real["anyOf"]}
    assert kinds == ALL_KINDS


# --- sequences the oracle found, kept as regressions


async def _replay(world: World, operations: list[dict[str, Any]]) -> Run:
    run = Run(world)
    await run.start()
    for operation in operations:
        await run.apply(operation)
    return run


def _code(name: str, **settings: Any) -> dict[str, Any]:
    return {
        "name": name,
        "displayName": "Code",
        "type": "CODE",
        "valid": True,
        "settings": {"sourceCode": {"code": "export const code = async () => 1", "packageJson": "{}"}, "input": {}}
        | settings,
    }


def _add(parent: str, action: dict[str, Any], location: str | None = None, branch: int | None = None) -> dict[str, Any]:
    request: dict[str, Any] = {"parentStep": parent, "action": action}
    if location:
        request["stepLocationRelativeToParent"] = location
    if branch is not None:
        request["branchIndex"] = branch
    return {"type": "ADD_ACTION", "request": request}


ROUTER_SETTINGS = {
    "branches": [
        {
            "conditions": [[{"firstValue": "{{step_2.ok}}", "operator": "BOOLEAN_IS_TRUE"}]],
            "branchType": "CONDITION",
            "branchName": "Yes",
        },
        {"branchType": "FALLBACK", "branchName": "Otherwise"},
    ],
    "executionType": "EXECUTE_FIRST_MATCH",
}
WEBHOOK = {
    "name": "trigger",
    "displayName": "Webhook",
    "type": "PIECE_TRIGGER",
    "valid": True,
    "settings": {
        "pieceName": "@activepieces/piece-webhook",
        "pieceVersion": "0.1.3",
        "triggerName": "catch",
        "input": {},
        "propertySettings": {},
    },
}


async def test_regression_a_piece_version_range_is_stored_exact(world: World) -> None:
    # Found by the oracle (shrunk to one operation): `~0.1.5` was stored as sent.
    piece = {
        "name": "step_1",
        "displayName": "Send",
        "type": "PIECE",
        "valid": False,
        "settings": {
            "pieceName": "@activepieces/piece-slack",
            "pieceVersion": "~0.1.5",
            "input": {},
            "propertySettings": {},
        },
    }
    run = await _replay(world, [_add("trigger", piece, "AFTER")])
    assert run.version["trigger"]["nextAction"]["settings"]["pieceVersion"] == "0.1.5"


async def test_regression_validity_is_judged_from_settings_and_replayed_steps_keep_their_flag(world: World) -> None:
    imported_step = _code("step_1") | {"valid": False}
    run = await _replay(
        world,
        [
            _add("trigger", _code("step_1") | {"valid": False}),  # judged valid: the flag is not read
            {"type": "UPDATE_ACTION", "request": _code("step_1", sourceCode={"code": "", "packageJson": "{}"})},
            {
                "type": "UPDATE_ACTION",
                "request": {
                    **_code("step_1"),
                    "type": "ROUTER",
                    "settings": {"branches": [], "executionType": "EXECUTE_ALL_MATCH"},
                },
            },
            {
                "type": "IMPORT_FLOW",
                "request": {
                    "displayName": "I",
                    "trigger": WEBHOOK | {"lastUpdatedDate": "2024-01-01T00:00:00.000Z", "nextAction": imported_step},
                    "schemaVersion": "22",
                },
            },
            {"type": "MOVE_ACTION", "request": {"name": "step_1", "newParentStep": "trigger"}},
        ],
    )
    assert run.version["trigger"]["nextAction"]["valid"] is False


async def test_regression_sample_data_through_updates_imports_and_saves(world: World) -> None:
    sampled = _code("step_1") | {
        "settings": _code("step_1")["settings"]
        | {"sampleData": {"sampleDataFileId": "old", "lastTestDate": "2024-01-01T00:00:00.000Z"}}
    }
    run = await _replay(
        world,
        [
            {"type": "UPDATE_TRIGGER", "request": WEBHOOK},
            {"type": "SAVE_SAMPLE_DATA", "request": {"stepName": "trigger", "payload": {"a": 1}, "type": "OUTPUT"}},
            {
                "type": "UPDATE_SAMPLE_DATA_INFO",
                "request": {"stepName": "trigger", "sampleDataSettings": {"sampleDataInputFileId": "in"}},
            },
            {"type": "SAVE_SAMPLE_DATA", "request": {"stepName": "trigger", "payload": {"a": 2}, "type": "OUTPUT"}},
            # The draft's trigger keeps its sample; the imported steps bring theirs.
            {
                "type": "IMPORT_FLOW",
                "request": {
                    "displayName": "I",
                    "trigger": WEBHOOK | {"lastUpdatedDate": "2024-01-01T00:00:00.000Z", "nextAction": sampled},
                    "schemaVersion": "22",
                },
            },
            {"type": "UPDATE_SAMPLE_DATA_INFO", "request": {"stepName": "step_9", "sampleDataSettings": None}},
            {"type": "DUPLICATE_ACTION", "request": {"stepName": "step_1"}},
        ],
    )
    assert run.version["trigger"]["settings"]["sampleData"]["sampleDataInputFileId"] == "in"


async def test_regression_branches_duplicated_and_routers_changed_in_type(world: World) -> None:
    router = {"name": "step_1", "displayName": "Route", "type": "ROUTER", "valid": True, "settings": ROUTER_SETTINGS}
    run = await _replay(
        world,
        [
            _add("trigger", router),
            _add("step_1", _code("step_2", input={"v": "{{step_2.x}}"}), "INSIDE_BRANCH", 0),
            # The copy's conditions still name step_2: only inputs are renamed.
            {"type": "DUPLICATE_BRANCH", "request": {"stepName": "step_1", "branchIndex": 0}},
            _add("step_1", _code("step_4"), "AFTER"),
            # A code step turned router has two empty children, whatever its branches say.
            {
                "type": "UPDATE_ACTION",
                "request": {
                    **_code("step_4"),
                    "type": "ROUTER",
                    "settings": ROUTER_SETTINGS | {"branches": ROUTER_SETTINGS["branches"] * 2},
                },
            },
            {"type": "ADD_BRANCH", "request": {"stepName": "step_4", "branchIndex": 3, "branchName": "Late"}},
            {"type": "DELETE_BRANCH", "request": {"stepName": "step_4", "branchIndex": 1}},
            {"type": "MOVE_BRANCH", "request": {"stepName": "step_4", "sourceBranchIndex": 0, "targetBranchIndex": 2}},
        ],
    )
    copied = run.version["trigger"]["nextAction"]["settings"]["branches"][1]
    assert copied["branchName"] == "Yes Copy" and copied["conditions"][0][0]["firstValue"] == "{{step_2.ok}}"


async def test_regression_connection_ids_follow_the_real_pattern(world: World) -> None:
    refs = [
        "{{connections['a', 'b']}} {{connections['c']}}",
        "{{ connections['spaced'] }}",
        '{{connections["double"]}}',
    ]
    operations = [
        _add("trigger" if i == 0 else f"step_{i}", _code(f"step_{i + 1}", input={"auth": ref}))
        for i, ref in enumerate(refs)
    ]
    run = await _replay(world, operations)
    assert run.version["connectionIds"] == ["a", "b"]


async def test_regression_a_move_under_a_loop_without_a_location_is_refused(world: World) -> None:
    # Found by the oracle (exploring with new random sequences, shrunk to three operations): the move
    # went AFTER the loop; the real server refuses "Loop step parent undefined not found".
    loop = {
        "name": "step_1",
        "displayName": "Loop",
        "type": "LOOP_ON_ITEMS",
        "valid": True,
        "settings": {"items": "{{trigger.items}}"},
    }
    run = await _replay(
        world,
        [_add("trigger", loop, "AFTER"), _add("trigger", _code("step_2"), "AFTER")],
    )
    response = await run.world.tenant.client.post(
        f"/v1/flows/{run.flow_id}",
        json={"type": "MOVE_ACTION", "request": {"name": "step_2", "newParentStep": "step_1"}},
    )
    assert response.status_code == 400
    assert response.json()["params"]["message"] == "Loop step parent undefined not found"
    await run.apply({"type": "MOVE_ACTION", "request": {"name": "step_2", "newParentStep": "step_1"}})
