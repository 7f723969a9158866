"""Request and response shapes of `/v1/flows`."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, Strict, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from app.edge.limits import (
    MAX_FLOW_STEPS,
    MAX_FLOW_TREE_DEPTH,
    MAX_LIST_ITEMS,
    MAX_STRING_LENGTH,
    FreeJson,
    JsonProblem,
    check_json,
    nested_error,
)
from app.flows import migrations
from app.folders.schemas import FolderName
from app.kit.serialization import copy_json

NonEmpty = Annotated[str, Field(min_length=1)]


class FlowStatus(StrEnum):
    ENABLED = "ENABLED"
    DISABLED = "DISABLED"


class FlowOperationStatus(StrEnum):
    NONE = "NONE"
    DELETING = "DELETING"
    ENABLING = "ENABLING"
    DISABLING = "DISABLING"


class FlowVersionState(StrEnum):
    DRAFT = "DRAFT"
    LOCKED = "LOCKED"


class _Request(BaseModel):
    model_config = ConfigDict(extra="ignore", str_max_length=MAX_STRING_LENGTH)


IdList = Annotated[list[str], Field(max_length=MAX_LIST_ITEMS)]
# A coordinate is a JSON number: the real server's schema (zod) takes no string or boolean for one.
Coordinate = Annotated[float, Strict()]


class CreateFlowRequest(_Request):
    displayName: str
    projectId: str
    folderId: str | None = None
    folderName: FolderName | None = None
    externalId: str | None = None
    metadata: FreeJson | None = None
    templateId: str | None = None


# --- responses (documented shapes; bodies are built as dicts on the hot path)


class FlowVersionBody(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    created: str
    updated: str
    flowId: str
    displayName: str
    trigger: dict[str, Any]
    valid: bool
    agentIds: list[str]
    state: FlowVersionState
    connectionIds: list[str]
    notes: list[dict[str, Any]]
    updatedBy: str | None
    schemaVersion: str | None
    backupFiles: dict[str, Any] | None


class ScheduleOptions(BaseModel):
    type: Literal["CRON_EXPRESSION"]
    cronExpression: str
    timezone: str


class TriggerSource(BaseModel):
    schedule: ScheduleOptions | None


class PopulatedFlow(BaseModel):
    id: str
    created: str
    updated: str
    projectId: str
    externalId: str
    status: FlowStatus
    operationStatus: FlowOperationStatus
    version: FlowVersionBody
    ownerId: str | None
    folderId: str | None
    publishedVersionId: str | None
    metadata: dict[str, Any] | None
    timeSavedPerRun: int | None
    templateId: str | None
    triggerSource: TriggerSource | None = None


class FlowTemplate(BaseModel):
    name: str
    summary: str
    description: str
    pieces: list[str]
    flows: list[FlowVersionBody]
    tags: list[str]
    blogUrl: str
    metadata: dict[str, Any] | None
    author: str
    categories: list[str]
    type: Literal["SHARED"]
    status: Literal["PUBLISHED"]


class FlowVersionMetadata(BaseModel):
    """A version without its step tree, as `GET /v1/flows/{id}/versions` lists it."""

    id: str
    created: str
    updated: str
    flowId: str
    displayName: str
    valid: bool
    state: FlowVersionState
    updatedBy: str | None
    schemaVersion: str | None
    updatedByUser: dict[str, Any] | None


class SeekPageFlowVersions(BaseModel):
    data: list[FlowVersionMetadata]
    next: str | None
    previous: str | None


def version_metadata_body(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "created": row["created_iso"],
        "updated": row["updated_iso"],
        "flowId": row["flow_id"],
        "displayName": row["display_name"],
        "valid": row["valid"],
        "state": row["state"],
        "updatedBy": row["updated_by"],
        "schemaVersion": row["schema_version"],
        # An API key is no user: no user updated a version through it.
        "updatedByUser": None,
    }


class SeekPageFlows(BaseModel):
    data: list[PopulatedFlow]
    next: str | None
    previous: str | None


# Links between steps that lead nowhere. The real FlowAction allows these keys to be absent or a step,
# never null (a client parsing with the real schemas rejects a null), so they are left out of responses.
_STEP_LINKS = ("nextAction", "firstLoopAction")


def public_step_tree(step: Any) -> Any:
    """A copy of a step tree as the real server shows it: no `nextAction`/`firstLoopAction` of null
    (a router's `children` keep their nulls: there the real schema allows them)."""
    if not isinstance(step, dict):
        return step
    shown = {key: value for key, value in step.items() if not (key in _STEP_LINKS and value is None)}
    for key in _STEP_LINKS:
        if key in shown:
            shown[key] = public_step_tree(shown[key])
    if isinstance(shown.get("children"), list):
        shown["children"] = [public_step_tree(child) for child in shown["children"]]
    return shown


def populated_flow_body(row: Mapping[str, Any]) -> dict[str, Any]:
    body = {
        "id": row["id"],
        "created": row["created_iso"],
        "updated": row["updated_iso"],
        "projectId": row["project_id"],
        "externalId": row["external_id"],
        "status": row["status"],
        "operationStatus": row["operation_status"],
        "version": {
            "id": row["v_id"],
            "created": row["v_created_iso"],
            "updated": row["v_updated_iso"],
            "flowId": row["id"],
            "displayName": row["v_display_name"],
            "trigger": public_step_tree(row["v_trigger"]),
            "valid": row["v_valid"],
            "agentIds": list(row["v_agent_ids"]),
            "state": row["v_state"],
            "connectionIds": list(row["v_connection_ids"]),
            "notes": row["v_notes"],
            "updatedBy": row["v_updated_by"],
            "schemaVersion": row["v_schema_version"],
            "backupFiles": row["v_backup_files"],
        },
        "ownerId": row["owner_id"],
        "folderId": row["folder_id"],
        "publishedVersionId": row["published_version_id"],
        "metadata": row["metadata"],
        "timeSavedPerRun": row["time_saved_per_run"],
        "templateId": row["template_id"],
    }
    # Present only while the flow is enabled, as on the real server.
    if row["trigger_source"] is not None:
        body["triggerSource"] = row["trigger_source"]
    return body


# --- steps as clients send them (validity is recomputed by the server; extra keys are kept)


class _Step(BaseModel):
    model_config = ConfigDict(extra="allow", str_max_length=MAX_STRING_LENGTH)

    name: NonEmpty
    displayName: str
    settings: dict[str, Any]
    valid: bool | None = None


class ActionIn(_Step):
    """An action and what follows and nests in it: the documented (recursive) shape. Requests are
    validated step by step instead (see `_validated_tree`): pydantic's recursion stops at ~250
    levels, and a chain of N steps nests N deep."""

    type: Literal["PIECE", "CODE", "LOOP_ON_ITEMS", "ROUTER"]
    skip: bool | None = None
    nextAction: ActionIn | None = None
    firstLoopAction: ActionIn | None = None
    children: list[ActionIn | None] | None = None


# The real STEP_NAME_REGEX, which the real request schemas apply to the step a request names.
StepName = Annotated[str, Field(pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$")]


class ClientActionIn(ActionIn):
    """An action a client adds or updates: its name is checked as the real request schema checks it
    (not the steps nested in an imported trigger: the real schema does not look inside `nextAction`)."""

    name: StepName


class TriggerIn(_Step):
    name: StepName
    type: Literal["EMPTY", "PIECE_TRIGGER"]
    nextAction: ActionIn | None = None


_INNER_KEYS = ("nextAction", "firstLoopAction", "children")


class _ActionNode(_Step):
    """One action alone: what it nests is validated as a step of its own."""

    type: Literal["PIECE", "CODE", "LOOP_ON_ITEMS", "ROUTER"]
    skip: bool | None = None
    nextAction: Any = None
    firstLoopAction: Any = None
    children: list[Any] | None = None


class _ClientActionNode(_ActionNode):
    """The action a request names (ADD_ACTION, UPDATE_ACTION): its name as ClientActionIn's."""

    name: StepName


class _TriggerNode(_Step):
    name: StepName
    type: Literal["EMPTY", "PIECE_TRIGGER"]
    nextAction: Any = None


def _validated_tree(value: Any, root: type[_Step]) -> dict[str, Any]:
    """A step tree as plain JSON, each step validated on its own, without recursion; refused past
    MAX_FLOW_STEPS steps or MAX_FLOW_TREE_DEPTH levels (so every tree taken can be stored, served
    and imported again)."""
    try:
        check_json(value, max_depth=MAX_FLOW_TREE_DEPTH)
    except JsonProblem as problem:
        # The tree is named, not the path inside it: keys in settings are the client's data.
        raise nested_error((), problem.message) from None
    out: dict[str, Any] = {}
    # A step's path is a link to its parent's ((parent's link, keys...), None at the root), spelled
    # out only for an error: a step costs the same however deep it sits.
    pending: list[tuple[Any, type[_Step], Any, Any, str | int]] = [(value, root, None, out, "root")]
    count = 0
    while pending:
        raw, model, path, holder, slot = pending.pop()
        count += 1
        if count > MAX_FLOW_STEPS:
            raise nested_error((), f"must NOT have more than {MAX_FLOW_STEPS} steps")
        try:
            node = model.model_validate(raw)
        except ValidationError as exc:
            inner = exc.errors()[0]
            context = {"path": "/".join(map(str, _spelled(path))), "inner": inner, "message": inner["msg"]}
            raise PydanticCustomError("nested_invalid", "{message}", context) from None
        step: dict[str, Any] = {}
        for key, given in raw.items():
            if key in _INNER_KEYS and given is not None:
                continue
            # Declared fields as validated; extra keys the client keeps on its steps as sent.
            step[key] = getattr(node, key) if key in model.model_fields else given
        if raw.get("nextAction") is not None:
            pending.append((raw["nextAction"], _ActionNode, (path, "nextAction"), step, "nextAction"))
        if issubclass(model, _ActionNode) and raw.get("firstLoopAction") is not None:
            pending.append((raw["firstLoopAction"], _ActionNode, (path, "firstLoopAction"), step, "firstLoopAction"))
        if issubclass(model, _ActionNode) and raw.get("children") is not None:
            step["children"] = [None] * len(raw["children"])
            for index, child in enumerate(raw["children"]):
                if child is not None:
                    pending.append((child, _ActionNode, (path, "children", index), step["children"], index))
        holder[slot] = step
    return out["root"]


def _spelled(link: Any) -> list[str | int]:
    segments: list[list[str | int]] = []
    while link is not None:
        link, *keys = link
        segments.append(keys)
    return [key for keys in reversed(segments) for key in keys]


ClientActionTree = Annotated[
    dict[str, Any],
    PlainValidator(lambda value: _validated_tree(value, _ClientActionNode), json_schema_input_type=ClientActionIn),
]
TriggerTree = Annotated[
    dict[str, Any], PlainValidator(lambda value: _validated_tree(value, _TriggerNode), json_schema_input_type=TriggerIn)
]


def step_json(step: BaseModel | dict[str, Any]) -> dict[str, Any]:
    if isinstance(step, dict):
        return step
    return step.model_dump(mode="json", exclude_none=False, exclude_unset=True)


# --- operations: `POST /v1/flows/{id}` takes one `{type, request}`


class StepLocation(StrEnum):
    AFTER = "AFTER"
    INSIDE_LOOP = "INSIDE_LOOP"
    INSIDE_BRANCH = "INSIDE_BRANCH"


class NotePosition(BaseModel):
    x: Coordinate
    y: Coordinate


class NoteSize(BaseModel):
    width: Coordinate
    height: Coordinate


class NoteColor(StrEnum):
    ORANGE = "orange"
    RED = "red"
    GREEN = "green"
    BLUE = "blue"
    PURPLE = "purple"
    YELLOW = "yellow"


class NoteRequest(_Request):
    id: NonEmpty
    content: str
    color: NoteColor
    position: NotePosition
    size: NoteSize


class UpdateNoteRequest(NoteRequest):
    ownerId: str | None = None


class DeleteNoteRequest(_Request):
    id: NonEmpty


class ChangeNameRequest(_Request):
    displayName: str


class AddActionRequest(_Request):
    parentStep: NonEmpty
    stepLocationRelativeToParent: StepLocation | None = None
    branchIndex: Annotated[int, Field(ge=0)] | None = None
    action: ClientActionTree


class DeleteActionRequest(_Request):
    names: IdList


class MoveActionRequest(_Request):
    name: NonEmpty
    newParentStep: NonEmpty
    stepLocationRelativeToNewParent: StepLocation | None = None
    branchIndex: Annotated[int, Field(ge=0)] | None = None


class DuplicateStepRequest(_Request):
    stepName: NonEmpty


class SetSkipActionRequest(_Request):
    names: IdList
    skip: bool


class AddBranchRequest(_Request):
    branchIndex: Annotated[int, Field(ge=0)]
    stepName: NonEmpty
    conditions: list[list[dict[str, Any]]] | None = None
    branchName: str


class BranchRequest(_Request):
    branchIndex: Annotated[int, Field(ge=0)]
    stepName: NonEmpty


class MoveBranchRequest(_Request):
    sourceBranchIndex: Annotated[int, Field(ge=0)]
    targetBranchIndex: Annotated[int, Field(ge=0)]
    stepName: NonEmpty


class LockAndPublishRequest(_Request):
    status: FlowStatus | None = None


class ChangeStatusRequest(_Request):
    status: FlowStatus


class ChangeFolderRequest(_Request):
    folderId: str | None = None


class ImportFlowRequest(_Request):
    displayName: str
    trigger: TriggerTree
    # The versions this server migrates from: none, or 0 to the newest it knows (checked first, by
    # the migration, which names a version it cannot take).
    schemaVersion: Annotated[str, Field(pattern=migrations.KNOWN_SCHEMA_VERSION_PATTERN)] | None = None
    notes: list[NoteRequest] | None = None

    @model_validator(mode="before")
    @classmethod
    def _to_latest_schema(cls, data: Any) -> Any:
        """A flow of an older schema version is migrated before it is validated, as on the real server."""
        if not isinstance(data, dict):
            return data
        parts = copy_json({key: data.get(key) for key in ("trigger", "schemaVersion", "notes")})
        return {**data, **migrations.migrate(parts)}


class UpdateMetadataRequest(_Request):
    metadata: FreeJson | None = None


class UseAsDraftRequest(_Request):
    versionId: NonEmpty


class LockFlowRequest(_Request):
    pass


class UpdateMinutesSavedRequest(_Request):
    timeSavedPerRun: Annotated[int, Field(ge=0)] | None = None


class UpdateOwnerRequest(_Request):
    ownerId: NonEmpty


class SampleDataFileType(StrEnum):
    INPUT = "INPUT"
    OUTPUT = "OUTPUT"


class SaveSampleDataRequest(_Request):
    stepName: NonEmpty
    payload: Any = None
    type: SampleDataFileType = SampleDataFileType.OUTPUT
    dataType: str | None = None


class SampleDataSettings(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sampleDataFileId: str | None = None
    sampleDataInputFileId: str | None = None


class UpdateSampleDataInfoRequest(_Request):
    stepName: NonEmpty
    sampleDataSettings: SampleDataSettings | None


def _operation(name: str, request: Any) -> Any:
    return type(
        f"{name.title().replace('_', '')}Operation",
        (_Request,),
        {"__annotations__": {"type": Literal[name], "request": request}},  # type: ignore[valid-type]
    )


OPERATION_REQUESTS: dict[str, Any] = {
    "CHANGE_NAME": ChangeNameRequest,
    "UPDATE_TRIGGER": TriggerTree,
    "ADD_ACTION": AddActionRequest,
    "UPDATE_ACTION": ClientActionTree,
    "DELETE_ACTION": DeleteActionRequest,
    "MOVE_ACTION": MoveActionRequest,
    "DUPLICATE_ACTION": DuplicateStepRequest,
    "SET_SKIP_ACTION": SetSkipActionRequest,
    "ADD_BRANCH": AddBranchRequest,
    "DELETE_BRANCH": BranchRequest,
    "DUPLICATE_BRANCH": BranchRequest,
    "MOVE_BRANCH": MoveBranchRequest,
    "LOCK_AND_PUBLISH": LockAndPublishRequest,
    "LOCK_FLOW": LockFlowRequest,
    "USE_AS_DRAFT": UseAsDraftRequest,
    "CHANGE_STATUS": ChangeStatusRequest,
    "CHANGE_FOLDER": ChangeFolderRequest,
    "IMPORT_FLOW": ImportFlowRequest,
    "UPDATE_METADATA": UpdateMetadataRequest,
    "UPDATE_MINUTES_SAVED": UpdateMinutesSavedRequest,
    "UPDATE_OWNER": UpdateOwnerRequest,
    "ADD_NOTE": NoteRequest,
    "UPDATE_NOTE": UpdateNoteRequest,
    "DELETE_NOTE": DeleteNoteRequest,
    "SAVE_SAMPLE_DATA": SaveSampleDataRequest,
    "UPDATE_SAMPLE_DATA_INFO": UpdateSampleDataInfoRequest,
}

_OPERATION_MODELS = tuple(_operation(name, request) for name, request in OPERATION_REQUESTS.items())
FlowOperationRequest = Annotated[Union[_OPERATION_MODELS], Field(discriminator="type")]  # type: ignore[valid-type]  # noqa: UP007
