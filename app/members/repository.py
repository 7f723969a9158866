"""SQL for project roles and project members. Every statement is compiled once."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy import Select, bindparam, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import String

from app.kit.clock import clock
from app.kit.db import CompiledQuery, affected_rows, foreign_key_violation_on, insert_row, iso_text, unique_violation_on
from app.kit.pagination import Cursor, Page, PageQuery, fetch_page
from app.platforms.models import User
from app.projects.models import Project, ProjectMember, ProjectRole

role_t = ProjectRole.__table__
member_t = ProjectMember.__table__
user_t = User.__table__
project_t = Project.__table__

ROLE_NAME_INDEX = "uq_project_role_platform_id_name"
MEMBERSHIP_CONSTRAINT = "uq_project_member_project_id_user_id"


class RoleNameTaken(Exception):
    """Another role of the platform has this name (any case)."""


class PlatformVanished(Exception):
    """The caller's platform was deleted meanwhile."""


def _role_columns(prefix: str = "") -> list[Any]:
    r = role_t.c
    return [
        r.id.label(f"{prefix}id"),
        iso_text(r.created).label(f"{prefix}created_iso"),
        iso_text(r.updated).label(f"{prefix}updated_iso"),
        r.name.label(f"{prefix}name"),
        r.permissions.label(f"{prefix}permissions"),
        r.platform_id.label(f"{prefix}platform_id"),
        r.type.label(f"{prefix}type"),
    ]


def _visible_to_platform() -> Any:
    """The roles a platform sees: the default ones and its own."""
    return or_(role_t.c.platform_id == bindparam("platform_id"), role_t.c.platform_id.is_(None))


_USER_COUNT = (
    select(func.count())
    .select_from(member_t)
    .where(member_t.c.project_role_id == role_t.c.id, member_t.c.platform_id == bindparam("platform_id"))
    .scalar_subquery()
    .label("user_count")
)
LIST_ROLES = CompiledQuery(
    select(*_role_columns(), _USER_COUNT)
    .where(_visible_to_platform())
    .order_by(role_t.c.created.asc(), role_t.c.id.asc())
)
GET_ROLE = CompiledQuery(select(*_role_columns()).where(role_t.c.id == bindparam("role_id"), _visible_to_platform()))
# Case-insensitive, as the real server looks a role up by name.
GET_ROLE_BY_NAME = CompiledQuery(
    select(*_role_columns())
    .where(func.lower(role_t.c.name) == func.lower(bindparam("name")), _visible_to_platform())
    # A platform's own role before a default one of the same name (there is none: names are checked).
    .order_by(role_t.c.platform_id.asc().nulls_last())
    .limit(1)
)
# KEY SHARE: the role cannot be deleted before a member refers to it.
GET_ROLE_BY_NAME_FOR_MEMBER = CompiledQuery(
    select(*_role_columns())
    .where(func.lower(role_t.c.name) == func.lower(bindparam("name")), _visible_to_platform())
    .order_by(role_t.c.platform_id.asc().nulls_last())
    .limit(1)
    .with_for_update(read=True, key_share=True)
)
LOCK_CUSTOM_ROLE = CompiledQuery(
    select(role_t.c.id)
    .where(role_t.c.id == bindparam("role_id"), role_t.c.platform_id == bindparam("platform_id"))
    .with_for_update()
)
DELETE_CUSTOM_ROLE_BY_NAME = CompiledQuery(
    delete(role_t).where(
        role_t.c.platform_id == bindparam("platform_id"), func.lower(role_t.c.name) == func.lower(bindparam("name"))
    )
)


def _update_role(columns: tuple[str, ...]) -> Any:
    values: dict[str, Any] = {"updated": bindparam("now", type_=role_t.c.updated.type)}
    if "name" in columns:
        values["name"] = bindparam("name", type_=String)
    if "permissions" in columns:
        values["permissions"] = bindparam("permissions", type_=ARRAY(String))
    return update(role_t).where(role_t.c.id == bindparam("role_id")).values(values)


_UPDATE_ROLE = {
    columns: CompiledQuery(_update_role(columns))
    for columns in [(), ("name",), ("permissions",), ("name", "permissions")]
}


# --- members

_member_role = role_t.alias("member_role")


def _member_query() -> Select[Any]:
    m, u, r = member_t.c, user_t.c, _member_role.c
    return (
        select(
            m.id,
            m.created,
            iso_text(m.created).label("created_iso"),
            iso_text(m.updated).label("updated_iso"),
            m.platform_id,
            m.project_id,
            m.user_id,
            m.project_role_id,
            u.email.label("user_email"),
            u.first_name.label("user_first_name"),
            u.last_name.label("user_last_name"),
            u.status.label("user_status"),
            u.platform_role.label("user_platform_role"),
            u.external_id.label("user_external_id"),
            u.platform_id.label("user_platform_id"),
            iso_text(u.created).label("user_created_iso"),
            iso_text(u.updated).label("user_updated_iso"),
            iso_text(u.last_active_date).label("user_last_active_date_iso"),
            u.image_url.label("user_image_url"),
            r.id.label("role_id"),
            iso_text(r.created).label("role_created_iso"),
            iso_text(r.updated).label("role_updated_iso"),
            r.name.label("role_name"),
            r.permissions.label("role_permissions"),
            r.platform_id.label("role_platform_id"),
            r.type.label("role_type"),
            project_t.c.display_name.label("project_display_name"),
        )
        .select_from(
            member_t.join(user_t, u.id == m.user_id)
            .join(_member_role, r.id == m.project_role_id)
            .join(project_t, project_t.c.id == m.project_id)
        )
        .where(m.platform_id == bindparam("platform_id"))
    )


MEMBER_QUERY = _member_query()


@functools.cache
def _member_page(by_project: bool, by_role: bool) -> PageQuery:
    query = MEMBER_QUERY
    if by_project:
        query = query.where(member_t.c.project_id == bindparam("project_id"))
    if by_role:
        query = query.where(member_t.c.project_role_id == bindparam("project_role_id"))
    # Oldest first, as the real server lists members.
    return PageQuery(query, sort=(member_t.c.created,), id_=member_t.c.id, descending=False)


async def fetch_member_page(
    conn: asyncpg.Connection,
    platform_id: str,
    *,
    limit: int,
    cursor: Cursor | None,
    project_id: str | None = None,
    project_role_id: str | None = None,
) -> Page:
    values: dict[str, Any] = {"platform_id": platform_id}
    if project_id is not None:
        values["project_id"] = project_id
    if project_role_id is not None:
        values["project_role_id"] = project_role_id
    pages = _member_page(project_id is not None, project_role_id is not None)
    return await fetch_page(conn, pages, values, limit=limit, cursor=cursor)


_MEMBER_COLUMNS = (
    member_t.c.id,
    iso_text(member_t.c.created).label("created_iso"),
    iso_text(member_t.c.updated).label("updated_iso"),
    member_t.c.platform_id,
    member_t.c.project_id,
    member_t.c.user_id,
    member_t.c.project_role_id,
)
LOCK_MEMBER = CompiledQuery(
    select(*_MEMBER_COLUMNS)
    .where(member_t.c.id == bindparam("member_id"), member_t.c.platform_id == bindparam("platform_id"))
    .with_for_update()
)
GET_MEMBER = CompiledQuery(
    select(*_MEMBER_COLUMNS).where(
        member_t.c.id == bindparam("member_id"), member_t.c.platform_id == bindparam("platform_id")
    )
)
MEMBER_EXISTS = CompiledQuery(select(member_t.c.id).where(member_t.c.id == bindparam("member_id")))
SET_MEMBER_ROLE = CompiledQuery(
    update(member_t)
    .where(member_t.c.id == bindparam("member_id"))
    .values(project_role_id=bindparam("project_role_id"), updated=bindparam("now", type_=member_t.c.updated.type))
)
DELETE_MEMBER = CompiledQuery(
    delete(member_t).where(member_t.c.id == bindparam("member_id"), member_t.c.platform_id == bindparam("platform_id"))
)
PROJECT_PLATFORM = CompiledQuery(select(project_t.c.platform_id).where(project_t.c.id == bindparam("project_id")))


class MemberRepository:
    """Runs on a raw asyncpg connection (in a transaction for writes)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    # --- roles

    async def list_roles(self, platform_id: str) -> list[asyncpg.Record]:
        return await LIST_ROLES.fetch(self.conn, platform_id=platform_id)

    async def get_role(self, platform_id: str, role_id: str) -> asyncpg.Record | None:
        return await GET_ROLE.fetchrow(self.conn, platform_id=platform_id, role_id=role_id)

    async def get_role_by_name(self, platform_id: str, name: str, *, key_share: bool = False) -> asyncpg.Record | None:
        query = GET_ROLE_BY_NAME_FOR_MEMBER if key_share else GET_ROLE_BY_NAME
        return await query.fetchrow(self.conn, platform_id=platform_id, name=name)

    @asynccontextmanager
    async def _role_writes(self) -> AsyncIterator[None]:
        try:
            yield
        except asyncpg.UniqueViolationError as exc:
            if unique_violation_on(exc, ROLE_NAME_INDEX):
                raise RoleNameTaken from exc
            raise
        except asyncpg.ForeignKeyViolationError as exc:
            if foreign_key_violation_on(exc, "platform"):
                raise PlatformVanished from exc
            raise

    async def insert_role(self, values: dict[str, Any]) -> None:
        now = clock.now()
        async with self._role_writes():
            await insert_row(self.conn, role_t, {"created": now, "updated": now, **values})

    async def lock_custom_role(self, platform_id: str, role_id: str) -> bool:
        return await LOCK_CUSTOM_ROLE.fetchval(self.conn, platform_id=platform_id, role_id=role_id) is not None

    async def update_role(self, role_id: str, *, name: str | None, permissions: list[str] | None) -> None:
        columns = tuple(c for c, v in (("name", name), ("permissions", permissions)) if v is not None)
        async with self._role_writes():
            await _UPDATE_ROLE[columns].execute(
                self.conn, role_id=role_id, name=name, permissions=permissions, now=clock.now()
            )

    async def delete_custom_role(self, platform_id: str, name: str) -> int:
        return affected_rows(await DELETE_CUSTOM_ROLE_BY_NAME.execute(self.conn, platform_id=platform_id, name=name))

    # --- members

    async def project_platform(self, project_id: str) -> str | None:
        return await PROJECT_PLATFORM.fetchval(self.conn, project_id=project_id)

    async def get_member(self, platform_id: str, member_id: str, *, lock: bool = False) -> asyncpg.Record | None:
        query = LOCK_MEMBER if lock else GET_MEMBER
        return await query.fetchrow(self.conn, platform_id=platform_id, member_id=member_id)

    async def member_exists_on_any_platform(self, member_id: str) -> bool:
        return await MEMBER_EXISTS.fetchval(self.conn, member_id=member_id) is not None

    async def set_member_role(self, member_id: str, project_role_id: str) -> None:
        await SET_MEMBER_ROLE.execute(self.conn, member_id=member_id, project_role_id=project_role_id, now=clock.now())

    async def delete_member(self, platform_id: str, member_id: str) -> bool:
        status = await DELETE_MEMBER.execute(self.conn, platform_id=platform_id, member_id=member_id)
        return affected_rows(status) > 0
