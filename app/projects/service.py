"""Project rules: tenancy, the edition's team-project limit, the personal-project delete ban,
unique externalIds, and plan updates. One transaction per call."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

import asyncpg

from app.edge.auth import Principal
from app.kit.clock import clock
from app.kit.db import Database
from app.kit.errors import (
    AuthenticationFailed,
    FeatureDisabled,
    ProjectExternalIdAlreadyExists,
    ProjectNotFound,
    ProjectOfAnotherPlatform,
    ValidationFailed,
)
from app.kit.ids import choose, new_id
from app.kit.pagination import decode_cursor
from app.kit.serialization import iso
from app.platforms.repository import PlatformRepository
from app.projects.repository import ExternalIdTaken, PlatformVanished, ProjectReads, ProjectRepository
from app.projects.schemas import ColorName, CreateProjectRequest, UpdateProjectRequest, project_body

DEFAULT_PLAN_NAME = "platform"
_COLORS = list(ColorName)


_next_reset: tuple[tuple[int, int], str] = ((0, 0), "")


def next_month_start() -> str:
    """When usage limits reset: the first of next month, UTC (computed once a month)."""
    global _next_reset
    today = clock.peek()  # looking at the time moves no clock
    if _next_reset[0] != (today.year, today.month):
        year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
        _next_reset = ((today.year, today.month), iso(datetime(year, month, 1, tzinfo=UTC)) or "")
    return _next_reset[1]


async def assert_team_project_allowed(projects: ProjectRepository, team_projects_limit: str, platform_id: str) -> None:
    if team_projects_limit == "NONE":
        raise ValidationFailed("Team projects are not available on your current plan")
    if team_projects_limit == "ONE" and await projects.count_team_projects(platform_id) >= 1:
        raise FeatureDisabled(
            "Maximum limit of 1 team project reached for this plan. Upgrade your plan to add more team projects."
        )


def new_project_values(
    *,
    platform_id: str,
    owner_id: str,
    display_name: str,
    project_type: str,
    external_id: str | None = None,
    metadata: dict[str, Any] | None = None,
    max_concurrent_jobs: int | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    project = {
        "id": new_id(),
        "platform_id": platform_id,
        "owner_id": owner_id,
        "display_name": display_name,
        "type": project_type,
        "external_id": external_id,
        "metadata": metadata,
        "max_concurrent_jobs": max_concurrent_jobs,
        "releases_enabled": False,
        "icon_color": choose(_COLORS).value,
        "notify_status": "NEVER",
        "pool_id": None,
    }
    plan = {
        "name": DEFAULT_PLAN_NAME,
        "locked": False,
        "pieces_filter_type": "NONE",
        "pieces": [],
        "tasks": None,
        "ai_credits": None,
    }
    return project, plan


class ConnectionLinks(Protocol):
    """Linking a project to its platform's global connections, inside the caller's transaction.
    The global connections domain sits above projects and implements this; `app.main` hands it in."""

    async def link_new_project(
        self, conn: asyncpg.Connection, platform_id: str, project_id: str, external_ids: list[str] | None
    ) -> None: ...

    async def set_project_connections(
        self, conn: asyncpg.Connection, platform_id: str, project_id: str, external_ids: list[str]
    ) -> None: ...


async def _missing(projects: ProjectRepository, project_id: str, principal: Principal) -> ProjectNotFound:
    """The error for a project the caller's platform does not have: another platform's project is a
    typed case of its own (the documented answer is 404 for both; the real server's is not)."""
    if await projects.exists_on_any_platform(project_id):
        return ProjectOfAnotherPlatform(project_id, principal.platform_id)
    return ProjectNotFound(project_id)


class ProjectService:
    def __init__(self, db: Database, reads: ProjectReads, links: ConnectionLinks) -> None:
        self.db = db
        self.reads = reads
        self.links = links

    async def get(self, principal: Principal, project_id: str) -> dict[str, Any]:
        async with self.db.fast_read() as conn:
            row = await self.reads.fetch(conn, principal.platform_id, project_id)
        if row is None:
            async with self.db.fast_read() as conn:
                raise await _missing(ProjectRepository(conn), project_id, principal)
        return project_body(row, next_month_start())

    async def list(
        self,
        principal: Principal,
        *,
        limit: int,
        cursor: str | None,
        external_id: str | None,
        display_name: str | None,
        types: list[str] | None,
        external_user_id: str | None = None,
    ) -> dict[str, Any]:
        position = decode_cursor(cursor)
        async with self.db.fast_read() as conn:
            page = await self.reads.list_page(
                conn,
                principal.platform_id,
                limit=limit,
                cursor=position,
                external_id=external_id,
                display_name=display_name,
                types=types,
                external_user_id=external_user_id,
            )
        reset = next_month_start()
        return page.to_body(lambda row: project_body(row, reset))

    async def create(self, principal: Principal, request: CreateProjectRequest) -> dict[str, Any]:
        try:
            async with self.db.fast_transaction() as conn:
                projects = ProjectRepository(conn)
                platforms = PlatformRepository(conn)
                platform = await platforms.get(principal.platform_id)
                if platform is not None and platform.team_projects_limit == "ONE":
                    # A limit to count against: lock the platform row (this transaction holds no
                    # lock on it yet, so none is upgraded), concurrent creates take turns and the
                    # limit holds. Without one, creates on a platform need not wait for each other.
                    platform = await platforms.get(principal.platform_id, for_update=True)
                if platform is None:  # deleted since its key was cached: the key is unknown now
                    raise AuthenticationFailed()
                await assert_team_project_allowed(projects, platform.team_projects_limit, platform.id)
                values, plan = new_project_values(
                    platform_id=platform.id,
                    owner_id=platform.owner_id,
                    display_name=request.displayName,
                    project_type="TEAM",
                    external_id=request.externalId,
                    metadata=request.metadata,
                    max_concurrent_jobs=request.maxConcurrentJobs,
                )
                await projects.insert(values, plan)
                await self.links.link_new_project(conn, platform.id, values["id"], request.globalConnectionExternalIds)
                row = await self.reads.fetch(conn, platform.id, values["id"])
        except ExternalIdTaken:
            raise ProjectExternalIdAlreadyExists(request.externalId or "") from None
        except PlatformVanished:  # deleted after the check above (creates without a limit lock nothing)
            raise AuthenticationFailed() from None
        assert row is not None
        return project_body(row, next_month_start())

    async def update(self, principal: Principal, project_id: str, request: UpdateProjectRequest) -> dict[str, Any]:
        sent = request.model_fields_set
        try:
            async with self.db.fast_transaction() as conn:
                projects = ProjectRepository(conn)
                project_type = await projects.get_type(principal.platform_id, project_id, lock="update")
                if project_type is None:
                    raise await _missing(projects, project_id, principal)
                values: dict[str, Any] = {}
                # As the real server: a PERSONAL project keeps its name and icon.
                if request.displayName is not None and project_type == "TEAM":
                    values["display_name"] = request.displayName
                if request.icon is not None and project_type == "TEAM":
                    values["icon_color"] = request.icon.color.value
                # A platform API key is a platform admin, the only caller allowed this field;
                # a blank externalId means "leave it", as on the real server.
                if "externalId" in sent and (request.externalId is None or request.externalId.strip()):
                    values["external_id"] = request.externalId
                if "metadata" in sent:
                    values["metadata"] = request.metadata
                if request.releasesEnabled is not None:
                    values["releases_enabled"] = request.releasesEnabled
                if "maxConcurrentJobs" in sent:
                    values["max_concurrent_jobs"] = request.maxConcurrentJobs
                if request.notifyFlowOwnerOnFailure is not None:
                    values["notify_flow_owner_on_failure"] = request.notifyFlowOwnerOnFailure
                # null clears them (the real request takes null for both).
                if "workerGroupId" in sent:
                    values["worker_group_id"] = request.workerGroupId
                if "executionDataRetentionDays" in sent:
                    values["execution_data_retention_days"] = request.executionDataRetentionDays
                await projects.update(project_id, values)
                if request.plan is not None:
                    plan_values: dict[str, Any] = {}
                    if request.plan.piecesFilterType is not None:
                        plan_values["pieces_filter_type"] = request.plan.piecesFilterType.value
                    if request.plan.pieces is not None:
                        plan_values["pieces"] = request.plan.pieces
                    if plan_values:
                        await projects.update_plan(project_id, plan_values)
                if request.globalConnectionExternalIds is not None:
                    await self.links.set_project_connections(
                        conn, principal.platform_id, project_id, request.globalConnectionExternalIds
                    )
                row = await self.reads.fetch(conn, principal.platform_id, project_id)
        except ExternalIdTaken:
            raise ProjectExternalIdAlreadyExists(request.externalId or "") from None
        assert row is not None
        return project_body(row, next_month_start())

    async def delete(self, principal: Principal, project_id: str) -> None:
        async with self.db.fast_transaction() as conn:
            projects = ProjectRepository(conn)
            project_type = await projects.get_type(principal.platform_id, project_id, lock="delete")
            if project_type is None:
                # Another platform's project answers as a missing one in both modes: the real
                # server's delete looks the project up on the caller's platform.
                raise ProjectNotFound(project_id)
            if project_type == "PERSONAL":
                raise ValidationFailed("Personal projects cannot be deleted")
            # Flows, versions, connection links and members go by ON DELETE CASCADE, atomically.
            await projects.delete(project_id)
