"""The step tree of a flow version, as stored (plain JSON): a trigger whose `nextAction` chain holds
actions; a LOOP_ON_ITEMS action holds a chain in `firstLoopAction`; a ROUTER holds one chain (or
null) per branch in `children`, beside `settings.branches`.

Pure functions: they read and rewrite the tree and know nothing of HTTP or the database. Errors
are `StepError`s, which the service turns into the API's error body.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

Step = dict[str, Any]

TRIGGER_TYPES = ("EMPTY", "PIECE_TRIGGER")
ACTION_TYPES = ("PIECE", "CODE", "LOOP_ON_ITEMS", "ROUTER")
TRIGGER_NAME = "trigger"
_STEP_NAME = re.compile(r"^step_(\d+)$")
_CONNECTION_REF = re.compile(r"\{\{\s*connections\[\s*['\"]([^'\"]+)['\"]\s*\]\s*\}\}")


class StepError(Exception):
    """An operation that does not fit the tree (unknown step, duplicate name, bad branch index)."""


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- walking


def _inner_chains(step: Step) -> Iterator[Step]:
    if step.get("type") == "LOOP_ON_ITEMS" and step.get("firstLoopAction"):
        yield step["firstLoopAction"]
    if step.get("type") == "ROUTER":
        for child in step.get("children") or []:
            if child:
                yield child


def iter_steps(first: Step | None) -> Iterator[Step]:
    """Every step from `first` on, depth first, in the order the flow runs them."""
    step = first
    while step:
        yield step
        for chain in _inner_chains(step):
            yield from iter_steps(chain)
        step = step.get("nextAction")


def step_names(trigger: Step) -> list[str]:
    return [step["name"] for step in iter_steps(trigger)]


def find_step(trigger: Step, name: str) -> Step:
    for step in iter_steps(trigger):
        if step.get("name") == name:
            return step
    raise StepError(f"Step {name} not found")


def _find_slot(trigger: Step, name: str) -> tuple[Step, str, int | None]:
    """Where the step named `name` hangs: (holder, key, index) with holder[key] (or
    holder[key][index]) being the step."""
    for holder in iter_steps(trigger):
        nxt = holder.get("nextAction")
        if nxt and nxt.get("name") == name:
            return holder, "nextAction", None
        if holder.get("type") == "LOOP_ON_ITEMS":
            first = holder.get("firstLoopAction")
            if first and first.get("name") == name:
                return holder, "firstLoopAction", None
        if holder.get("type") == "ROUTER":
            for index, child in enumerate(holder.get("children") or []):
                if child and child.get("name") == name:
                    return holder, "children", index
    raise StepError(f"Step {name} not found")


def _get(holder: Step, key: str, index: int | None) -> Step | None:
    return holder[key][index] if index is not None else holder.get(key)


def _set(holder: Step, key: str, index: int | None, value: Step | None) -> None:
    if index is not None:
        holder[key][index] = value
    else:
        holder[key] = value


def unused_names(trigger: Step, count: int) -> list[str]:
    """`step_N` names not used in the tree, lowest first, as the real editor numbers steps."""
    taken = set(step_names(trigger))
    names: list[str] = []
    n = 1
    while len(names) < count:
        candidate = f"step_{n}"
        if candidate not in taken:
            names.append(candidate)
        n += 1
    return names


# --- derived facts


def connection_external_ids(trigger: Step) -> list[str]:
    """The connections the steps use: `{{connections['<externalId>']}}` in a step's `input.auth`."""
    found: dict[str, None] = {}
    for step in iter_steps(trigger):
        auth = ((step.get("settings") or {}).get("input") or {}).get("auth")
        if isinstance(auth, str):
            for match in _CONNECTION_REF.finditer(auth):
                found[match.group(1)] = None
    return list(found)


def piece_names(trigger: Step) -> list[str]:
    """Pieces used by the trigger and the actions."""
    names: dict[str, None] = {}
    for step in iter_steps(trigger):
        if step.get("type") in ("PIECE", "PIECE_TRIGGER"):
            piece = (step.get("settings") or {}).get("pieceName")
            if isinstance(piece, str):
                names[piece] = None
    return list(names)


def _filled(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _step_is_valid(step: Step) -> bool:
    """What can be checked without the pieces' metadata: the fields each step type needs."""
    settings = step.get("settings") or {}
    kind = step.get("type")
    if kind == "EMPTY":
        return False
    if kind == "PIECE_TRIGGER":
        return all(_filled(settings.get(k)) for k in ("pieceName", "pieceVersion", "triggerName"))
    if kind == "PIECE":
        return all(_filled(settings.get(k)) for k in ("pieceName", "pieceVersion", "actionName"))
    if kind == "CODE":
        source = settings.get("sourceCode") or {}
        return _filled(source.get("code")) and isinstance(source.get("packageJson"), str)
    if kind == "LOOP_ON_ITEMS":
        return _filled(settings.get("items"))
    if kind == "ROUTER":
        branches = settings.get("branches") or []
        children = step.get("children") or []
        return (
            len(branches) >= 2
            and len(children) == len(branches)
            and branches[-1].get("branchType") == "FALLBACK"
            and all(b.get("branchType") == "CONDITION" for b in branches[:-1])
        )
    return False


def refresh_validity(trigger: Step) -> bool:
    """Recompute every step's `valid`; the version is valid when every step is."""
    all_valid = True
    for step in iter_steps(trigger):
        step["valid"] = _step_is_valid(step)
        all_valid = all_valid and step["valid"]
    return all_valid


def check_names(trigger: Step) -> None:
    seen: set[str] = set()
    for step in iter_steps(trigger):
        name = step.get("name")
        if name in seen:
            raise StepError(f"Step name {name} is used more than once")
        seen.add(name)


# --- building steps from requests


def empty_trigger() -> Step:
    return {
        "name": TRIGGER_NAME,
        "valid": False,
        "displayName": "Select Trigger",
        "type": "EMPTY",
        "settings": {},
        "lastUpdatedDate": now_iso(),
    }


def normalize_router(step: Step) -> None:
    """A router has one child slot per branch."""
    branches = (step.get("settings") or {}).get("branches") or []
    children = list(step.get("children") or [])
    children = children[: len(branches)] + [None] * (len(branches) - len(children))
    step["children"] = children


def _stamp(step: Step) -> Step:
    step["lastUpdatedDate"] = now_iso()
    return step


# --- operations on the tree


def update_trigger(trigger: Step, new_trigger: Step) -> Step:
    replacement = _stamp(copy.deepcopy(new_trigger))
    replacement["nextAction"] = trigger.get("nextAction")
    return replacement


def add_action(trigger: Step, parent_name: str, location: str, branch_index: int | None, action: Step) -> None:
    parent = find_step(trigger, parent_name)
    if action["name"] in step_names(trigger):
        raise StepError(f"Step name {action['name']} is already used")
    new = _stamp(copy.deepcopy(action))
    for inner in iter_steps(new):
        if inner is not new and inner["name"] in step_names(trigger):
            raise StepError(f"Step name {inner['name']} is already used")
    if new.get("type") == "ROUTER":
        normalize_router(new)
    _insert(parent, location, branch_index, new)


def _insert(parent: Step, location: str, branch_index: int | None, chain: Step) -> None:
    """Put `chain` (a step, and whatever follows it) at a location under `parent`; what was there
    follows the end of the chain."""
    last = chain
    while last.get("nextAction"):
        last = last["nextAction"]
    if location == "AFTER":
        last["nextAction"] = parent.get("nextAction")
        parent["nextAction"] = chain
    elif location == "INSIDE_LOOP":
        if parent.get("type") != "LOOP_ON_ITEMS":
            raise StepError(f"Step {parent['name']} is not a loop")
        last["nextAction"] = parent.get("firstLoopAction")
        parent["firstLoopAction"] = chain
    elif location == "INSIDE_BRANCH":
        if parent.get("type") != "ROUTER":
            raise StepError(f"Step {parent['name']} is not a router")
        children = parent.get("children") or []
        if branch_index is None or not 0 <= branch_index < len(children):
            raise StepError(f"Branch {branch_index} does not exist in step {parent['name']}")
        last["nextAction"] = children[branch_index]
        children[branch_index] = chain
    else:
        raise StepError(f"Unknown step location {location}")


def update_action(trigger: Step, action: Step) -> None:
    current = find_step(trigger, action["name"])
    if current is trigger:
        raise StepError("The trigger is changed with UPDATE_TRIGGER")
    kept = {k: current.get(k) for k in ("nextAction", "firstLoopAction", "children") if k in current}
    same_type = current.get("type") == action.get("type")
    current.clear()
    current.update(copy.deepcopy(action))
    current["nextAction"] = kept.get("nextAction")
    # The inner chains survive only while the step keeps its type.
    if same_type and action.get("type") == "LOOP_ON_ITEMS":
        current["firstLoopAction"] = kept.get("firstLoopAction")
    if action.get("type") == "ROUTER":
        if same_type:
            current["children"] = kept.get("children") or []
        normalize_router(current)
    _stamp(current)


def _detach(trigger: Step, name: str) -> Step:
    """Unhook the step named `name` from the tree (its inner chains go with it; what followed it
    takes its place) and return it, without its `nextAction`."""
    holder, key, index = _find_slot(trigger, name)
    step = _get(holder, key, index)
    assert step is not None
    _set(holder, key, index, step.get("nextAction"))
    step["nextAction"] = None
    return step


def delete_actions(trigger: Step, names: list[str]) -> None:
    for name in names:
        if name == trigger.get("name"):
            raise StepError("The trigger cannot be deleted")
        _detach(trigger, name)


def move_action(trigger: Step, name: str, new_parent: str, location: str, branch_index: int | None) -> None:
    if name == new_parent:
        raise StepError("A step cannot be moved under itself")
    moving = find_step(trigger, name)
    if any(inner.get("name") == new_parent for chain in _inner_chains(moving) for inner in iter_steps(chain)):
        raise StepError("A step cannot be moved inside itself")
    step = _detach(trigger, name)
    _insert(find_step(trigger, new_parent), location, branch_index, _stamp(step))


def _renamed_copy(trigger: Step, step: Step, *, with_next: bool) -> Step:
    duplicate = copy.deepcopy(step)
    if not with_next:
        duplicate["nextAction"] = None
    inner = list(iter_steps(duplicate))
    for target, new_name in zip(inner, unused_names(trigger, len(inner)), strict=True):
        target["name"] = new_name
        _stamp(target)
    return duplicate


def duplicate_action(trigger: Step, name: str) -> None:
    original = find_step(trigger, name)
    if original is trigger:
        raise StepError("The trigger cannot be duplicated")
    duplicate = _renamed_copy(trigger, original, with_next=False)
    duplicate["displayName"] = f"{original.get('displayName', '')} Copy".strip()
    duplicate["nextAction"] = original.get("nextAction")
    original["nextAction"] = duplicate


def set_skip(trigger: Step, names: list[str], skip: bool) -> None:
    for name in names:
        step = find_step(trigger, name)
        if step is trigger:
            raise StepError("The trigger cannot be skipped")
        step["skip"] = skip


def _router(trigger: Step, name: str) -> Step:
    step = find_step(trigger, name)
    if step.get("type") != "ROUTER":
        raise StepError(f"Step {name} is not a router")
    step.setdefault("settings", {}).setdefault("branches", [])
    normalize_router(step)
    return step


def _check_branch(router: Step, index: int, *, allow_end: bool = False) -> None:
    limit = len(router["settings"]["branches"]) + (1 if allow_end else 0)
    if not 0 <= index < limit:
        raise StepError(f"Branch {index} does not exist in step {router['name']}")


def add_branch(trigger: Step, name: str, index: int, branch_name: str, conditions: Any | None) -> None:
    router = _router(trigger, name)
    branches = router["settings"]["branches"]
    # Condition branches come before the fallback, which stays last.
    _check_branch(router, index, allow_end=True)
    if branches and branches[-1].get("branchType") == "FALLBACK" and index >= len(branches):
        raise StepError("A branch cannot be added after the fallback branch")
    branch = {"conditions": conditions if conditions is not None else [[]], "branchType": "CONDITION"}
    branch["branchName"] = branch_name
    branches.insert(index, branch)
    router["children"].insert(index, None)


def delete_branch(trigger: Step, name: str, index: int) -> None:
    router = _router(trigger, name)
    _check_branch(router, index)
    if router["settings"]["branches"][index].get("branchType") == "FALLBACK":
        raise StepError("The fallback branch cannot be deleted")
    del router["settings"]["branches"][index]
    del router["children"][index]


def duplicate_branch(trigger: Step, name: str, index: int) -> None:
    router = _router(trigger, name)
    _check_branch(router, index)
    branches = router["settings"]["branches"]
    if branches[index].get("branchType") == "FALLBACK":
        raise StepError("The fallback branch cannot be duplicated")
    branch = copy.deepcopy(branches[index])
    branch["branchName"] = f"{branch.get('branchName', '')} Copy".strip()
    child = router["children"][index]
    branches.insert(index + 1, branch)
    router["children"].insert(index + 1, _renamed_copy(trigger, child, with_next=True) if child else None)


def move_branch(trigger: Step, name: str, source: int, target: int) -> None:
    router = _router(trigger, name)
    _check_branch(router, source)
    _check_branch(router, target)
    branches = router["settings"]["branches"]
    if "FALLBACK" in (branches[source].get("branchType"), branches[target].get("branchType")):
        raise StepError("The fallback branch stays last")
    branches.insert(target, branches.pop(source))
    router["children"].insert(target, router["children"].pop(source))


def update_step_settings(trigger: Step, name: str, change: Callable[[dict[str, Any]], None]) -> None:
    step = find_step(trigger, name)
    change(step.setdefault("settings", {}))
