"""The real step logic of Activepieces as an oracle: `flowOperations.apply` from the published
`@activepieces/shared` (pinned in tests/oracle/package.json), run by node in one long-lived process
(tests/oracle/apply.mjs) and compared with what this server stores after each flow operation.

Requests are pipelined: many sequences run at once on the event loop, each writes its line and
awaits its answer, and node answers them in order while this process serves the HTTP side.

What differs on purpose is named in `STRICTER_RULES`: there this server answers 4xx where the real
one would store a broken or silently truncated tree. Nothing else may differ.
"""

from __future__ import annotations

import asyncio
import collections
import copy
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

ORACLE_DIR = Path(__file__).parent / "oracle"
PINNED_VERSION = "0.96.2"
# Set when the oracle cannot run, and what the last run checked; conftest prints both in the
# terminal summary.
UNAVAILABLE: list[str] = []
CHECKED: dict[str, Any] = {"sequences": 0, "operations": 0, "kept": {}, "kinds": {}, "runs": []}


class OracleUnavailable(Exception):
    pass


def _install_node() -> None:
    """Debian's node and npm, when missing and this is a root Debian host (as CI runs)."""
    if shutil.which("node") and shutil.which("npm"):
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise OracleUnavailable("node/npm not found on PATH, and this is not a root Debian host to install them on")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "nodejs", "npm"]
    result = subprocess.run(install, env=env, capture_output=True, text=True, timeout=900, check=False)
    if result.returncode != 0:  # the package lists may never have been fetched on this host
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, timeout=600, check=False)
        result = subprocess.run(install, env=env, capture_output=True, text=True, timeout=900, check=False)
    if not (shutil.which("node") and shutil.which("npm")):
        raise OracleUnavailable(f"apt-get install nodejs npm failed: {result.stderr.strip()[-500:]}")


def _install() -> None:
    """node (see `_install_node`), then `npm ci` into tests/oracle/node_modules when it is missing
    (the lock file pins every package)."""
    _install_node()
    installed = ORACLE_DIR / "node_modules" / "@activepieces" / "shared" / "package.json"
    if installed.exists() and json.loads(installed.read_text())["version"] == PINNED_VERSION:
        return
    try:
        done = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=ORACLE_DIR,
            capture_output=True,
            text=True,
            timeout=600,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OracleUnavailable(f"npm ci failed: {exc}") from None
    if done.returncode != 0 or not installed.exists():
        raise OracleUnavailable(f"npm ci failed ({done.returncode}): {done.stderr.strip()[-500:]}")


class FlowOracle:
    """One node process answering one JSON line per JSON line, in order; callers on the event loop
    may have many lines in flight (`submit` now, await the answer later)."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process
        self._waiting: collections.deque[asyncio.Future[dict[str, Any]]] = collections.deque()
        self._reader = asyncio.get_running_loop().create_task(self._read())
        self.calls = 0

    @classmethod
    async def start(cls) -> FlowOracle:
        await asyncio.to_thread(_install)
        process = await asyncio.create_subprocess_exec(
            "node",
            str(ORACLE_DIR / "apply.mjs"),
            cwd=ORACLE_DIR,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=1 << 26,  # one line is one whole version
        )
        return cls(process)

    async def _read(self) -> None:
        assert self._process.stdout is not None
        while True:
            line = await self._process.stdout.readline()
            if not line:
                break
            self._waiting.popleft().set_result(json.loads(line))
        ended = RuntimeError(f"the oracle process ended (exit code {self._process.returncode})")
        while self._waiting:
            self._waiting.popleft().set_exception(ended)

    def submit(self, version: dict[str, Any], operation: dict[str, Any]) -> asyncio.Future[dict[str, Any]]:
        """Sends one question now; the future holds the real answer."""
        assert self._process.stdin is not None
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting.append(answer)
        self._process.stdin.write((json.dumps({"flowVersion": version, "operation": operation}) + "\n").encode())
        self.calls += 1
        return answer

    async def apply(self, version: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
        return await answered(self.submit(version, operation))

    async def close(self) -> None:
        if self._process.stdin:
            self._process.stdin.close()
        try:
            await asyncio.wait_for(self._process.wait(), timeout=10)
        except TimeoutError:
            self._process.kill()
        await self._reader


async def answered(pending: asyncio.Future[dict[str, Any]]) -> dict[str, Any]:
    # A node that stops answering fails the test instead of hanging it.
    answer = await asyncio.wait_for(pending, timeout=120)
    if answer.get("error", {}).get("code") == "ORACLE_CRASH":
        raise RuntimeError(answer["error"]["message"])
    return answer


# --- comparing versions

_VOLATILE_STEP_KEYS = ("lastUpdatedDate",)
_VOLATILE_NOTE_KEYS = ("createdAt", "updatedAt")
_FILE_KEYS = ("sampleDataFileId", "sampleDataInputFileId")


def _normalise_step(step: Any) -> Any:
    if not isinstance(step, dict):
        return step
    step = {k: v for k, v in step.items() if k not in _VOLATILE_STEP_KEYS}
    settings = step.get("settings")
    if isinstance(settings, dict) and isinstance(settings.get("sampleData"), dict):
        sample = {k: v for k, v in settings["sampleData"].items() if k != "lastTestDate"}
        for key in _FILE_KEYS:
            if sample.get(key) is not None:
                sample[key] = "<file id>"
        step["settings"] = {**settings, "sampleData": sample}
    for key in ("nextAction", "firstLoopAction"):
        if key in step:
            step[key] = _normalise_step(step[key])
    if isinstance(step.get("children"), list):
        step["children"] = [_normalise_step(child) for child in step["children"]]
    return step


def comparable(version: dict[str, Any], *, with_state: bool = False) -> dict[str, Any]:
    """The parts of a version both sides decide, without ids and timestamps of their own. Exact as
    JSON: a key set to null is not an absent one (the real server stores what JSON.stringify makes
    of the tree, which keeps nulls and drops `undefined`)."""
    picked = {
        "displayName": version.get("displayName"),
        "trigger": _normalise_step(copy.deepcopy(version.get("trigger"))),
        "valid": version.get("valid"),
        "connectionIds": version.get("connectionIds"),
        "notes": [
            {k: v for k, v in note.items() if k not in _VOLATILE_NOTE_KEYS} for note in version.get("notes") or []
        ],
    }
    if with_state:
        picked["state"] = version.get("state")
    return picked


# The flow's own fields an operation decides (flow.service.ts, update); the rest are ids and
# timestamps of the server's own.
FLOW_FIELDS = ("projectId", "folderId", "ownerId", "status", "publishedVersionId", "metadata", "timeSavedPerRun")


def flow_fields(flow: dict[str, Any]) -> dict[str, Any]:
    return {key: flow.get(key, "<absent>") for key in FLOW_FIELDS}


# --- the step tree, read from either side


def walk(step: dict[str, Any] | None) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    pending = [step]
    while pending:
        current = pending.pop()
        if not isinstance(current, dict):
            continue
        found.append(current)
        inner: list[Any] = []
        if current.get("type") == "LOOP_ON_ITEMS":
            inner.append(current.get("firstLoopAction"))
        if current.get("type") == "ROUTER":
            inner.extend(current.get("children") or [])
        # Depth first in the order the flow runs: inner chains before what follows the step.
        pending.append(current.get("nextAction"))
        pending.extend(reversed(inner))
    return found


def names(trigger: dict[str, Any] | None) -> list[str]:
    return [step["name"] for step in walk(trigger) if "name" in step]


def subtree_names(step: dict[str, Any]) -> list[str]:
    return names({**step, "nextAction": None})


# --- the differences kept on purpose (README, "Fidelity" > "Differential oracle")


def _duplicate_names(previous: dict[str, Any], operation: dict[str, Any], real: dict[str, Any]) -> bool:
    if not real.get("ok"):
        return False
    found = names(real["version"]["trigger"])
    return len(found) != len(set(found))


def _move_into_itself(previous: dict[str, Any], operation: dict[str, Any], real: dict[str, Any]) -> bool:
    if operation["type"] != "MOVE_ACTION":
        return False
    request = operation["request"]
    moving = next((s for s in walk(previous["trigger"]) if s.get("name") == request["name"]), None)
    return moving is not None and request["newParentStep"] in subtree_names(moving)


def _add_lost(previous: dict[str, Any], operation: dict[str, Any], real: dict[str, Any]) -> bool:
    """An added step (or a moved one) that ends up nowhere: unknown parent, or a branch index the
    router does not have (the real server writes past the end of `children`)."""
    if operation["type"] not in ("ADD_ACTION", "MOVE_ACTION") or not real.get("ok"):
        return False
    request = operation["request"]
    parent_name = request.get("parentStep", request.get("newParentStep"))
    parent = next((s for s in walk(previous["trigger"]) if s.get("name") == parent_name), None)
    if parent is None:
        return True
    location = request.get("stepLocationRelativeToParent", request.get("stepLocationRelativeToNewParent"))
    if parent.get("type") == "ROUTER" and location == "INSIDE_BRANCH" and request.get("branchIndex") is not None:
        return not 0 <= request["branchIndex"] < len(parent.get("children") or [])
    return False


def _publish_invalid(previous: dict[str, Any], operation: dict[str, Any], real: dict[str, Any]) -> bool:
    return operation["type"] == "LOCK_AND_PUBLISH" and not previous.get("valid")


def _trigger_replaced(previous: dict[str, Any], operation: dict[str, Any], real: dict[str, Any]) -> bool:
    return operation["type"] == "UPDATE_ACTION" and operation["request"]["name"] == previous["trigger"]["name"]


STRICTER_RULES = {
    "the trigger is changed only by UPDATE_TRIGGER": _trigger_replaced,
    "step names are unique": _duplicate_names,
    "a step is not moved inside itself": _move_into_itself,
    "an added step needs a place (known parent, existing branch)": _add_lost,
    "an invalid version is not published": _publish_invalid,
}


def kept_difference(previous: dict[str, Any], operation: dict[str, Any], real: dict[str, Any]) -> str | None:
    """The stricter rule that explains a 4xx of this server where the real function answers, if any."""
    for rule, applies in STRICTER_RULES.items():
        if applies(previous, operation, real):
            return rule
    return None
