"""The step tree of a flow version, as stored (plain JSON): a trigger whose `nextAction` chain holds
actions; a LOOP_ON_ITEMS action holds a chain in `firstLoopAction`; a ROUTER holds one chain (or
null) per branch in `children`, beside `settings.branches`.

Pure functions that follow the real server's `flowOperations` (packages/shared .../operations):
what it ignores (an unknown name to delete or skip, a branch move onto the fallback) is ignored
here too; what it refuses, or what would break the tree (two steps of one name, a step moved
inside itself), is a `StepError`, which the service answers as FLOW_OPERATION_INVALID.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from typing import Any

from app.kit.clock import clock
from app.kit.serialization import copy_json, iso
from app.pieces.validation import published_step_is_valid

Step = dict[str, Any]

TRIGGER_TYPES = ("EMPTY", "PIECE_TRIGGER")
ACTION_TYPES = ("PIECE", "CODE", "LOOP_ON_ITEMS", "ROUTER")
TRIGGER_NAME = "trigger"
# The real `STEP_NAME_REGEX`: a step whose name does not match it does not parse, so it is not valid.
STEP_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
# `{{connections['a']}}`, and `{{connections['a','b']}}` for several: the real server's pattern
# (flowStructureUtil.extractConnectionIds), first reference of an `auth` value only.
_CONNECTION_REF = re.compile(r"\{\{connections\['([^']*(?:'\s*,\s*'[^']*)*)'\]\}\}")
_CONNECTION_SEPARATOR = re.compile(r"'\s*,\s*'")
# A piece version as the real schemas take it (`VersionType`), and the exact form the step logic stores.
_PIECE_VERSION = re.compile(r"^([~^])?[0-9]+\.[0-9]+\.[0-9]+$")
EMPTY_CONDITION = {"firstValue": "", "secondValue": "", "operator": "TEXT_CONTAINS", "caseSensitive": False}
_SINGLE_VALUE_OPERATORS = {
    "EXISTS", "DOES_NOT_EXIST", "BOOLEAN_IS_TRUE", "BOOLEAN_IS_FALSE", "LIST_IS_EMPTY", "LIST_IS_NOT_EMPTY",
}  # fmt: skip
_TWO_VALUE_OPERATORS = {
    "TEXT_CONTAINS", "TEXT_DOES_NOT_CONTAIN", "TEXT_EXACTLY_MATCHES", "TEXT_DOES_NOT_EXACTLY_MATCH",
    "TEXT_START_WITH", "TEXT_DOES_NOT_START_WITH", "TEXT_ENDS_WITH", "TEXT_DOES_NOT_END_WITH",
    "LIST_CONTAINS", "LIST_DOES_NOT_CONTAIN", "NUMBER_IS_GREATER_THAN", "NUMBER_IS_LESS_THAN",
    "NUMBER_IS_EQUAL_TO", "DATE_IS_BEFORE", "DATE_IS_EQUAL", "DATE_IS_AFTER",
}  # fmt: skip


class StepError(Exception):
    """An operation that does not fit the tree (unknown step, duplicate name, bad branch index)."""


def now_iso() -> str:
    return iso(clock.now()) or ""


# --- walking


def _inner_chains(step: Step) -> Iterator[Step]:
    if step.get("type") == "LOOP_ON_ITEMS" and step.get("firstLoopAction"):
        yield step["firstLoopAction"]
    if step.get("type") == "ROUTER":
        for child in step.get("children") or []:
            if child:
                yield child


def iter_steps(first: Step | None) -> Iterator[Step]:
    """Every step from `first` on, depth first, in the order the flow runs them. Without recursion:
    a flow's chains nest as deep as the flow is long (nested generators made each step cost the
    depth it sits at)."""
    pending: list[Step] = [first] if first else []
    while pending:
        step = pending.pop()
        yield step
        if step.get("nextAction"):
            pending.append(step["nextAction"])  # after every inner chain
        pending.extend(reversed(list(_inner_chains(step))))


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
        match = _CONNECTION_REF.search(auth) if isinstance(auth, str) else None
        if match and match.group(1):
            for external_id in _CONNECTION_SEPARATOR.split(match.group(1)):
                found[external_id.strip()] = None
    return list(found)


def replace_connection(trigger: Step, old_external_id: str, new_external_id: str) -> Step:
    """A copy of the tree whose steps use `new_external_id` where their `input.auth` named
    `{{connections['<old_external_id>']}}` (as the real server's connection replace rewrites it)."""
    tree = copy.deepcopy(trigger)
    old = re.compile(r"connections\['" + re.escape(old_external_id) + r"'\]")
    for step in iter_steps(tree):
        settings_input = (step.get("settings") or {}).get("input")
        auth = settings_input.get("auth") if isinstance(settings_input, dict) else None
        if isinstance(auth, str) and old_external_id in auth:
            settings_input["auth"] = old.sub(lambda _: f"connections['{new_external_id}']", auth)
    return tree


def exact_piece_version(step: Step) -> None:
    """A piece step stores the exact version a range names (`~0.1.5` becomes `0.1.5`), as the real
    step logic does (flowPieceUtil.getExactVersion)."""
    settings = step.get("settings")
    if step.get("type") in ("PIECE", "PIECE_TRIGGER") and isinstance(settings, dict):
        version = settings.get("pieceVersion")
        if isinstance(version, str) and version[:1] in ("~", "^"):
            settings["pieceVersion"] = version[1:]


def piece_names(trigger: Step) -> list[str]:
    """Pieces used by the trigger and the actions."""
    names: dict[str, None] = {}
    for step in iter_steps(trigger):
        if step.get("type") in ("PIECE", "PIECE_TRIGGER"):
            piece = (step.get("settings") or {}).get("pieceName")
            if isinstance(piece, str):
                names[piece] = None
    return list(names)


def version_is_valid(trigger: Step) -> bool:
    """Every step valid, a skipped action counting as valid (it will not run)."""
    return all(
        step.get("valid") is True or (step.get("type") in ACTION_TYPES and step.get("skip") is True)
        for step in iter_steps(trigger)
    )


def invalid_steps(trigger: Step) -> list[dict[str, str]]:
    """The steps that make a version invalid, each with what it misses: what publishing names (the
    real server says only that the version is not valid)."""
    return [
        {"name": str(step.get("name")), "type": str(step.get("type")), "reason": _why_invalid(step)}
        for step in iter_steps(trigger)
        if not (step.get("valid") is True or (step.get("type") in ACTION_TYPES and step.get("skip") is True))
    ]


def _why_invalid(step: Step) -> str:
    kind = step.get("type")
    settings = step.get("settings")
    if kind == "EMPTY":
        return "the trigger is EMPTY: set a trigger (UPDATE_TRIGGER) first"
    if not isinstance(settings, dict):
        return "it has no settings"
    missing: list[str] = []
    if kind in ("PIECE", "PIECE_TRIGGER"):
        name_key = "actionName" if kind == "PIECE" else "triggerName"
        missing = [key for key in ("pieceName", "pieceVersion", name_key) if not _filled(settings.get(key))]
        missing += ["input"] if settings.get("input") is None else []
    elif kind == "CODE":
        source = settings.get("sourceCode") if isinstance(settings.get("sourceCode"), dict) else {}
        missing = [f"sourceCode.{key}" for key in ("code", "packageJson") if not _filled(source.get(key))]
    elif kind == "LOOP_ON_ITEMS":
        missing = [] if _filled(settings.get("items")) else ["items"]
    elif kind == "ROUTER":
        if not _branches_parse(settings.get("branches"), _filled):
            missing.append("branches with every condition filled")
        if settings.get("executionType") not in ("EXECUTE_ALL_MATCH", "EXECUTE_FIRST_MATCH"):
            missing.append("executionType")
    if missing:
        return "settings miss " + ", ".join(missing)
    if not _parses(step):
        return "its settings do not match the step's schema"
    return "it is marked not valid (valid: false)"


def check_names(trigger: Step) -> None:
    seen: set[str] = set()
    for step in iter_steps(trigger):
        name = step.get("name")
        if name in seen:
            raise StepError(f"Step name {name} is used more than once")
        seen.add(name)


# --- a step's validity, as the real server decides it
#
# Two checks, both from the real server: the request's settings are judged first (for a step a
# client adds or updates; flow-version-validator-util.ts), or the step keeps the `valid` it brings
# (a step replayed by an import, a move or a duplicate); then the step must parse with the real
# step schema (the structural check of `flowOperations.apply`).


def _text(value: Any) -> bool:
    return isinstance(value, str)


def _filled(value: Any) -> bool:
    return isinstance(value, str) and value != ""


def _condition_parses(condition: Any, filled: Callable[[Any], bool]) -> bool:
    """One of the real condition shapes: two values with a two-value (or no) operator, or one value
    with a single-value (or no) operator."""
    if not isinstance(condition, dict) or not filled(condition.get("firstValue")):
        return False
    operator = condition.get("operator")
    if operator is None or operator in _SINGLE_VALUE_OPERATORS:
        return True
    return operator in _TWO_VALUE_OPERATORS and filled(condition.get("secondValue"))


def _branches_parse(branches: Any, filled: Callable[[Any], bool]) -> bool:
    if not isinstance(branches, list):
        return False
    for branch in branches:
        if not isinstance(branch, dict) or not _text(branch.get("branchName")):
            return False
        kind = branch.get("branchType")
        if kind == "CONDITION":
            groups = branch.get("conditions")
            if not isinstance(groups, list) or not all(
                isinstance(group, list) and all(_condition_parses(c, filled) for c in group) for group in groups
            ):
                return False
        elif kind != "FALLBACK":
            return False
    return True


def _optional(settings: dict[str, Any], key: str, check: Callable[[Any], bool]) -> bool:
    return key not in settings or settings[key] is None or check(settings[key])


def _sample_data_parses(value: Any) -> bool:
    return isinstance(value, dict) and all(
        value.get(key) is None or _text(value.get(key))
        for key in ("sampleDataFileId", "sampleDataInputFileId", "lastTestDate")
    )


def _property_settings_parse(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(entry, dict) and entry.get("type") in ("MANUAL", "DYNAMIC") for entry in value.values()
    )


def _settings_parse(kind: Any, settings: Any) -> bool:
    """The real settings schema of a step kind (unknown keys pass, as zod strips them)."""
    if kind == "EMPTY":
        return True
    if not isinstance(settings, dict):
        return False
    if not (_optional(settings, "sampleData", _sample_data_parses) and _optional(settings, "customLogoUrl", _text)):
        return False
    if kind in ("PIECE", "PIECE_TRIGGER"):
        name_key = "actionName" if kind == "PIECE" else "triggerName"
        version = settings.get("pieceVersion")
        return (
            _property_settings_parse(settings.get("propertySettings"))
            and _text(settings.get("pieceName"))
            and isinstance(version, str)
            and _PIECE_VERSION.match(version) is not None
            and _optional(settings, name_key, _text)
            and isinstance(settings.get("input"), dict)
        )
    if kind == "CODE":
        source = settings.get("sourceCode")
        return (
            isinstance(source, dict)
            and _text(source.get("code"))
            and _text(source.get("packageJson"))
            and isinstance(settings.get("input"), dict)
        )
    if kind == "LOOP_ON_ITEMS":
        return _text(settings.get("items"))
    if kind == "ROUTER":
        return _branches_parse(settings.get("branches"), _text) and settings.get("executionType") in (
            "EXECUTE_ALL_MATCH",
            "EXECUTE_FIRST_MATCH",
        )
    return False


def _parses(step: Step) -> bool:
    """The real single-step schema (SingleActionSchema, FlowTrigger) without inner chains."""
    return (
        isinstance(step.get("name"), str)
        and STEP_NAME.match(step["name"]) is not None
        and _text(step.get("displayName"))
        and _optional(step, "skip", lambda skip: isinstance(skip, bool))
        and _settings_parse(step.get("type"), step.get("settings"))
    )


def settings_are_valid(step: Step) -> bool:
    """What the real server decides for a step a client adds or updates, before the schema check:
    loops need `items`, code its `code` and `packageJson`, a router filled conditions; an EMPTY trigger
    never is. A piece step needs `pieceName`, `pieceVersion`, `actionName`/`triggerName` and `input`;
    when the piece version is one of the catalogue's, its input must also satisfy the step's
    properties (required ones set, the connection when the piece has auth), as the real server judges
    it; a step the piece does not have is not valid. Other pieces keep the first rule."""
    kind = step.get("type")
    settings = step.get("settings")
    if kind == "EMPTY" or not isinstance(settings, dict):
        return False
    if kind in ("PIECE", "PIECE_TRIGGER"):
        name_key = "actionName" if kind == "PIECE" else "triggerName"
        named = (
            _filled(settings.get("pieceName"))
            and _filled(settings.get("pieceVersion"))
            and _filled(settings.get(name_key))
            and settings.get("input") is not None
        )
        if not named or not isinstance(settings.get("input"), dict):
            return bool(named)
        # A published piece: its step's properties decide (app/pieces/validation.py).
        judged = published_step_is_valid(
            settings["pieceName"],
            settings["pieceVersion"],
            "actions" if kind == "PIECE" else "triggers",
            settings[name_key],
            settings["input"],
        )
        return True if judged is None else judged
    if kind == "CODE":
        source = settings.get("sourceCode") or {}
        return isinstance(source, dict) and _filled(source.get("code")) and _filled(source.get("packageJson"))
    if kind == "LOOP_ON_ITEMS":
        return _filled(settings.get("items"))
    if kind == "ROUTER":
        return _branches_parse(settings.get("branches"), _filled) and settings.get("executionType") in (
            "EXECUTE_ALL_MATCH",
            "EXECUTE_FIRST_MATCH",
        )
    return False


def _judge(step: Step, request: Step, *, from_client: bool) -> None:
    """`valid` of a built step: judged from its settings when a client sends it, the flag it brings
    otherwise (replayed steps); in both cases only if it parses."""
    judged = settings_are_valid(step) if from_client else request.get("valid") is not False
    step["valid"] = bool(judged) and _parses(step)


# --- building steps


def empty_trigger() -> Step:
    return {
        "name": TRIGGER_NAME,
        "valid": False,
        "displayName": "Select Trigger",
        "type": "EMPTY",
        "settings": {},
        "lastUpdatedDate": now_iso(),
    }


def _new_action(request: Step, next_action: Step | None, *, from_client: bool) -> Step:
    """A step made from an action request: only the keys a step has (inner chains are not taken: a
    router starts with empty branches, a loop with an empty body), as on the real server."""
    action: Step = {
        "name": request["name"],
        "displayName": request.get("displayName"),
        "type": request["type"],
        "settings": copy_json(request.get("settings") or {}),
        "lastUpdatedDate": now_iso(),
        "nextAction": next_action,
    }
    if request.get("skip") is not None:
        action["skip"] = request["skip"]
    if action["type"] == "ROUTER":
        branches = action["settings"].get("branches")
        action["children"] = [None] * (len(branches) if isinstance(branches, list) else 0)
    exact_piece_version(action)
    _judge(action, request, from_client=from_client)
    return action


def _strip(step: Step) -> Step:
    """The step alone: no successor, no inner chains."""
    alone = {k: v for k, v in step.items() if k not in ("nextAction", "firstLoopAction", "children")}
    return alone


# --- operations on the tree


def update_trigger(trigger: Step, request: Step, *, from_client: bool = True) -> Step:
    """The trigger rebuilt from the request; a piece trigger keeps the sample data of the one it replaces."""
    if request.get("name") != trigger.get("name"):
        raise StepError(f"Step {request.get('name')} not found")
    kept_sample = (trigger.get("settings") or {}).get("sampleData") if trigger.get("type") == "PIECE_TRIGGER" else None
    settings = copy.deepcopy(request.get("settings") or {})
    if request.get("type") == "PIECE_TRIGGER":
        settings.pop("sampleData", None)
        if kept_sample is not None:
            settings["sampleData"] = kept_sample
    new: Step = {
        "name": request["name"],
        "displayName": request.get("displayName"),
        "type": request["type"],
        "settings": settings,
        "lastUpdatedDate": now_iso(),
        "nextAction": trigger.get("nextAction"),
    }
    exact_piece_version(new)
    _judge(new, request, from_client=from_client)
    return new


def add_action(
    trigger: Step,
    parent_name: str,
    location: str | None,
    branch_index: int | None,
    action: Step,
    *,
    from_client: bool = True,
) -> None:
    parent = find_step(trigger, parent_name)
    _add_under(set(step_names(trigger)), parent, location, branch_index, action, from_client=from_client)


def _add_under(
    taken: set[str], parent: Step, location: str | None, branch_index: int | None, action: Step, *, from_client: bool
) -> Step:
    """add_action with the parent found and the tree's names known (`taken`, to which the new
    step's name is added); returns the new step."""
    if action["name"] in taken:
        raise StepError(f"Step name {action['name']} is already used")
    kind = parent.get("type")
    if kind == "LOOP_ON_ITEMS" and location == "INSIDE_LOOP":
        added = parent["firstLoopAction"] = _new_action(action, parent.get("firstLoopAction"), from_client=from_client)
    elif kind == "ROUTER" and location == "INSIDE_BRANCH" and branch_index is not None:
        children = parent.setdefault("children", [])
        if not 0 <= branch_index < len(children):
            raise StepError(f"Branch {branch_index} not found in step {parent['name']}")
        added = children[branch_index] = _new_action(action, children[branch_index], from_client=from_client)
    elif kind in ("LOOP_ON_ITEMS", "ROUTER") and location != "AFTER":
        label = "Loop" if kind == "LOOP_ON_ITEMS" else "Router"
        raise StepError(f"{label} step parent {location or 'undefined'} not found")
    else:
        # After a trigger, piece or code step the location is not looked at.
        added = parent["nextAction"] = _new_action(action, parent.get("nextAction"), from_client=from_client)
    taken.add(action["name"])
    return added


def add_subtree(trigger: Step, parent_name: str, location: str | None, branch_index: int | None, subtree: Step) -> None:
    """Add a step with its successors and inner chains (import, move, duplicate), one step at a
    time; each keeps the `valid` it has."""
    parent = find_step(trigger, parent_name)
    taken = set(step_names(trigger))
    added = _add_under(taken, parent, location, branch_index, _strip(subtree), from_client=False)
    _add_inner(taken, subtree, added)


def _add_inner(taken: set[str], step: Step, target: Step) -> None:
    """Replay what follows and nests in `step` (already added as `target`), in the order the real
    server replays it: a step's successor, then each inner chain in full, then the successor's own.
    Each step is added under the step just made for its parent (no search by name), and the names
    in use are kept in `taken`: the cost grows with the steps replayed, not with their square.
    Without recursion: chains nest as deep as the flow is long."""
    # ("chain", source, target): from a step on; ("inner", parent's target, location, index, head).
    pending: list[tuple[Any, ...]] = [("chain", step, target)]
    while pending:
        work = pending.pop()
        if work[0] == "inner":
            _, parent, location, index, head = work
            added = _add_under(taken, parent, location, index, _strip(head), from_client=False)
            pending.append(("chain", head, added))
            continue
        _, current, made = work
        following = current.get("nextAction")
        if following:
            made_next = _add_under(taken, made, "AFTER", None, _strip(following), from_client=False)
            # The successor's chain goes on after every inner chain: it is pushed first.
            pending.append(("chain", following, made_next))
        inner: list[tuple[Any, ...]] = []
        if current.get("type") == "LOOP_ON_ITEMS" and current.get("firstLoopAction"):
            inner.append(("inner", made, "INSIDE_LOOP", None, current["firstLoopAction"]))
        if current.get("type") == "ROUTER":
            for index, child in enumerate(current.get("children") or []):
                if child:
                    inner.append(("inner", made, "INSIDE_BRANCH", index, child))
        pending.extend(reversed(inner))


def import_trigger(current: Step, request: Step) -> Step:
    """A whole imported tree replacing `current`: the trigger (keeping the current piece trigger's
    sample data), then every action added as the real server replays it, each keeping its `valid`."""
    trigger = update_trigger({**current, "nextAction": None}, {**request, "nextAction": None}, from_client=False)
    trigger["nextAction"] = None
    _add_inner(set(step_names(trigger)), request, trigger)
    return trigger


def update_action(trigger: Step, request: Step) -> None:
    """Rebuild the named action from the request. Its type may change: a loop keeps its body and a
    router its branches only while they stay a loop and a router; sample data stays while the type does."""
    name = request["name"]
    if name == trigger.get("name"):
        raise StepError("The trigger is changed with UPDATE_TRIGGER")
    try:
        current = find_step(trigger, name)
    except StepError:
        return  # the real server updates nothing and answers 200
    kind = request["type"]
    old_kind = current.get("type")
    settings = copy.deepcopy(request.get("settings") or {})
    settings.pop("sampleData", None)
    old_sample = (current.get("settings") or {}).get("sampleData")
    if old_kind == kind and old_sample is not None:
        settings["sampleData"] = old_sample
    rebuilt: Step = {
        "name": name,
        "displayName": request.get("displayName"),
        "type": kind,
        "settings": settings,
        "lastUpdatedDate": now_iso(),
        "nextAction": current.get("nextAction"),
    }
    if request.get("skip") is not None:
        rebuilt["skip"] = request["skip"]
    if kind == "LOOP_ON_ITEMS" and old_kind == "LOOP_ON_ITEMS":
        rebuilt["firstLoopAction"] = current.get("firstLoopAction")
    if kind == "ROUTER":
        rebuilt["children"] = current.get("children") if old_kind == "ROUTER" else [None, None]
    exact_piece_version(rebuilt)
    _judge(rebuilt, request, from_client=True)
    current.clear()
    current.update(rebuilt)


def _detach(trigger: Step, name: str) -> Step | None:
    """Unhook the step named `name` (its inner chains go with it; what followed it takes its place)
    and return it without its `nextAction`; None when no action has that name."""
    try:
        holder, key, index = _find_slot(trigger, name)
    except StepError:
        return None
    step = _get(holder, key, index)
    assert step is not None
    _set(holder, key, index, step.get("nextAction"))
    step["nextAction"] = None
    return step


def delete_actions(trigger: Step, names: list[str]) -> None:
    slots = _slots(trigger)
    if slots is None:  # two steps of one name: each name is looked for in the tree as it is then
        for name in names:
            _detach(trigger, name)
        return
    for name in names:
        slot = slots.pop(name, None)
        if slot is None:
            continue  # unknown names (and the trigger) are passed over, as on the real server
        step = _get(*slot)
        assert step is not None
        following = step.get("nextAction")
        _set(*slot, following)
        step["nextAction"] = None
        if following:
            slots[following["name"]] = slot
        for inner in iter_steps(step):  # what nests in it goes with it
            slots.pop(inner["name"], None)


def _slots(trigger: Step) -> dict[str, tuple[Step, str, int | None]] | None:
    """Where each action hangs (as _find_slot finds it), in one walk; None when a name is used twice."""
    slots: dict[str, tuple[Step, str, int | None]] = {}
    count = 0
    for holder in iter_steps(trigger):
        count += 1
        nxt = holder.get("nextAction")
        if nxt:
            slots[nxt.get("name")] = (holder, "nextAction", None)
        if holder.get("type") == "LOOP_ON_ITEMS":
            first = holder.get("firstLoopAction")
            if first:
                slots[first.get("name")] = (holder, "firstLoopAction", None)
        if holder.get("type") == "ROUTER":
            for index, child in enumerate(holder.get("children") or []):
                if child:
                    slots[child.get("name")] = (holder, "children", index)
    if len(slots) != count - 1 or trigger.get("name") in slots:
        return None
    return slots


def move_action(trigger: Step, name: str, new_parent: str, location: str | None, branch_index: int | None) -> None:
    moving = find_step(trigger, name)
    if moving is trigger:
        raise StepError(f"Action {name} not found")
    find_step(trigger, new_parent)
    if new_parent in [inner["name"] for inner in iter_steps({**moving, "nextAction": None})]:
        raise StepError("A step cannot be moved inside itself")
    step = _detach(trigger, name)
    assert step is not None
    # No location is no location: under a loop or a router that is refused, as on the real server.
    add_subtree(trigger, new_parent, location, branch_index, step)


def _clone_with_new_names(trigger: Step, first: Step) -> Step:
    """A copy of a chain whose steps get unused `step_N` names and " Copy" display names;
    references between the copied steps (in `{{...}}` of their input) follow the new names, and
    sample data is dropped."""
    clone = copy_json(first)
    steps = list(iter_steps(clone))
    renames = dict(zip([s["name"] for s in steps], unused_names(trigger, len(steps)), strict=True))
    rename = _renamer(renames)
    for step in steps:
        step["name"] = renames[step["name"]]
        step["displayName"] = f"{step.get('displayName') or ''} Copy"
        settings = step.get("settings") or {}
        if "input" in settings:
            settings["input"] = _rename_references(settings["input"], rename)
        if settings.get("sampleData"):
            settings["sampleData"] = {}
    return clone


def _rename_references(value: Any, rename: Callable[[str], str]) -> Any:
    """`value` with `rename` applied to every string in it (new lists and objects), without
    recursion: an input may nest as deep as its step's settings may."""
    root: list[Any] = [value]
    pending: list[tuple[Any, Any]] = [(root, 0)]
    while pending:
        holder, key = pending.pop()
        item = holder[key]
        if isinstance(item, str):
            holder[key] = rename(item)
        elif isinstance(item, list):
            holder[key] = copied = list(item)
            pending.extend((copied, index) for index in range(len(copied)))
        elif isinstance(item, dict):
            holder[key] = copied = dict(item)
            pending.extend((copied, name) for name in copied)
    return root[0]


# A reference's words: a step name of word characters is renamed where it is a whole word.
_WORD = re.compile(r"\w+")
# `.` stops at line ends, as in the real server's /{{(.*?)}}/g.
_EXPRESSION = re.compile(r"\{\{.*?\}\}")


def _renamer(renames: dict[str, str]) -> Callable[[str], str]:
    """What renaming does to one text: in each `{{...}}`, every old name that is a whole word becomes
    its new name, one name after another."""
    if all(_WORD.fullmatch(old) for old in renames) and not any(new in renames for new in renames.values()):
        # One pass, each word looked up: the same result (a whole word of word characters is a whole
        # run of them, and no new name is an old one), at a cost that does not grow with the names.
        def word(match: re.Match[str]) -> str:
            return renames.get(match.group(0), match.group(0))

        def inside(match: re.Match[str]) -> str:
            return _WORD.sub(word, match.group(0))
    else:

        def inside(match: re.Match[str]) -> str:
            expression = match.group(0)
            for old, new in renames.items():
                expression = re.sub(rf"\b{re.escape(old)}\b", new, expression)
            return expression

    def rename(text: str) -> str:
        return _EXPRESSION.sub(inside, text) if "{{" in text else text

    return rename


def duplicate_action(trigger: Step, name: str) -> None:
    original = find_step(trigger, name)
    if original is trigger:
        raise StepError(f"Action {name} not found")
    clone = _clone_with_new_names(trigger, {**original, "nextAction": None})
    add_subtree(trigger, name, "AFTER", None, clone)


def set_skip(trigger: Step, names: list[str], skip: bool) -> None:
    wanted = set(names)
    for step in iter_steps(trigger):
        if step.get("name") in wanted:
            step["skip"] = skip


def _router(trigger: Step, name: str) -> Step | None:
    """The named router; None when there is no such router (branch operations then change nothing,
    as on the real server). Its branch list and children are used as they are, even when their
    lengths differ (as a router whose type was just changed from another kind has them)."""
    try:
        step = find_step(trigger, name)
    except StepError:
        return None
    if step.get("type") != "ROUTER":
        return None
    settings = step.setdefault("settings", {})
    if not isinstance(settings.get("branches"), list):
        settings["branches"] = []
    if not isinstance(step.get("children"), list):
        step["children"] = []
    return step


def add_branch(trigger: Step, name: str, index: int, branch_name: str, conditions: Any | None) -> None:
    router = _router(trigger, name)
    if router is None:
        return
    branch = {
        "conditions": conditions if conditions is not None else [[dict(EMPTY_CONDITION)]],
        "branchType": "CONDITION",
        "branchName": branch_name,
    }
    router["settings"]["branches"].insert(index, branch)
    router["children"].insert(index, None)


def delete_branch(trigger: Step, name: str, index: int) -> None:
    router = _router(trigger, name)
    if router is None:
        return
    router["settings"]["branches"] = [b for i, b in enumerate(router["settings"]["branches"]) if i != index]
    router["children"] = [c for i, c in enumerate(router["children"]) if i != index]


def duplicate_branch(trigger: Step, name: str, index: int) -> None:
    router = _router(trigger, name)
    if router is None or index >= len(router["settings"]["branches"]):
        return
    source = router["settings"]["branches"][index]
    # The conditions are copied as they are: the real server renames references only in inputs.
    conditions = copy.deepcopy(source.get("conditions")) if source.get("branchType") == "CONDITION" else None
    child = router["children"][index] if index < len(router["children"]) else None
    clone = _clone_with_new_names(trigger, child) if child else None
    add_branch(trigger, name, index + 1, f"{source.get('branchName') or ''} Copy", conditions)
    if clone is not None:
        add_subtree(trigger, name, "INSIDE_BRANCH", index + 1, clone)


def move_branch(trigger: Step, name: str, source: int, target: int) -> None:
    router = _router(trigger, name)
    if router is None:
        return
    branches = router["settings"]["branches"]
    size = len(branches)
    if source >= size or target >= size or source == target:
        return
    if "FALLBACK" in (branches[source].get("branchType"), branches[target].get("branchType")):
        return
    branches.insert(target, branches.pop(source))
    children = router["children"]
    moving = children.pop(source) if source < len(children) else None
    children.insert(target, moving)


def set_sample_data(
    trigger: Step,
    name: str,
    change: Callable[[dict[str, Any] | None], dict[str, Any] | None],
    *,
    missing_ok: bool = False,
) -> None:
    """Change a step's `settings.sampleData`; an unknown step is an error unless `missing_ok`."""
    try:
        step = find_step(trigger, name)
    except StepError:
        if missing_ok:
            return
        raise
    settings = step.setdefault("settings", {})
    updated = change(settings.get("sampleData"))
    if updated is None:
        settings.pop("sampleData", None)
    else:
        settings["sampleData"] = updated
