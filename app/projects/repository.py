"""SQL for projects. A project is always read whole (plan and analytics included) in one query."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Literal

import asyncpg
from sqlalchemy import ColumnElement, Select, String, any_, bindparam, delete, func, or_, select
from sqlalchemy.dialects.postgresql import ARRAY

from app.kit.clock import clock
from app.kit.db import (
    CompiledQuery,
    compiled,
    foreign_key_violation_on,
    insert_row,
    iso_text,
    unique_violation_on,
    update_row,
)
from app.kit.ids import new_id
from app.kit.pagination import Cursor, Page, PageQuery, fetch_page
from app.platforms.models import User
from app.projects.models import Project, ProjectMember, ProjectPlan

project_t = Project.__table__
plan_t = ProjectPlan.__table__
member_t = ProjectMember.__table__
user_t = User.__table__


def _count(table: Any, *conditions: ColumnElement[bool]) -> Any:
    return select(func.count()).select_from(table).where(*conditions).scalar_subquery()


FlowCounts = Callable[[ColumnElement[str]], list[Any]]
"""totalFlows and activeFlows of the project whose id is the given column, as labelled columns."""


def _full_project_query(flow_counts: FlowCounts) -> Select[Any]:
    p = project_t.c
    members = member_t.join(user_t, user_t.c.id == member_t.c.user_id)
    return select(
        p.id,
        p.created,
        iso_text(p.created).label("created_iso"),
        iso_text(p.updated).label("updated_iso"),
        p.platform_id,
        p.owner_id,
        p.display_name,
        p.type,
        p.external_id,
        p.metadata,
        p.max_concurrent_jobs,
        p.releases_enabled,
        p.icon_color,
        p.notify_status,
        p.pool_id,
        p.notify_flow_owner_on_failure,
        p.worker_group_id,
        p.execution_data_retention_days,
        plan_t.c.id.label("plan_id"),
        iso_text(plan_t.c.created).label("plan_created_iso"),
        iso_text(plan_t.c.updated).label("plan_updated_iso"),
        plan_t.c.name.label("plan_name"),
        plan_t.c.locked.label("plan_locked"),
        plan_t.c.pieces_filter_type.label("plan_pieces_filter_type"),
        plan_t.c.pieces.label("plan_pieces"),
        plan_t.c.tasks.label("plan_tasks"),
        plan_t.c.ai_credits.label("plan_ai_credits"),
        _count(member_t, member_t.c.project_id == p.id).label("total_users"),
        _count(members, member_t.c.project_id == p.id, user_t.c.status == "ACTIVE").label("active_users"),
        *flow_counts(p.id),
    ).join(plan_t, plan_t.c.project_id == p.id)


class ProjectReads:
    """The one query that reads a project whole (plan, members and analytics), built once and
    compiled once per use: by id, and one set of page queries per combination of list filters.
    Its flow counts come from the flows domain, which sits above projects: `app.services` hands
    them in, so projects never imports flows."""

    def __init__(self, flow_counts: FlowCounts) -> None:
        self.query = _full_project_query(flow_counts)
        self.by_id = CompiledQuery(
            self.query.where(
                project_t.c.id == bindparam("project_id"), project_t.c.platform_id == bindparam("platform_id")
            )
        )
        self._pages: dict[tuple[bool, bool, bool, bool], PageQuery] = {}

    async def fetch(self, conn: asyncpg.Connection, platform_id: str, project_id: str) -> asyncpg.Record | None:
        """One indexed query on a raw asyncpg connection (in the caller's transaction, if any)."""
        return await self.by_id.fetchrow(conn, project_id=project_id, platform_id=platform_id)

    def pages(self, by_external_id: bool, by_display_name: bool, by_types: bool, by_external_user: bool) -> PageQuery:
        """The list query for one combination of filters (a filter's value is a bind parameter)."""
        shape = (by_external_id, by_display_name, by_types, by_external_user)
        if shape not in self._pages:
            query = self.query.where(project_t.c.platform_id == bindparam("platform_id"))
            if by_external_id:
                query = query.where(project_t.c.external_id == bindparam("external_id"))
            if by_display_name:
                query = query.where(project_t.c.display_name.icontains(bindparam("display_name")))
            if by_types:
                query = query.where(project_t.c.type == any_(bindparam("types", type_=ARRAY(String))))
            if by_external_user:
                # As the real server: the platform's user with that externalId, then the projects
                # it owns or is a member of; no such user, no projects.
                users = select(user_t.c.id).where(
                    user_t.c.platform_id == bindparam("platform_id"),
                    user_t.c.external_id == bindparam("external_user_id"),
                )
                memberships = select(member_t.c.project_id).where(member_t.c.user_id.in_(users))
                query = query.where(or_(project_t.c.owner_id.in_(users), project_t.c.id.in_(memberships)))
            # As the real server (platform-project-service.ts): PERSONAL before TEAM, then by name.
            self._pages[shape] = PageQuery(
                query, sort=(project_t.c.type, project_t.c.display_name), id_=project_t.c.id, descending=False
            )
        return self._pages[shape]

    async def list_page(
        self,
        conn: asyncpg.Connection,
        platform_id: str,
        *,
        limit: int,
        cursor: Cursor | None,
        external_id: str | None = None,
        display_name: str | None = None,
        types: list[str] | None = None,
        external_user_id: str | None = None,
    ) -> Page:
        pages = self.pages(external_id is not None, bool(display_name), bool(types), external_user_id is not None)
        values: dict[str, Any] = {"platform_id": platform_id}
        if external_id is not None:
            values["external_id"] = external_id
        if display_name:
            values["display_name"] = display_name
        if types:
            values["types"] = types
        if external_user_id is not None:
            values["external_user_id"] = external_user_id
        return await fetch_page(conn, pages, values, limit=limit, cursor=cursor)


class ExternalIdTaken(Exception):
    """The platform already has a project with this externalId."""


class PlatformVanished(Exception):
    """The platform (or its owner) was deleted meanwhile: its API key was still trusted by a replica
    that had not yet heard of the deletion."""


EXTERNAL_ID_INDEX = "uq_project_platform_id_external_id"


def _project_type(lock: Literal["update", "delete"] | None) -> Select[Any]:
    query = select(project_t.c.type).where(
        project_t.c.id == bindparam("project_id"), project_t.c.platform_id == bindparam("platform_id")
    )
    return query.with_for_update(key_share=lock == "update") if lock is not None else query


COUNT_TEAM_PROJECTS = CompiledQuery(
    select(func.count())
    .select_from(project_t)
    .where(project_t.c.platform_id == bindparam("platform_id"), project_t.c.type == "TEAM")
)
PROJECT_EXISTS = CompiledQuery(select(project_t.c.id).where(project_t.c.id == bindparam("project_id")))
DELETE_PROJECT = CompiledQuery(delete(project_t).where(project_t.c.id == bindparam("project_id")))


class ProjectRepository:
    """Runs on a raw asyncpg connection (in a transaction for writes); every statement is compiled once."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    @asynccontextmanager
    async def _external_id_unique(self) -> AsyncIterator[None]:
        try:
            yield
        except asyncpg.UniqueViolationError as exc:
            if unique_violation_on(exc, EXTERNAL_ID_INDEX):
                raise ExternalIdTaken from exc
            raise
        except asyncpg.ForeignKeyViolationError as exc:
            if foreign_key_violation_on(exc, "platform", "user"):
                raise PlatformVanished from exc
            raise

    async def exists_on_any_platform(self, project_id: str) -> bool:
        return await PROJECT_EXISTS.fetchval(self.conn, project_id=project_id) is not None

    async def get_type(
        self, platform_id: str, project_id: str, *, lock: Literal["update", "delete"] | None = None
    ) -> str | None:
        """The project's type, optionally locking its row: "update" (FOR NO KEY UPDATE) still lets
        other transactions link to the project (their foreign keys take KEY SHARE), so an update of
        a project and of a connection never deadlock; "delete" (FOR UPDATE) excludes them."""
        query = compiled(_project_type, lock)
        return await query.fetchval(self.conn, project_id=project_id, platform_id=platform_id)

    async def count_team_projects(self, platform_id: str) -> int:
        return int(await COUNT_TEAM_PROJECTS.fetchval(self.conn, platform_id=platform_id) or 0)

    async def insert(self, values: dict[str, Any], plan: dict[str, Any]) -> None:
        """Insert a project with its plan. Its owner is not made a member: the real server does not
        either, so a new project's analytics count 0 users."""
        now = clock.now()
        async with self._external_id_unique():
            await insert_row(self.conn, project_t, {"created": now, "updated": now, **values})
        await insert_row(
            self.conn, plan_t, {"id": new_id(), "created": now, "updated": now, "project_id": values["id"], **plan}
        )

    async def update(self, project_id: str, values: dict[str, Any]) -> None:
        async with self._external_id_unique():
            await update_row(self.conn, project_t, project_id, values)

    async def update_plan(self, project_id: str, values: dict[str, Any]) -> None:
        await update_row(self.conn, plan_t, project_id, values, key="project_id")

    async def delete(self, project_id: str) -> None:
        await DELETE_PROJECT.execute(self.conn, project_id=project_id)
