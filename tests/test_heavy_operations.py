"""The heaviest flow operations at the limits, against a real `openpieces serve`: each answers within
OPERATION_SECONDS, and the worker keeps answering liveness meanwhile (a probe would otherwise kill it).

Measured on a loaded 2-core machine (one worker; docs/performance.md, "Long flows"): every operation
here answered in 15-230 ms and liveness in at most 49 ms while they ran (before: 0.3-8 s, liveness
nearly as long). The bounds (2 s for an operation, 250 ms for liveness) leave room for a busy CI
machine; liveness is what fails on the code before."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.edge.limits import MAX_FLOW_STEPS, raise_recursion_limit
from app.kit.serialization import json_bytes, json_loads
from tests.processes import running_server
from tests.test_flows import invalid_operation, schedule_trigger
from tests.test_limits import code, count_steps, nested_loops, nested_routers

# Its 1,000-step trees are sent as tests/test_limits.py sends them (not yet as the real schemas
# require), and checking them in the client would be timed with the answers.
pytestmark = [pytest.mark.slow, pytest.mark.real_schemas_pending]

BOOTSTRAP_KEY = "sk-heavy-operations-key-0123456789abcdefghij"
# An operation's answer, and the slowest liveness answer while it runs.
OPERATION_SECONDS = 2.0
LIVENESS_SECONDS = 0.25
JSON = {"Content-Type": "application/json"}
TOO_LONG = invalid_operation(
    f"A flow has at most {MAX_FLOW_STEPS} steps (this one would have {2 * MAX_FLOW_STEPS - 1})"
)


# The probe: a thread in a process of its own (as a liveness probe is), so that the test process's own
# pauses (its garbage collector walking the long trees it holds) are not taken for the server's.
# `start` resets the slowest answer and returns once an answer came; `stop` waits for the request in
# flight and prints the slowest answer and any failure as JSON.
PROBE = r"""
import http.client, json, sys, threading, time
host, port = sys.argv[1], int(sys.argv[2])
lock = threading.Condition()
state = {"on": False, "answers": 0, "busy": False, "slowest": 0.0, "failures": []}

def poll():
    conn = http.client.HTTPConnection(host, port, timeout=30)
    while True:
        with lock:
            lock.wait_for(lambda: state["on"])
            state["busy"] = True
        started = time.perf_counter()
        conn.request("GET", "/v1/health/live")
        answer = conn.getresponse()
        text = answer.read().decode()
        took = time.perf_counter() - started
        with lock:
            state["slowest"] = max(state["slowest"], took)
            state["answers"] += 1
            if answer.status != 200:
                state["failures"].append(f"{answer.status} {text}")
            state["busy"] = False
            lock.notify_all()
        time.sleep(0.01)

threading.Thread(target=poll, daemon=True).start()
for line in sys.stdin:
    with lock:
        if line.strip() == "start":
            state.update(on=True, answers=0, slowest=0.0, failures=[])
            lock.notify_all()
            lock.wait_for(lambda: state["answers"] > 0)
            print("{}", flush=True)
        else:
            state["on"] = False
            lock.wait_for(lambda: not state["busy"])
            print(json.dumps({"slowest": state["slowest"], "failures": state["failures"]}), flush=True)
"""


class LivenessProbe:
    """Polls /v1/health/live, from a thread of its own process, while `watching`; keeps the slowest answer."""

    def __init__(self, base_url: str) -> None:
        url = httpx.URL(base_url)
        self.process = subprocess.Popen(
            [sys.executable, "-c", PROBE, str(url.host), str(url.port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.slowest = 0.0
        self.failures: list[str] = []

    def _say(self, command: str) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return dict(json.loads(self.process.stdout.readline()))

    @contextmanager
    def watching(self) -> Iterator[None]:
        self._say("start")
        try:
            yield
        finally:
            said = self._say("stop")
            self.slowest, self.failures = said["slowest"], said["failures"]

    def close(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


class Server:
    def __init__(self, client: httpx.Client, probe: LivenessProbe) -> None:
        self.client = client
        self.probe = probe
        self.timings: list[tuple[str, float, float]] = []

    def new_flow(self) -> str:
        project_id = self.client.get("/v1/projects").json()["data"][0]["id"]
        created = self.client.post("/v1/flows", json={"projectId": project_id, "displayName": "Heavy"})
        assert created.status_code == 201, created.text
        return str(created.json()["id"])

    def operate(self, label: str, flow_id: str, kind: str, request: dict[str, Any], expect: int = 200) -> Any:
        with self.probe.watching():
            started = time.perf_counter()
            body = json_bytes({"type": kind, "request": request})
            answer = self.client.post(f"/v1/flows/{flow_id}", content=body, headers=JSON)
            seconds = time.perf_counter() - started
        self.timings.append((label, seconds, self.probe.slowest))
        assert answer.status_code == expect, answer.text[:500]
        assert not self.probe.failures, self.probe.failures
        return json_loads(answer.content)


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    raise_recursion_limit()  # the trees nest deeper than Python's default, in the client too
    data_dir: Path = tmp_path_factory.mktemp("heavy")
    env = {"AP_DATABASE_URL": database_url, "AP_DATA_DIR": str(data_dir), "AP_BOOTSTRAP_API_KEY": BOOTSTRAP_KEY}
    with running_server(env) as base_url:
        with httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {BOOTSTRAP_KEY}"}, timeout=120
        ) as client:
            probe = LivenessProbe(base_url)
            try:
                yield Server(client, probe)
            finally:
                probe.close()


def loops_with_references(actions: int) -> dict[str, Any]:
    """Nested loops, each holding a code step whose input refers to its loop, itself and the
    trigger, and then the next loop: a copy renames every reference."""
    trigger = schedule_trigger()
    holder, key = trigger, "nextAction"
    for n in range(1, actions + 1, 2):
        loop = {"name": f"step_{n}", "displayName": "Loop", "type": "LOOP_ON_ITEMS", "settings": {"items": "{{x}}"}}
        body = code(f"step_{n + 1}")
        text = f"{{{{step_{n}.item}}}} and {{{{ step_{n + 1}.output }}}} of {{{{trigger.body}}}}"
        body["settings"] = {**body["settings"], "input": {"text": text, "list": [text, {"deep": text}]}}
        loop["firstLoopAction"] = body
        holder[key] = loop
        holder, key = body, "nextAction"
    return trigger


def check_timings(server: Server) -> None:
    timings, server.timings = server.timings, []
    for label, seconds, slowest in timings:  # shown with `pytest -s`
        print(f"{label}: {seconds * 1000:.0f} ms, liveness at most {slowest * 1000:.0f} ms")
    slow = [(label, round(s, 3), round(live, 3)) for label, s, live in timings if s > OPERATION_SECONDS]
    assert not slow, f"operations over {OPERATION_SECONDS} s: {slow}"
    stalled = [(label, round(live, 3)) for label, _, live in timings if live > LIVENESS_SECONDS]
    assert not stalled, f"liveness over {LIVENESS_SECONDS} s during: {stalled}"


@pytest.mark.parametrize("shape", ["routers", "loops"])
def test_the_heaviest_operations_at_the_limits_keep_the_worker_live(server: Server, shape: str) -> None:
    build = nested_routers if shape == "routers" else nested_loops
    deepest = f"step_{MAX_FLOW_STEPS - 1}"
    flow_id = server.new_flow()
    tree = build(MAX_FLOW_STEPS - 1)
    imported = server.operate("IMPORT_FLOW", flow_id, "IMPORT_FLOW", {"displayName": "Long", "trigger": tree})
    assert count_steps(imported["version"]["trigger"]) == MAX_FLOW_STEPS
    assert imported["version"]["valid"] is True
    request = {"versionId": imported["version"]["id"]}
    drafted = server.operate("USE_AS_DRAFT", flow_id, "USE_AS_DRAFT", request)
    assert count_steps(drafted["version"]["trigger"]) == MAX_FLOW_STEPS

    # Copying the outermost step would double the flow: refused, after the whole copy is built.
    refused = server.operate("DUPLICATE_ACTION", flow_id, "DUPLICATE_ACTION", {"stepName": "step_1"}, expect=400)
    assert refused == TOO_LONG
    if shape == "routers":
        request = {"stepName": "step_1", "branchIndex": 0}
        refused = server.operate("DUPLICATE_BRANCH", flow_id, "DUPLICATE_BRANCH", request, expect=400)
        assert refused == invalid_operation(
            f"A flow has at most {MAX_FLOW_STEPS} steps (this one would have {2 * MAX_FLOW_STEPS - 2})"
        )
    # The innermost step moved after the trigger, then the outermost one (with every other) after it.
    moved = server.operate("MOVE_ACTION", flow_id, "MOVE_ACTION", {"name": deepest, "newParentStep": "trigger"})
    assert moved["version"]["trigger"]["nextAction"]["name"] == deepest
    assert count_steps(moved["version"]["trigger"]) == MAX_FLOW_STEPS
    request = {"name": "step_1", "newParentStep": deepest, "stepLocationRelativeToNewParent": "AFTER"}
    inner = server.operate("MOVE_ACTION (subtree)", flow_id, "MOVE_ACTION", request)
    assert count_steps(inner["version"]["trigger"]) == MAX_FLOW_STEPS
    deleted = server.operate("DELETE_ACTION", flow_id, "DELETE_ACTION", {"names": ["step_3"]})
    assert count_steps(deleted["version"]["trigger"]) == 4  # step_3 held every later step
    check_timings(server)


def test_duplicating_half_a_flow_at_the_limits(server: Server) -> None:
    half = MAX_FLOW_STEPS // 2
    flow_id = server.new_flow()
    server.operate(
        "IMPORT_FLOW (half)", flow_id, "IMPORT_FLOW", {"displayName": "H", "trigger": nested_routers(half - 1)}
    )
    copied = server.operate("DUPLICATE_ACTION (half)", flow_id, "DUPLICATE_ACTION", {"stepName": "step_1"})
    trigger = copied["version"]["trigger"]
    assert count_steps(trigger) == 2 * half - 1
    clone = trigger["nextAction"]["nextAction"]
    assert (clone["name"], clone["displayName"]) == (f"step_{half}", "Router Copy")

    flow_id = server.new_flow()
    server.operate("IMPORT_FLOW (half)", flow_id, "IMPORT_FLOW", {"displayName": "H", "trigger": nested_routers(half)})
    request = {"stepName": "step_1", "branchIndex": 0}
    branched = server.operate("DUPLICATE_BRANCH (half)", flow_id, "DUPLICATE_BRANCH", request)
    router = branched["version"]["trigger"]["nextAction"]
    assert count_steps(branched["version"]["trigger"]) == 2 * half
    assert [b["branchName"] for b in router["settings"]["branches"]] == ["B", "B Copy", "Otherwise"]
    assert router["children"][1]["name"] == f"step_{half + 1}"

    flow_id = server.new_flow()
    tree = loops_with_references(half - 2)  # 498 actions: copied, 997 steps
    server.operate("IMPORT_FLOW (references)", flow_id, "IMPORT_FLOW", {"displayName": "R", "trigger": tree})
    copied = server.operate("DUPLICATE_ACTION (references)", flow_id, "DUPLICATE_ACTION", {"stepName": "step_1"})
    trigger = copied["version"]["trigger"]
    assert count_steps(trigger) == 2 * (half - 2) + 1
    clone = trigger["nextAction"]["nextAction"]
    assert (clone["name"], clone["firstLoopAction"]["name"]) == (f"step_{half - 1}", f"step_{half}")
    assert clone["firstLoopAction"]["settings"]["input"]["list"][1] == {
        "deep": f"{{{{step_{half - 1}.item}}}} and {{{{ step_{half}.output }}}} of {{{{trigger.body}}}}"
    }
    everything = [f"step_{n}" for n in range(2 * (half - 2), 0, -1)]  # innermost first: each is found
    emptied = server.operate("DELETE_ACTION (every step)", flow_id, "DELETE_ACTION", {"names": everything})
    assert count_steps(emptied["version"]["trigger"]) == 1
    check_timings(server)
