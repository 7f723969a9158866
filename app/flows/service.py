"""Flow rules: versions (the newest is the one you edit; a LOCKED one is copied to a new DRAFT
first), publishing, status, folders and the project's piece filter. One transaction per call, and
the flow row is locked for every operation, so concurrent operations on one flow take turns."""

from __future__ import annotations

import copy
from typing import Any

from app.auth import Principal
from app.db import Database
from app.errors import EntityNotFound, FlowOperationInvalid, PieceNotAllowed
from app.flows import steps
from app.flows.repository import FlowExternalIdTaken, FlowRepository
from app.flows.schemas import (
    CreateFlowRequest,
    populated_flow_body,
    step_json,
)
from app.flows.triggers import trigger_source
from app.ids import new_id
from app.pagination import decode_cursor

# The flow schema version new versions are written in (the real server's LATEST_FLOW_SCHEMA_VERSION
# for the step shapes implemented here, with `lastUpdatedDate` on every step).
LATEST_FLOW_SCHEMA_VERSION = "18"

# Operations on the flow row; every other one edits the newest version's content.
FLOW_LEVEL_OPERATIONS = {
    "LOCK_AND_PUBLISH",
    "LOCK_FLOW",
    "USE_AS_DRAFT",
    "CHANGE_STATUS",
    "CHANGE_FOLDER",
    "UPDATE_METADATA",
    "UPDATE_MINUTES_SAVED",
    "UPDATE_OWNER",
}


def flow_not_found(flow_id: str) -> EntityNotFound:
    return EntityNotFound("flow", flow_id, "Flow not found")


def project_not_found(project_id: str) -> EntityNotFound:
    return EntityNotFound("project", project_id, "Project not found")


def folder_not_found(folder_id: str) -> EntityNotFound:
    return EntityNotFound("folder", folder_id, "Folder not found")


def version_not_found(version_id: str) -> EntityNotFound:
    return EntityNotFound("flow_version", version_id, "Flow version not found")


class FlowService:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- reads

    async def get(self, principal: Principal, flow_id: str, version_id: str | None) -> dict[str, Any]:
        async with self.db.read() as conn:
            row = await FlowRepository(conn).get_populated(principal.platform_id, flow_id, version_id)
            if row is None and version_id is not None:
                if await FlowRepository(conn).get_populated(principal.platform_id, flow_id) is not None:
                    raise version_not_found(version_id)
        if row is None:
            raise flow_not_found(flow_id)
        return populated_flow_body(row)

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
    ) -> dict[str, Any]:
        position = decode_cursor(cursor)
        async with self.db.read() as conn:
            flows = FlowRepository(conn)
            if not await flows.project_in_platform(principal.platform_id, project_id, lock=False):
                raise project_not_found(project_id)
            page = await flows.list_page(
                project_id,
                limit=limit,
                cursor=position,
                folder_id=folder_id,
                statuses=statuses,
                name=name,
                external_ids=external_ids,
                connection_external_ids=connection_external_ids,
                version_state=version_state,
            )
        return page.to_body(populated_flow_body)

    async def count(self, principal: Principal, project_id: str) -> int:
        async with self.db.read() as conn:
            flows = FlowRepository(conn)
            if not await flows.project_in_platform(principal.platform_id, project_id, lock=False):
                raise project_not_found(project_id)
            return await flows.count(project_id)

    # --- writes

    async def create(self, principal: Principal, request: CreateFlowRequest) -> dict[str, Any]:
        flow_id = new_id()
        async with self.db.transaction() as conn:
            flows = FlowRepository(conn)
            if not await flows.project_in_platform(principal.platform_id, request.projectId, lock=True):
                raise project_not_found(request.projectId)
            folder_id = await self._resolve_folder(flows, request.projectId, request.folderId, request.folderName)
            try:
                await flows.insert_flow(
                    {
                        "id": flow_id,
                        "project_id": request.projectId,
                        "external_id": request.externalId or flow_id,
                        "status": "DISABLED",
                        "operation_status": "NONE",
                        "owner_id": principal.owner_id,
                        "folder_id": folder_id,
                        "metadata": request.metadata,
                        "template_id": request.templateId,
                    }
                )
            except FlowExternalIdTaken:
                raise FlowOperationInvalid(
                    f"A flow with externalId {request.externalId} already exists in this project"
                ) from None
            await flows.insert_version(
                {
                    "id": new_id(),
                    "flow_id": flow_id,
                    "display_name": request.displayName,
                    "trigger": steps.empty_trigger(),
                    "valid": False,
                    "state": "DRAFT",
                    "connection_ids": [],
                    "agent_ids": [],
                    "notes": [],
                    "updated_by": principal.owner_id,
                    "schema_version": LATEST_FLOW_SCHEMA_VERSION,
                    "backup_files": None,
                }
            )
            row = await flows.get_populated(principal.platform_id, flow_id)
        assert row is not None
        return populated_flow_body(row)

    async def delete(self, principal: Principal, flow_id: str) -> None:
        async with self.db.transaction() as conn:
            flows = FlowRepository(conn)
            if await flows.lock(principal.platform_id, flow_id) is None:
                raise flow_not_found(flow_id)
            await flows.delete_flow(flow_id)  # versions go by ON DELETE CASCADE

    async def apply(self, principal: Principal, flow_id: str, operation: Any) -> dict[str, Any]:
        async with self.db.transaction() as conn:
            flows = FlowRepository(conn)
            flow = await flows.lock(principal.platform_id, flow_id)
            if flow is None:
                raise flow_not_found(flow_id)
            if operation.type in FLOW_LEVEL_OPERATIONS:
                await self._apply_to_flow(flows, principal, flow, operation.type, operation.request)
            else:
                await self._apply_to_draft(flows, principal, flow, operation.type, operation.request)
            row = await flows.get_populated(principal.platform_id, flow_id)
        assert row is not None
        return populated_flow_body(row)

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
        elif kind == "LOCK_FLOW":
            latest = await self._latest(flows, flow_id)
            if latest["state"] != "LOCKED":
                await flows.update_version(latest["id"], {"state": "LOCKED", "updated_by": principal.owner_id})
            await flows.update_flow(flow_id, {})
        elif kind == "LOCK_AND_PUBLISH":
            latest = await self._latest(flows, flow_id)
            if not latest["valid"]:
                raise FlowOperationInvalid("Flow version is not valid")
            await flows.update_version(latest["id"], {"state": "LOCKED", "updated_by": principal.owner_id})
            status = request.status.value if request.status is not None else "ENABLED"
            published = {**flow, "published_version_id": latest["id"]}
            await flows.update_flow(flow_id, {"published_version_id": latest["id"]})
            await self._change_status(flows, published, status, trigger=latest["trigger"])
        elif kind == "USE_AS_DRAFT":
            chosen = await flows.version(flow_id, request.versionId)
            if chosen is None:
                raise version_not_found(request.versionId)
            latest = await self._latest(flows, flow_id)
            content = {
                "display_name": chosen["display_name"],
                "trigger": chosen["trigger"],
                "valid": chosen["valid"],
                "connection_ids": list(chosen["connection_ids"]),
                "agent_ids": list(chosen["agent_ids"]),
                "notes": chosen["notes"],
                "schema_version": chosen["schema_version"],
                "updated_by": principal.owner_id,
            }
            if latest["state"] == "DRAFT":
                await flows.update_version(latest["id"], content)
            else:
                await flows.insert_version({"id": new_id(), "flow_id": flow_id, "state": "DRAFT", **content})
            await flows.update_flow(flow_id, {})

    async def _change_status(
        self, flows: FlowRepository, flow: Any, status: str, trigger: dict[str, Any] | None = None
    ) -> None:
        if status == "ENABLED":
            published_id = flow["published_version_id"]
            if published_id is None:
                raise FlowOperationInvalid("Flow has no published version")
            if trigger is None:
                published = await flows.version(flow["id"], published_id)
                trigger = published["trigger"] if published is not None else None
            source = trigger_source(trigger) if trigger is not None else None
            await flows.update_flow(flow["id"], {"status": "ENABLED", "trigger_source": source})
        else:
            await flows.update_flow(flow["id"], {"status": "DISABLED", "trigger_source": None})

    # --- version-level operations

    async def _apply_to_draft(
        self, flows: FlowRepository, principal: Principal, flow: Any, kind: str, request: Any
    ) -> None:
        flow_id = flow["id"]
        latest = await self._latest(flows, flow_id)
        trigger: dict[str, Any] = latest["trigger"]
        values: dict[str, Any] = {}
        notes: list[dict[str, Any]] = list(latest["notes"] or [])
        try:
            trigger = self._edit_tree(kind, request, trigger, values, notes, principal.owner_id)
            steps.check_names(trigger)
        except steps.StepError as exc:
            raise FlowOperationInvalid(str(exc)) from None

        await self._assert_pieces_allowed(flows, flow["project_id"], trigger)
        values.update(
            {
                "trigger": trigger,
                "valid": steps.version_is_valid(trigger),
                "connection_ids": steps.connection_external_ids(trigger),
                "notes": notes,
                "updated_by": principal.owner_id,
            }
        )
        if latest["state"] == "LOCKED":
            # A locked (published) version is never edited: the edit starts a new draft.
            base = {
                "display_name": latest["display_name"],
                "agent_ids": list(latest["agent_ids"]),
                "schema_version": latest["schema_version"],
                "backup_files": latest["backup_files"],
            }
            await flows.insert_version({"id": new_id(), "flow_id": flow_id, "state": "DRAFT", **base, **values})
        else:
            await flows.update_version(latest["id"], values)
        await flows.update_flow(flow_id, {})

    def _edit_tree(
        self,
        kind: str,
        request: Any,
        trigger: dict[str, Any],
        values: dict[str, Any],
        notes: list[dict[str, Any]],
        user_id: str | None,
    ) -> dict[str, Any]:
        """Apply a version-level operation to a copy of the tree; returns the new tree and fills
        `values` with other version columns to change (and `notes` in place)."""
        trigger = copy.deepcopy(trigger)
        if kind == "CHANGE_NAME":
            values["display_name"] = request.displayName
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
            trigger = steps.import_trigger(step_json(request.trigger))
            values["display_name"] = request.displayName
            notes[:] = [_new_note(note, user_id) for note in request.notes or []]
        elif kind == "ADD_NOTE":
            notes.append(_new_note(request, user_id))
        elif kind == "UPDATE_NOTE":
            changes = request.model_dump(mode="json", exclude_unset=True)
            notes[:] = [
                {**note, **changes, "updatedAt": steps.now_iso()} if note.get("id") == request.id else note
                for note in notes
            ]
        elif kind == "DELETE_NOTE":
            notes[:] = [note for note in notes if note.get("id") != request.id]
        elif kind == "SAVE_SAMPLE_DATA":
            field = "sampleDataInputFileId" if request.type == "INPUT" else "sampleDataFileId"
            steps.set_sample_data(
                trigger,
                request.stepName,
                lambda sample: {**(sample or {}), field: new_id(), "lastTestDate": steps.now_iso()},
            )
        elif kind == "UPDATE_SAMPLE_DATA_INFO":
            info = request.sampleDataSettings
            steps.set_sample_data(
                trigger,
                request.stepName,
                lambda _: (
                    None if info is None else {**info.model_dump(exclude_unset=True), "lastTestDate": steps.now_iso()}
                ),
            )
        else:  # pragma: no cover - the request schema admits no other type
            raise steps.StepError(f"Unknown operation {kind}")
        return trigger

    async def _assert_pieces_allowed(self, flows: FlowRepository, project_id: str, trigger: dict[str, Any]) -> None:
        filter_type, allowed = await flows.piece_filter(project_id)
        if filter_type != "ALLOWED":
            return
        for piece in steps.piece_names(trigger):
            if piece not in allowed:
                raise PieceNotAllowed(piece)

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


def _new_note(note: Any, owner_id: str | None) -> dict[str, Any]:
    now = steps.now_iso()
    return {
        **note.model_dump(mode="json", exclude={"ownerId"}),
        "ownerId": owner_id,
        "createdAt": now,
        "updatedAt": now,
    }
