"""SQL for a platform's users (the `user` table of `app.platforms.models`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy import String, any_, bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import ARRAY

from app.kit.db import CompiledQuery, foreign_key_violation_on, insert_row, iso_text, unique_violation_on, update_row
from app.kit.pagination import Cursor, Page, PageQuery, fetch_page
from app.platforms.models import User
from app.projects.models import Project, ProjectMember

user_t = User.__table__
project_t = Project.__table__

EMAIL_INDEX = "uq_user_platform_id_email"
EXTERNAL_ID_INDEX = "uq_user_platform_id_external_id"


class EmailTaken(Exception):
    """The platform already has a user with this email (any case)."""


class ExternalIdTaken(Exception):
    """The platform already has a user with this externalId."""


class PlatformVanished(Exception):
    """The platform was deleted meanwhile."""


_c = user_t.c
_USER_COLUMNS = (
    _c.id,
    _c.created,
    iso_text(_c.created).label("created_iso"),
    iso_text(_c.updated).label("updated_iso"),
    _c.platform_id,
    _c.email,
    _c.first_name,
    _c.last_name,
    _c.platform_role,
    _c.status,
    _c.external_id,
    _c.image_url,
    iso_text(_c.last_active_date).label("last_active_date_iso"),
)
_of_platform = select(*_USER_COLUMNS).where(_c.platform_id == bindparam("platform_id"))
GET_USER = CompiledQuery(_of_platform.where(_c.id == bindparam("user_id")))
# Updates and deletes of one user take turns on its row.
LOCK_USER = CompiledQuery(_of_platform.where(_c.id == bindparam("user_id")).with_for_update())
USER_EXISTS = CompiledQuery(select(_c.id).where(_c.id == bindparam("user_id")))
DELETE_USER = CompiledQuery(delete(user_t).where(_c.id == bindparam("user_id")))
# A TEAM project the user owns stays with the platform: its owner takes it over.
HAND_OVER_TEAM_PROJECTS = CompiledQuery(
    update(project_t)
    .where(project_t.c.owner_id == bindparam("user_id"), project_t.c.type == "TEAM")
    .values(owner_id=bindparam("new_owner_id"))
)
PAGES = PageQuery(_of_platform, sort=(_c.created,), id_=_c.id)
PAGES_BY_EXTERNAL_ID = PageQuery(
    _of_platform.where(_c.external_id == bindparam("external_id")), sort=(_c.created,), id_=_c.id
)


class UserRepository:
    """Runs on a raw asyncpg connection (in a transaction for writes); every statement is compiled once."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    @asynccontextmanager
    async def _unique(self) -> AsyncIterator[None]:
        try:
            yield
        except asyncpg.UniqueViolationError as exc:
            if unique_violation_on(exc, EMAIL_INDEX):
                raise EmailTaken from exc
            if unique_violation_on(exc, EXTERNAL_ID_INDEX):
                raise ExternalIdTaken from exc
            raise
        except asyncpg.ForeignKeyViolationError as exc:
            if foreign_key_violation_on(exc, "platform"):
                raise PlatformVanished from exc
            raise

    async def get(self, platform_id: str, user_id: str, *, lock: bool = False) -> asyncpg.Record | None:
        return await (LOCK_USER if lock else GET_USER).fetchrow(self.conn, platform_id=platform_id, user_id=user_id)

    async def exists_on_any_platform(self, user_id: str) -> bool:
        return await USER_EXISTS.fetchval(self.conn, user_id=user_id) is not None

    async def list_page(self, platform_id: str, *, limit: int, cursor: Cursor | None, external_id: str | None) -> Page:
        values: dict[str, Any] = {"platform_id": platform_id}
        pages = PAGES
        if external_id is not None:
            pages, values["external_id"] = PAGES_BY_EXTERNAL_ID, external_id
        return await fetch_page(self.conn, pages, values, limit=limit, cursor=cursor)

    async def insert(self, values: dict[str, Any]) -> None:
        async with self._unique():
            await insert_row(self.conn, user_t, values)

    async def update(self, user_id: str, values: dict[str, Any]) -> None:
        async with self._unique():
            await update_row(self.conn, user_t, user_id, values)

    async def hand_over_team_projects(self, user_id: str, new_owner_id: str) -> None:
        await HAND_OVER_TEAM_PROJECTS.execute(self.conn, user_id=user_id, new_owner_id=new_owner_id)

    async def delete(self, user_id: str) -> None:
        await DELETE_USER.execute(self.conn, user_id=user_id)


member_t = ProjectMember.__table__
PROJECTS_OF_PLATFORM = CompiledQuery(
    select(project_t.c.id).where(
        project_t.c.platform_id == bindparam("platform_id"),
        project_t.c.id == any_(bindparam("project_ids", type_=ARRAY(String))),
    )
)


class MembershipRepository:
    """A user's project memberships (the `project_member` rows a project's analytics count)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def projects_outside_platform(self, platform_id: str, project_ids: list[str]) -> list[str]:
        rows = await PROJECTS_OF_PLATFORM.fetch(self.conn, platform_id=platform_id, project_ids=project_ids)
        found = {row[0] for row in rows}
        return [project_id for project_id in project_ids if project_id not in found]

    async def insert(self, values: dict[str, Any]) -> None:
        await insert_row(self.conn, member_t, values)
