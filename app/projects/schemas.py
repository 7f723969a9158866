"""Request and response shapes of `/v1/projects`. Unknown request fields are ignored, as the
real server does."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from app.edge.limits import MAX_LIST_ITEMS, MAX_STRING_LENGTH, FreeJson
from app.kit.schema_types import Boolean

SAFE_STRING_PATTERN = r"^[^./]+$"
MAX_SAFE_INTEGER = 9007199254740991


class ProjectType(StrEnum):
    TEAM = "TEAM"
    PERSONAL = "PERSONAL"


class PiecesFilterType(StrEnum):
    NONE = "NONE"
    ALLOWED = "ALLOWED"


class ColorName(StrEnum):
    RED = "RED"
    BLUE = "BLUE"
    YELLOW = "YELLOW"
    PURPLE = "PURPLE"
    GREEN = "GREEN"
    PINK = "PINK"
    VIOLET = "VIOLET"
    ORANGE = "ORANGE"
    DARK_GREEN = "DARK_GREEN"
    CYAN = "CYAN"
    LAVENDER = "LAVENDER"
    DEEP_ORANGE = "DEEP_ORANGE"


class _Request(BaseModel):
    model_config = ConfigDict(extra="ignore", str_max_length=MAX_STRING_LENGTH)


IdList = Annotated[list[str], Field(max_length=MAX_LIST_ITEMS)]


DisplayName = Annotated[str, Field(pattern=SAFE_STRING_PATTERN)]
MaxConcurrentJobs = Annotated[int, Field(gt=0, le=MAX_SAFE_INTEGER)]
# The newest real UpdateProjectPlatformRequest: a positive integer (or null).
RetentionDays = Annotated[int, Field(gt=0, le=MAX_SAFE_INTEGER)]


class CreateProjectRequest(_Request):
    displayName: DisplayName
    externalId: str | None = None
    metadata: FreeJson | None = None
    maxConcurrentJobs: MaxConcurrentJobs | None = None
    globalConnectionExternalIds: IdList | None = None


class ProjectIconRequest(_Request):
    color: ColorName


class ProjectPlanRequest(_Request):
    pieces: IdList | None = None
    piecesFilterType: PiecesFilterType | None = None


class UpdateProjectRequest(_Request):
    releasesEnabled: Boolean | None = None
    notifyFlowOwnerOnFailure: Boolean | None = None
    displayName: DisplayName | None = None
    externalId: str | None = None
    metadata: FreeJson | None = None
    icon: ProjectIconRequest | None = None
    plan: ProjectPlanRequest | None = None
    globalConnectionExternalIds: IdList | None = None
    maxConcurrentJobs: MaxConcurrentJobs | None = None
    workerGroupId: str | None = None
    executionDataRetentionDays: RetentionDays | None = None


# --- responses (documented in OpenAPI; built as plain dicts on the hot path)


class ProjectIcon(BaseModel):
    color: ColorName


class ProjectPlan(BaseModel):
    id: str
    created: str
    updated: str
    projectId: str
    name: str
    locked: bool
    piecesFilterType: PiecesFilterType
    pieces: list[str]
    tasks: int | None
    aiCredits: int | None
    activeFlowsLimit: int | None


class ProjectUsage(BaseModel):
    tasks: int
    aiCredits: int
    nextLimitResetDate: str


class ProjectAnalytics(BaseModel):
    totalUsers: int
    activeUsers: int
    totalFlows: int
    activeFlows: int
    lastFlowUpdated: str | None


class ProjectWithLimits(BaseModel):
    id: str
    created: str
    updated: str
    ownerId: str
    displayName: str
    platformId: str
    type: ProjectType
    externalId: str | None
    metadata: dict[str, Any] | None
    maxConcurrentJobs: int | None
    releasesEnabled: bool
    notifyFlowOwnerOnFailure: bool
    icon: ProjectIcon
    notifyStatus: str
    poolId: str | None
    pieceSetId: str | None
    workerGroupId: str | None
    executionDataRetentionDays: int | None
    sensitive: bool
    plan: ProjectPlan
    usage: ProjectUsage
    analytics: ProjectAnalytics


class SeekPageProjects(BaseModel):
    data: list[ProjectWithLimits]
    next: str | None
    previous: str | None


def project_body(row: Mapping[str, Any], next_limit_reset: str) -> dict[str, Any]:
    return {
        "id": row["id"],
        "created": row["created_iso"],
        "updated": row["updated_iso"],
        "ownerId": row["owner_id"],
        "displayName": row["display_name"],
        "platformId": row["platform_id"],
        "type": row["type"],
        "externalId": row["external_id"],
        "metadata": row["metadata"],
        "maxConcurrentJobs": row["max_concurrent_jobs"],
        "releasesEnabled": row["releases_enabled"],
        "icon": {"color": row["icon_color"]},
        "notifyFlowOwnerOnFailure": row["notify_flow_owner_on_failure"],
        "notifyStatus": row["notify_status"],
        "poolId": row["pool_id"],
        # No route of this API sets a piece set or marks a project sensitive: the real defaults.
        "pieceSetId": None,
        "workerGroupId": row["worker_group_id"],
        "executionDataRetentionDays": row["execution_data_retention_days"],
        "sensitive": False,
        "plan": {
            "id": row["plan_id"],
            "created": row["plan_created_iso"],
            "updated": row["plan_updated_iso"],
            "projectId": row["id"],
            "name": row["plan_name"],
            "locked": row["plan_locked"],
            "piecesFilterType": row["plan_pieces_filter_type"],
            "pieces": row["plan_pieces"],
            "tasks": row["plan_tasks"],
            "aiCredits": row["plan_ai_credits"],
            # The newest real ProjectPlan's limit of enabled flows; no limit here.
            "activeFlowsLimit": None,
        },
        "usage": {"tasks": 0, "aiCredits": 0, "nextLimitResetDate": next_limit_reset},
        "analytics": {
            "totalUsers": row["total_users"],
            "activeUsers": row["active_users"],
            "totalFlows": row["total_flows"],
            "activeFlows": row["active_flows"],
            "lastFlowUpdated": row["last_flow_updated_iso"],
        },
    }
