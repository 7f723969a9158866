"""Flow rules: versions (the newest is the one you edit; a LOCKED one is copied to a new DRAFT
first), publishing, status, folders and the project's piece filter. One transaction per call, and
the flow row is locked for every operation, so concurrent operations on one flow take turns."""

from __future__ import annotations

import asyncio
import functools
import re
from typing import Any

from app.edge.auth import Principal
from app.edge.limits import (
    MAX_FLOW_STEPS,
    MAX_FLOW_TREE_DEPTH,
    MAX_FLOW_VERSION_BYTES,
    JsonProblem,
    check_json,
    json_size,
)
from app.flows import migrations, steps
from app.flows.repository import (
    FlowExternalIdTaken,
    FlowRepository,
    fetch_flow_page,
    fetch_populated_flow,
    fetch_project_in_platform,
)
from app.flows.schemas import (
    CreateFlowRequest,
    ImportFlowRequest,
    LockAndPublishRequest,
    populated_flow_body,
    step_json,
    version_metadata_body,
)
from app.flows.triggers import trigger_source
from app.kit.db import Database
from app.kit.errors import (
    EntityNotFound,
    FlowExternalIdAlreadyExists,
    FlowNotFound,
    FlowOfAnotherPlatform,
    FlowOperationInvalid,
    FolderNotFound,
    PieceNotFound,
    ProjectNotFound,
    ProjectOfAnotherPlatform,
)
from app.kit.ids import new_id
from app.kit.pagination import decode_cursor
from app.kit.serialization import copy_json

# New versions are written in the newest real flow schema version this server knows (their shape is
# @activepieces/shared 0.96.2's: the versions since change only piece versions and inputs); imported
# flows of older versions are brought up to it (app/flows/migrations.py).
LATEST_FLOW_SCHEMA_VERSION = migrations.LATEST_FLOW_SCHEMA_VERSION


def first_draft(flow_id: str, display_name: str) -> dict[str, Any]:
    """The version row a new flow starts with: an empty trigger, DRAFT, at the latest schema."""
    return {
        "id": new_id(),
        "flow_id": flow_id,
        "display_name": display_name,
        "trigger": steps.empty_trigger(),
        "valid": False,
        "state": "DRAFT",
        "connection_ids": [],
        "agent_ids": [],
        "notes": [],
        "updated_by": None,
        "schema_version": LATEST_FLOW_SCHEMA_VERSION,
        "backup_files": None,
    }


# Operations on the flow row; every other one edits the newest version's content.
FLOW_LEVEL_OPERATIONS = {
    "LOCK_AND_PUBLISH",
    "CHANGE_STATUS",
    "CHANGE_FOLDER",
    "UPDATE_METADATA",
    "UPDATE_MINUTES_SAVED",
    "UPDATE_OWNER",
}
# Notes are written on the newest version whatever its state (no draft is made for them).
NOTE_OPERATIONS = {"ADD_NOTE", "UPDATE_NOTE", "DELETE_NOTE"}
# The operations whose steps are checked against the project's piece filter (the real server
# checks the step a request brings, not the steps a duplicate or a move replays).
PIECE_CHECKED_OPERATIONS = {"ADD_ACTION", "UPDATE_ACTION", "UPDATE_TRIGGER", "IMPORT_FLOW", "USE_AS_DRAFT"}


def flow_not_found(flow_id: str) -> EntityNotFound:
    return FlowNotFound(flow_id)


async def missing_project(flows: FlowRepository, project_id: str, principal: Principal) -> ProjectNotFound:
    """A project the caller named (in the query or the body) that its platform does not have."""
    if await flows.project_exists_on_any_platform(project_id):
        return ProjectOfAnotherPlatform(project_id, principal.platform_id)
    return ProjectNotFound(project_id)


async def _missing(flows: FlowRepository, flow_id: str, principal: Principal) -> EntityNotFound:
    """The error for a flow the caller's platform does not have: another platform's flow is a typed
    case of its own (the documented answer is 404 for both; the real server's is not)."""
    if await flows.exists_on_any_platform(flow_id):
        return FlowOfAnotherPlatform(flow_id, principal.platform_id)
    return FlowNotFound(flow_id)


def folder_not_found(folder_id: str) -> EntityNotFound:
    return FolderNotFound(folder_id)


def version_not_found(flow_id: str, version_id: str) -> EntityNotFound:
    return EntityNotFound("FlowVersion", version_id, f"flowId={flow_id}")


class FlowService:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- reads

    async def get(self, principal: Principal, flow_id: str, version_id: str | None) -> dict[str, Any]:
        if version_id is None:
            async with self.db.fast_read() as fast:
                record = await fetch_populated_flow(fast, principal.platform_id, flow_id)
            if record is None:
                async with self.db.fast_read() as conn:
                    raise await _missing(FlowRepository(conn), flow_id, principal)
            return populated_flow_body(record)
        async with self.db.fast_read() as conn:
            flows = FlowRepository(conn)
            row = await flows.get_populated(principal.platform_id, flow_id, version_id)
            if row is None:
                if await flows.get_populated(principal.platform_id, flow_id) is not None:
                    raise version_not_found(flow_id, version_id)
                raise await _missing(flows, flow_id, principal)
        return populated_flow_body(row)

    async def list_versions(
        self, principal: Principal, flow_id: str, *, limit: int, cursor: str | None
    ) -> dict[str, Any]:
        """The flow's versions, newest first, without their step trees (the real server's
        FlowVersionMetadata; an API key is no user, so `updatedByUser` is null)."""
        position = decode_cursor(cursor)
        async with self.db.fast_read() as conn:
            flows = FlowRepository(conn)
            if not await flows.in_platform(principal.platform_id, flow_id):
                raise await _missing(flows, flow_id, principal)
            page = await flows.versions_page(flow_id, limit=limit, cursor=position)
        return page.to_body(version_metadata_body)

    async def template(self, principal: Principal, flow_id: str) -> dict[str, Any]:
        """The flow's newest version as a shareable template: no connection names, no sample data."""
        flow = await self.get(principal, flow_id, None)
        version = flow["version"]
        version["trigger"] = _template_step(version["trigger"])
        return {
            "name": version["displayName"],
            "summary": "",
            "description": "",
            "pieces": steps.piece_names(version["trigger"]),
            "flows": [version],
            "tags": [],
            "blogUrl": "",
            "metadata": {"externalId": flow["externalId"]},
            "author": "",
            "categories": [],
            "type": "SHARED",
            "status": "PUBLISHED",
        }

    async def list(
        self,
        principal: Principal,
        *,
        project_id: str,
        limit: int,
        cursor: str | None,
        folder_id: str | None,
        statuses: list[str] | None,
        name: str | None,
        external_ids: list[str] | None,
        connection_external_ids: list[str] | None,
        version_state: str | None,
        folder_ids: list[str] | None = None,
    ) -> dict[str, Any]:
        position = decode_cursor(cursor)
        async with self.db.fast_read() as conn:
            if not await fetch_project_in_platform(conn, principal.platform_id, project_id):
                raise await missing_project(FlowRepository(conn), project_id, principal)
            page = await fetch_flow_page(
                conn,
                project_id,
                limit=limit,
                cursor=position,
                folder_id=folder_id,
                statuses=statuses,
                name=name,
                external_ids=external_ids,
                connection_external_ids=connection_external_ids,
                version_state=version_state,
                folder_ids=folder_ids,
            )
        return page.to_body(populated_flow_body)

    async def count(self, principal: Principal, project_id: str, folder_id: str | None) -> int:
        async with self.db.fast_read() as conn:
            flows = FlowRepository(conn)
            if not await flows.project_in_platform(principal.platform_id, project_id, lock=False):
                raise await missing_project(flows, project_id, principal)
            return await flows.count(project_id, folder_id)

    # --- writes

    async def create(self, principal: Principal, request: CreateFlowRequest) -> dict[str, Any]:
        flow_id = new_id()
        async with self.db.fast_transaction() as conn:
            flows = FlowRepository(conn)
            if not await flows.project_in_platform(principal.platform_id, request.projectId, lock=True):
                raise await missing_project(flows, request.projectId, principal)
            folder_id = await self._resolve_folder(flows, request.projectId, request.folderId, request.folderName)
            try:
                await flows.insert_flow(
                    {
                        "id": flow_id,
                        "project_id": request.projectId,
                        "external_id": request.externalId or flow_id,
                        "status": "DISABLED",
                        "operation_status": "NONE",
                        # An API key is no user: the real server leaves the owner empty.
                        "owner_id": None,
                        "folder_id": folder_id,
                        "metadata": request.metadata,
                        "template_id": request.templateId,
                    }
                )
            except FlowExternalIdTaken:
                raise FlowExternalIdAlreadyExists(request.externalId or "") from None
            await flows.insert_version(first_draft(flow_id, request.displayName))
            row = await flows.get_populated(principal.platform_id, flow_id)
        assert row is not None
        return populated_flow_body(row)

    async def delete(self, principal: Principal, flow_id: str) -> None:
        async with self.db.fast_transaction() as conn:
            flows = FlowRepository(conn)
            if await flows.lock(principal.platform_id, flow_id) is None:
                raise await _missing(flows, flow_id, principal)
            await flows.delete_flow(flow_id)  # versions go by ON DELETE CASCADE

    async def apply(self, principal: Principal, flow_id: str, operation: Any) -> dict[str, Any]:
        async with self.db.fast_transaction() as conn:
            flows = FlowRepository(conn)
            flow = await flows.lock(principal.platform_id, flow_id)
            if flow is None:
                raise await _missing(flows, flow_id, principal)
            if operation.type in FLOW_LEVEL_OPERATIONS:
                await self._apply_to_flow(flows, principal, flow, operation.type, operation.request)
            else:
                await self._apply_to_draft(flows, principal, flow, operation.type, operation.request)
            row = await flows.get_populated(principal.platform_id, flow_id)
        assert row is not None
        return populated_flow_body(row)

    async def repoint_connection(
        self,
        conn: Any,
        principal: Principal,
        project_id: str,
        old_external_id: str,
        new_external_id: str,
        *,
        apply_to_published: bool,
    ) -> list[str]:
        """Move the project's flows that use a connection to another, in the caller's transaction, as
        the real replace does: with `apply_to_published` the published version is rewritten and
        republished first; then the draft (a new one over a published version) is rewritten.
        Returns the flows that still use the old connection afterwards."""
        flows = FlowRepository(conn)
        for flow_id in await flows.flows_using_connection(project_id, old_external_id):
            flow = await flows.lock(principal.platform_id, flow_id)
            if flow is None:  # deleted meanwhile
                continue
            if apply_to_published and flow["published_version_id"] is not None:
                published = await flows.latest_locked_version(flow_id)
                if published is not None:
                    await self._import(flows, principal, flow, published, old_external_id, new_external_id)
                    await self._apply_to_flow(flows, principal, flow, "LOCK_AND_PUBLISH", LockAndPublishRequest())
                    flow = await flows.lock(principal.platform_id, flow_id)
            latest = await self._latest(flows, flow_id)
            if old_external_id in latest["connection_ids"]:
                await self._import(flows, principal, flow, latest, old_external_id, new_external_id)
        return await flows.flows_using_connection(project_id, old_external_id)

    async def published_using_connection(
        self, conn: Any, project_id: str, external_id: str, *, out_of_reach: bool
    ) -> int:
        return await FlowRepository(conn).published_using_connection(project_id, external_id, out_of_reach=out_of_reach)

    async def _import(
        self, flows: FlowRepository, principal: Principal, flow: Any, version: Any, old: str, new: str
    ) -> None:
        request = ImportFlowRequest.model_validate(
            {
                "displayName": version["display_name"],
                "trigger": steps.replace_connection(version["trigger"], old, new),
                "schemaVersion": version["schema_version"],
                "notes": version["notes"],
            }
        )
        await self._apply_to_draft(flows, principal, flow, "IMPORT_FLOW", request)

    # --- flow-level operations

    async def _apply_to_flow(
        self, flows: FlowRepository, principal: Principal, flow: Any, kind: str, request: Any
    ) -> None:
        flow_id = flow["id"]
        if kind == "CHANGE_FOLDER":
            folder_id = request.folderId
            if folder_id is not None and not await flows.folder_in_project(flow["project_id"], folder_id):
                raise folder_not_found(folder_id)
            await flows.update_flow(flow_id, {"folder_id": folder_id})
        elif kind == "UPDATE_METADATA":
            await flows.update_flow(flow_id, {"metadata": request.metadata})
        elif kind == "UPDATE_MINUTES_SAVED":
            await flows.update_flow(flow_id, {"time_saved_per_run": request.timeSavedPerRun})
        elif kind == "UPDATE_OWNER":
            if not await flows.user_in_platform(principal.platform_id, request.ownerId):
                raise EntityNotFound("user", request.ownerId, "User not found")
            await flows.update_flow(flow_id, {"owner_id": request.ownerId})
        elif kind == "CHANGE_STATUS":
            await self._change_status(flows, flow, request.status.value)
        elif kind == "LOCK_AND_PUBLISH":
            latest = await self._latest(flows, flow_id)
            if not latest["valid"]:
                # The real message, and which steps are why (a documented addition of this server).
                raise FlowOperationInvalid(
                    "Flow version is not valid", invalidSteps=steps.invalid_steps(latest["trigger"])
                )
            await self._assert_pieces_allowed(flows, flow["project_id"], latest["trigger"])
            if latest["state"] != "LOCKED":
                await flows.update_version(latest["id"], {"state": "LOCKED"})
            # Publishing (re-)enables the flow on its new version unless told otherwise.
            status = request.status.value if request.status is not None else "ENABLED"
            await flows.update_flow(
                flow_id, {"published_version_id": latest["id"], **_status_values(status, latest["trigger"])}
            )

    async def _change_status(self, flows: FlowRepository, flow: Any, status: str) -> None:
        if status == flow["status"]:
            return  # the real server answers with the flow unchanged
        trigger: dict[str, Any] = {}
        if status == "ENABLED":
            published_id = flow["published_version_id"]
            if published_id is None:
                raise FlowOperationInvalid("Flow has no published version")
            published = await flows.version(flow["id"], published_id)
            trigger = published["trigger"] if published is not None else {}
        await flows.update_flow(flow["id"], _status_values(status, trigger))

    # --- version-level operations

    async def _apply_to_draft(
        self, flows: FlowRepository, principal: Principal, flow: Any, kind: str, request: Any
    ) -> None:
        flow_id = flow["id"]
        latest = await self._latest(flows, flow_id)
        if kind == "USE_AS_DRAFT":
            # The chosen version is imported into the draft.
            chosen = await flows.version(flow_id, request.versionId)
            if chosen is None:
                raise version_not_found(flow_id, request.versionId)
            kind, request = (
                "IMPORT_FLOW",
                await asyncio.to_thread(
                    ImportFlowRequest.model_validate,
                    {
                        "displayName": chosen["display_name"],
                        "trigger": chosen["trigger"],
                        "schemaVersion": chosen["schema_version"],
                        "notes": chosen["notes"],
                    },
                ),
            )
        values: dict[str, Any] = {}
        notes: list[dict[str, Any]] = list(latest["notes"] or [])
        edit = functools.partial(self._edited_version, kind, request, latest["trigger"], values, notes)
        # A long flow is edited off the event loop, so the worker goes on answering meanwhile.
        await asyncio.to_thread(edit) if _is_long(kind, latest["trigger"]) else edit()
        if kind in PIECE_CHECKED_OPERATIONS:
            await self._assert_pieces_allowed(flows, flow["project_id"], _brought_by(kind, request))
        if kind == "LOCK_FLOW":
            values["state"] = "LOCKED"
        if latest["state"] == "LOCKED" and kind not in NOTE_OPERATIONS:
            # A locked (published) version is never edited: it is copied to a new draft first.
            base = {
                "display_name": latest["display_name"],
                "agent_ids": list(latest["agent_ids"]),
                "schema_version": latest["schema_version"],
                "backup_files": latest["backup_files"],
                "updated_by": None,
                "state": "DRAFT",
            }
            await flows.insert_version({"id": new_id(), "flow_id": flow_id, **base, **values})
        else:
            await flows.update_version(latest["id"], values)
        await flows.update_flow(flow_id, {})

    def _edited_version(
        self,
        kind: str,
        request: Any,
        trigger: dict[str, Any],
        values: dict[str, Any],
        notes: list[dict[str, Any]],
    ) -> None:
        """Edit the tree, check it against the limits, and put it in `values` with the version
        columns it sets."""
        try:
            trigger = self._edit_tree(kind, request, trigger, values, notes)
            steps.check_names(trigger)
        except steps.StepError as exc:
            raise FlowOperationInvalid(str(exc)) from None
        _check_version_limits(trigger, notes)
        values.update(
            {
                "trigger": trigger,
                "valid": steps.version_is_valid(trigger),
                "connection_ids": steps.connection_external_ids(trigger),
                "notes": notes,
            }
        )

    def _edit_tree(
        self,
        kind: str,
        request: Any,
        trigger: dict[str, Any],
        values: dict[str, Any],
        notes: list[dict[str, Any]],
    ) -> dict[str, Any]:
        """Apply a version-level operation to a copy of the tree; returns the new tree and fills
        `values` with other version columns to change (and `notes` in place)."""
        trigger = copy_json(trigger)
        if kind == "CHANGE_NAME":
            values["display_name"] = request.displayName
        elif kind == "LOCK_FLOW":
            pass
        elif kind == "UPDATE_TRIGGER":
            trigger = steps.update_trigger(trigger, step_json(request))
        elif kind == "ADD_ACTION":
            location = request.stepLocationRelativeToParent
            steps.add_action(
                trigger,
                request.parentStep,
                location.value if location else None,
                request.branchIndex,
                step_json(request.action),
            )
        elif kind == "UPDATE_ACTION":
            steps.update_action(trigger, step_json(request))
        elif kind == "DELETE_ACTION":
            steps.delete_actions(trigger, request.names)
        elif kind == "MOVE_ACTION":
            location = request.stepLocationRelativeToNewParent
            steps.move_action(
                trigger, request.name, request.newParentStep, location.value if location else None, request.branchIndex
            )
        elif kind == "DUPLICATE_ACTION":
            steps.duplicate_action(trigger, request.stepName)
        elif kind == "SET_SKIP_ACTION":
            steps.set_skip(trigger, request.names, request.skip)
        elif kind == "ADD_BRANCH":
            steps.add_branch(trigger, request.stepName, request.branchIndex, request.branchName, request.conditions)
        elif kind == "DELETE_BRANCH":
            steps.delete_branch(trigger, request.stepName, request.branchIndex)
        elif kind == "DUPLICATE_BRANCH":
            steps.duplicate_branch(trigger, request.stepName, request.branchIndex)
        elif kind == "MOVE_BRANCH":
            steps.move_branch(trigger, request.stepName, request.sourceBranchIndex, request.targetBranchIndex)
        elif kind == "IMPORT_FLOW":
            trigger = steps.import_trigger(trigger, step_json(request.trigger))
            values["display_name"] = request.displayName
            # As the real import: the version takes the flow's (migrated) schema version.
            if request.schemaVersion is not None:
                values["schema_version"] = request.schemaVersion
            notes[:] = [_new_note(note) for note in request.notes or []]
        elif kind == "ADD_NOTE":
            notes.append(_new_note(request))
        elif kind == "UPDATE_NOTE":
            changes = request.model_dump(mode="json", exclude_unset=True)
            notes[:] = [
                {**note, **changes, "updatedAt": steps.now_iso()} if note.get("id") == request.id else note
                for note in notes
            ]
        elif kind == "DELETE_NOTE":
            notes[:] = [note for note in notes if note.get("id") != request.id]
        elif kind == "SAVE_SAMPLE_DATA":
            steps.set_sample_data(trigger, request.stepName, lambda sample: _saved_sample(sample, request.type))
        elif kind == "UPDATE_SAMPLE_DATA_INFO":
            info = request.sampleDataSettings
            steps.set_sample_data(
                trigger,
                request.stepName,
                lambda _: (
                    None if info is None else {**info.model_dump(exclude_none=True), "lastTestDate": steps.now_iso()}
                ),
                missing_ok=True,  # as on the real server, an unknown step changes nothing
            )
        else:  # pragma: no cover - the request schema admits no other type
            raise steps.StepError(f"Unknown operation {kind}")
        return trigger

    async def _assert_pieces_allowed(self, flows: FlowRepository, project_id: str, tree: dict[str, Any] | None) -> None:
        """Under `piecesFilterType: ALLOWED` a piece not in `plan.pieces` does not exist for the
        project: the real server answers such a piece as not found."""
        if tree is None:
            return
        filter_type, allowed = await flows.piece_filter(project_id)
        if filter_type != "ALLOWED":
            return
        for piece in steps.piece_names(tree):
            if piece not in allowed:
                raise PieceNotFound(piece)

    async def _latest(self, flows: FlowRepository, flow_id: str) -> Any:
        latest = await flows.latest_version(flow_id)
        assert latest is not None, "a flow always has a version"
        return latest

    async def _resolve_folder(
        self, flows: FlowRepository, project_id: str, folder_id: str | None, folder_name: str | None
    ) -> str | None:
        if folder_id:
            if not await flows.folder_in_project(project_id, folder_id):
                raise folder_not_found(folder_id)
            return folder_id
        if folder_name and folder_name.strip():
            return await flows.folder_by_name(project_id, folder_name.strip(), new_id())
        return None


# Past this many steps an edit runs in a worker thread (a few milliseconds of work or more).
_LONG_FLOW_STEPS = 100


def _is_long(kind: str, trigger: dict[str, Any]) -> bool:
    return kind in ("IMPORT_FLOW", "USE_AS_DRAFT") or any(
        count >= _LONG_FLOW_STEPS for count, _ in enumerate(steps.iter_steps(trigger), start=1)
    )


def _check_version_limits(trigger: dict[str, Any], notes: list[dict[str, Any]]) -> None:
    """A version is kept only while it can be served, copied and imported again (app/edge/limits.py)."""
    count = sum(1 for _ in steps.iter_steps(trigger))
    if count > MAX_FLOW_STEPS:
        raise FlowOperationInvalid(f"A flow has at most {MAX_FLOW_STEPS} steps (this one would have {count})")
    try:
        check_json(trigger, max_depth=MAX_FLOW_TREE_DEPTH)
    except JsonProblem as problem:
        raise FlowOperationInvalid(f"A flow's steps {problem.message}") from None
    size = json_size(trigger) + json_size(notes)
    if size > MAX_FLOW_VERSION_BYTES:
        raise FlowOperationInvalid(f"A flow's steps and notes take at most {MAX_FLOW_VERSION_BYTES} bytes as JSON")


def _new_note(note: Any) -> dict[str, Any]:
    """A note as stored; an API key is no user, so it owns none (as on the real server)."""
    now = steps.now_iso()
    body = note.model_dump(mode="json", exclude={"ownerId"})
    return {**body, "ownerId": None, "createdAt": now, "updatedAt": now}


def _saved_sample(sample: dict[str, Any] | None, file_type: str) -> dict[str, Any]:
    """A step's sample data after a payload is saved: a new file for the saved side, the other side's
    file kept, and nothing else (as the real server's sampleDataService records it)."""
    before = sample or {}
    files = {
        "sampleDataFileId": new_id() if file_type == "OUTPUT" else before.get("sampleDataFileId"),
        "sampleDataInputFileId": new_id() if file_type == "INPUT" else before.get("sampleDataInputFileId"),
    }
    return {**{k: v for k, v in files.items() if v is not None}, "lastTestDate": steps.now_iso()}


def _status_values(status: str, published_trigger: dict[str, Any]) -> dict[str, Any]:
    """The flow columns of a status: an enabled flow shows its trigger's source, a disabled none."""
    if status == "ENABLED":
        return {"status": "ENABLED", "trigger_source": trigger_source(published_trigger)}
    return {"status": "DISABLED", "trigger_source": None}


def _brought_by(kind: str, request: Any) -> dict[str, Any] | None:
    """The steps an operation brings, as a tree, for the piece filter."""
    if kind == "ADD_ACTION":
        return step_json(request.action)
    if kind in ("UPDATE_ACTION", "UPDATE_TRIGGER"):
        return step_json(request)
    if kind == "IMPORT_FLOW":
        return step_json(request.trigger)
    return None


_CONNECTION_NAME = re.compile(r"\{\{connections\.[^}]*\}\}")


def _template_step(value: Any) -> Any:
    """A step tree for a template: `{{connections.x}}` references and sample data removed."""
    if isinstance(value, str):
        return _CONNECTION_NAME.sub("", value)
    if isinstance(value, list):
        return [_template_step(item) for item in value]
    if isinstance(value, dict):
        cleaned = {key: _template_step(item) for key, item in value.items() if key != "sampleData"}
        return cleaned
    return value
