"""SQL for projects. A project is always read whole (plan and analytics included) in one query."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

import asyncpg
from sqlalchemy import ColumnElement, Executable, Select, bindparam, delete, func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from app.db import CompiledQuery, iso_text, unique_violation_on
from app.pagination import Cursor, Page, paginate
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
    """The one query that reads a project whole (plan, members and analytics), built and compiled
    once. Its flow counts come from the flows domain, which sits above projects: `app.main` hands
    them in, so projects never imports flows."""

    def __init__(self, flow_counts: FlowCounts) -> None:
        self.query = _full_project_query(flow_counts)
        self._by_id = CompiledQuery(
            self.query.where(
                project_t.c.id == bindparam("project_id"), project_t.c.platform_id == bindparam("platform_id")
            )
        )

    async def fetch(self, conn: asyncpg.Connection, platform_id: str, project_id: str) -> asyncpg.Record | None:
        """The hot path of `GET /v1/projects/{id}`: one indexed query on a raw asyncpg connection."""
        return await self._by_id.fetchrow(conn, project_id=project_id, platform_id=platform_id)

    async def get(self, conn: AsyncConnection, platform_id: str, project_id: str) -> RowMapping | None:
        query = self.query.where(project_t.c.id == project_id, project_t.c.platform_id == platform_id)
        return (await conn.execute(query)).mappings().first()

    async def list_page(
        self,
        conn: AsyncConnection,
        platform_id: str,
        *,
        limit: int,
        cursor: Cursor | None,
        external_id: str | None = None,
        display_name: str | None = None,
        types: list[str] | None = None,
    ) -> Page:
        query = self.query.where(project_t.c.platform_id == platform_id)
        if external_id is not None:
            query = query.where(project_t.c.external_id == external_id)
        if display_name:
            query = query.where(project_t.c.display_name.icontains(display_name, autoescape=True))
        if types:
            query = query.where(project_t.c.type.in_(types))
        return await paginate(conn, query, created=project_t.c.created, id_=project_t.c.id, limit=limit, cursor=cursor)


class ExternalIdTaken(Exception):
    """The platform already has a project with this externalId."""


EXTERNAL_ID_INDEX = "uq_project_platform_id_external_id"


class ProjectRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def _write(self, statement: Executable) -> None:
        try:
            await self.conn.execute(statement)
        except IntegrityError as exc:
            if unique_violation_on(exc, EXTERNAL_ID_INDEX):
                raise ExternalIdTaken from exc
            raise

    async def exists_on_any_platform(self, project_id: str) -> bool:
        return await self.conn.scalar(select(project_t.c.id).where(project_t.c.id == project_id)) is not None

    async def get_type(
        self, platform_id: str, project_id: str, *, lock: Literal["update", "delete"] | None = None
    ) -> str | None:
        """The project's type, optionally locking its row: "update" (FOR NO KEY UPDATE) still lets
        other transactions link to the project (their foreign keys take KEY SHARE), so an update of
        a project and of a connection never deadlock; "delete" (FOR UPDATE) excludes them."""
        query = select(project_t.c.type).where(project_t.c.id == project_id, project_t.c.platform_id == platform_id)
        if lock is not None:
            query = query.with_for_update(key_share=lock == "update")
        return await self.conn.scalar(query)

    async def count_team_projects(self, platform_id: str) -> int:
        return int(
            await self.conn.scalar(
                select(func.count())
                .select_from(project_t)
                .where(project_t.c.platform_id == platform_id, project_t.c.type == "TEAM")
            )
            or 0
        )

    async def external_id_in_use(self, platform_id: str, external_id: str, except_id: str | None) -> bool:
        conditions = [project_t.c.platform_id == platform_id, project_t.c.external_id == external_id]
        if except_id is not None:
            conditions.append(project_t.c.id != except_id)
        found = await self.conn.scalar(select(project_t.c.id).where(*conditions).limit(1))
        return found is not None

    async def insert(self, values: dict[str, Any], plan: dict[str, Any]) -> None:
        """Insert a project with its plan. Its owner is not made a member: the real server does not
        either, so a new project's analytics count 0 users."""
        from app.ids import new_id

        now = datetime.now(UTC)
        await self._write(insert(project_t).values(created=now, updated=now, **values))
        await self.conn.execute(
            insert(plan_t).values(id=new_id(), created=now, updated=now, project_id=values["id"], **plan)
        )

    async def update(self, project_id: str, values: dict[str, Any]) -> None:
        await self._write(update(project_t).where(project_t.c.id == project_id).values(updated=func.now(), **values))

    async def update_plan(self, project_id: str, values: dict[str, Any]) -> None:
        await self.conn.execute(
            update(plan_t).where(plan_t.c.project_id == project_id).values(updated=func.now(), **values)
        )

    async def touch(self, project_id: str) -> None:
        await self.conn.execute(update(project_t).where(project_t.c.id == project_id).values(updated=func.now()))

    async def delete(self, project_id: str) -> None:
        await self.conn.execute(delete(project_t).where(project_t.c.id == project_id))
