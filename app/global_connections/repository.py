"""SQL for global connections and their project links. Reads never select the encrypted value."""

from __future__ import annotations

import functools
from typing import Any

import asyncpg
from sqlalchemy import ColumnElement, Select, all_, any_, bindparam, delete, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by, array_agg
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.types import String

from app.flows.repository import flows_using_connection
from app.global_connections.models import AppConnection, AppConnectionProject
from app.kit.db import (
    LIKE_ESCAPE,
    CompiledQuery,
    affected_rows,
    compiled,
    escape_like,
    foreign_key_violation_on,
    iso_text,
    update_row,
)
from app.kit.pagination import Cursor, Page, PageQuery, fetch_page
from app.platforms.models import User
from app.projects.models import Project

connection_t = AppConnection.__table__
link_t = AppConnectionProject.__table__
user_t = User.__table__
project_t = Project.__table__

EMPTY_TEXT_ARRAY = literal([], ARRAY(String))


class ProjectLinkVanished(Exception):
    """A project being linked was deleted by a concurrent request."""


class PlatformVanished(Exception):
    """The platform (or its owner) the connection belongs to was deleted meanwhile: its API key was
    still trusted by a replica that had not yet heard of the deletion."""


def _project_ids(connection_id: ColumnElement[str]) -> Any:
    ordered = aggregate_order_by(link_t.c.project_id, link_t.c.linked_at, link_t.c.project_id)
    return func.coalesce(
        select(array_agg(ordered)).where(link_t.c.connection_id == connection_id).scalar_subquery(),
        EMPTY_TEXT_ARRAY,
    )


def _flow_ids(connection: Any) -> Any:
    """`flowIds`: the flows domain (below this one) answers which flows use the connection."""
    return flows_using_connection(connection.c.platform_id, connection.c.external_id)


def _full_connection_query() -> Select[Any]:
    c = connection_t.c
    return select(
        c.id,
        c.created,
        iso_text(c.created).label("created_iso"),
        iso_text(c.updated).label("updated_iso"),
        c.platform_id,
        c.external_id,
        c.display_name,
        c.piece_name,
        c.piece_version,
        c.type,
        c.scope,
        c.status,
        c.owner_id,
        c.metadata,
        c.pre_select_for_new_projects,
        user_t.c.email.label("owner_email"),
        user_t.c.first_name.label("owner_first_name"),
        user_t.c.last_name.label("owner_last_name"),
        user_t.c.status.label("owner_status"),
        user_t.c.platform_role.label("owner_platform_role"),
        iso_text(user_t.c.created).label("owner_created_iso"),
        iso_text(user_t.c.updated).label("owner_updated_iso"),
        user_t.c.external_id.label("owner_external_id"),
        iso_text(user_t.c.last_active_date).label("owner_last_active_date_iso"),
        user_t.c.image_url.label("owner_image_url"),
        _project_ids(c.id).label("project_ids"),
        _flow_ids(connection_t).label("flow_ids"),
    ).select_from(connection_t.outerjoin(user_t, user_t.c.id == c.owner_id))


FULL_CONNECTION_QUERY = _full_connection_query()


@functools.cache
def _connection_page(by_piece: bool, by_display_name: bool, by_status: bool, by_scope: bool) -> PageQuery:
    """The list query for one combination of filters (a filter's value is a bind parameter)."""
    query = FULL_CONNECTION_QUERY.where(connection_t.c.platform_id == bindparam("platform_id"))
    if by_piece:
        query = query.where(connection_t.c.piece_name == bindparam("piece_name"))
    if by_display_name:
        query = query.where(connection_t.c.display_name.icontains(bindparam("display_name"), escape=LIKE_ESCAPE))
    if by_status:
        query = query.where(connection_t.c.status == any_(bindparam("statuses", type_=ARRAY(String))))
    if by_scope:
        query = query.where(connection_t.c.scope == bindparam("scope"))
    return PageQuery(query, created=connection_t.c.created, id_=connection_t.c.id)


async def fetch_connection_page(
    conn: asyncpg.Connection,
    platform_id: str,
    *,
    limit: int,
    cursor: Cursor | None,
    piece_name: str | None,
    display_name: str | None,
    statuses: list[str] | None,
    scope: str | None,
) -> Page:
    pages = _connection_page(piece_name is not None, bool(display_name), bool(statuses), scope is not None)
    values: dict[str, Any] = {"platform_id": platform_id}
    if piece_name is not None:
        values["piece_name"] = piece_name
    if display_name:
        values["display_name"] = escape_like(display_name)
    if statuses:
        values["statuses"] = statuses
    if scope is not None:
        values["scope"] = scope
    return await fetch_page(conn, pages, values, limit=limit, cursor=cursor)


GET_FULL_CONNECTION = CompiledQuery(
    FULL_CONNECTION_QUERY.where(
        connection_t.c.id == bindparam("connection_id"), connection_t.c.platform_id == bindparam("platform_id")
    )
)
LOCK_CONNECTION = CompiledQuery(
    select(connection_t.c.id)
    .where(connection_t.c.id == bindparam("connection_id"), connection_t.c.platform_id == bindparam("platform_id"))
    # NO KEY UPDATE: projects may still link to it meanwhile (see ProjectRepository.get_type).
    .with_for_update(key_share=True)
)
DELETE_CONNECTION = CompiledQuery(
    delete(connection_t).where(
        connection_t.c.id == bindparam("connection_id"), connection_t.c.platform_id == bindparam("platform_id")
    )
)
TEXT_ARRAY = ARRAY(String)
# KEY SHARE: a project found here cannot be deleted before the links are made.
PROJECTS_IN_PLATFORM = CompiledQuery(
    select(project_t.c.id)
    .where(
        project_t.c.platform_id == bindparam("platform_id"),
        project_t.c.id == any_(bindparam("project_ids", type_=TEXT_ARRAY)),
    )
    .with_for_update(read=True, key_share=True)
)
UNLINK_OTHER_PROJECTS = CompiledQuery(
    delete(link_t).where(
        link_t.c.connection_id == bindparam("connection_id"),
        link_t.c.project_id != all_(bindparam("project_ids", type_=TEXT_ARRAY)),
    )
)
UNLINK_OTHER_CONNECTIONS = CompiledQuery(
    delete(link_t).where(
        link_t.c.project_id == bindparam("project_id"),
        link_t.c.connection_id != all_(bindparam("connection_ids", type_=TEXT_ARRAY)),
    )
)
# One statement for all the links: clock_timestamp() is read row by row, so `linked_at` keeps the order.
LINK = CompiledQuery(
    pg_insert(link_t)
    .from_select(
        [link_t.c.connection_id, link_t.c.project_id],
        select(
            func.unnest(bindparam("connection_ids", type_=TEXT_ARRAY)),
            func.unnest(bindparam("project_ids", type_=TEXT_ARRAY)),
        ),
    )
    .on_conflict_do_nothing()
)
# KEY SHARE: a connection found here cannot be deleted before the links are made.
IDS_BY_EXTERNAL_IDS = CompiledQuery(
    select(connection_t.c.external_id, connection_t.c.id)
    .where(
        connection_t.c.platform_id == bindparam("platform_id"),
        connection_t.c.scope == "PLATFORM",
        connection_t.c.external_id == any_(bindparam("external_ids", type_=TEXT_ARRAY)),
    )
    .with_for_update(read=True, key_share=True)
)
PRESELECTED_IDS = CompiledQuery(
    select(connection_t.c.id)
    .where(connection_t.c.platform_id == bindparam("platform_id"), connection_t.c.pre_select_for_new_projects)
    .order_by(connection_t.c.created, connection_t.c.id)
    .with_for_update(read=True, key_share=True)
)


def _upsert(columns: tuple[str, ...]) -> Any:
    statement = pg_insert(connection_t).values(
        {name: bindparam("v_" + name, type_=connection_t.c[name].type) for name in columns}
    )
    changed: dict[str, Any] = {
        name: statement.excluded[name] for name in columns if name not in ("id", "platform_id", "external_id")
    }
    changed["updated"] = func.now()
    return statement.on_conflict_do_update(
        index_elements=[connection_t.c.platform_id, connection_t.c.external_id], set_=changed
    ).returning(connection_t.c.id)


class GlobalConnectionRepository:
    """Runs on a raw asyncpg connection (in a transaction for writes); every statement is compiled once."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def get_full(self, platform_id: str, connection_id: str) -> asyncpg.Record | None:
        return await GET_FULL_CONNECTION.fetchrow(self.conn, connection_id=connection_id, platform_id=platform_id)

    async def lock(self, platform_id: str, connection_id: str) -> bool:
        found = await LOCK_CONNECTION.fetchval(self.conn, connection_id=connection_id, platform_id=platform_id)
        return found is not None

    async def upsert(self, values: dict[str, Any]) -> str:
        """Insert, or update the platform's connection with the same externalId. Atomic: two
        concurrent upserts of one externalId make one row. Returns the row's id."""
        statement = compiled(_upsert, tuple(values))
        try:
            return str(await statement.fetchval(self.conn, **{"v_" + k: v for k, v in values.items()}))
        except asyncpg.ForeignKeyViolationError as exc:
            if foreign_key_violation_on(exc, "platform", "user"):
                raise PlatformVanished from exc
            raise

    async def update(self, connection_id: str, values: dict[str, Any]) -> None:
        await update_row(self.conn, connection_t, connection_id, values)

    async def delete(self, platform_id: str, connection_id: str) -> bool:
        status = await DELETE_CONNECTION.execute(self.conn, connection_id=connection_id, platform_id=platform_id)
        return affected_rows(status) > 0

    async def projects_outside_platform(self, platform_id: str, project_ids: list[str]) -> list[str]:
        """The ids in `project_ids` that are not projects of the platform, in the order given."""
        if not project_ids:
            return []
        rows = await PROJECTS_IN_PLATFORM.fetch(self.conn, platform_id=platform_id, project_ids=list(set(project_ids)))
        found = {row[0] for row in rows}
        return [pid for pid in project_ids if pid not in found]

    async def replace_projects(self, connection_id: str, project_ids: list[str]) -> None:
        """Make the connection's projects exactly `project_ids`, keeping the order of existing links."""
        wanted = list(dict.fromkeys(project_ids))
        await UNLINK_OTHER_PROJECTS.execute(self.conn, connection_id=connection_id, project_ids=wanted)
        await self._link([(connection_id, pid) for pid in wanted])

    async def _link(self, pairs: list[tuple[str, str]]) -> None:
        if not pairs:
            return
        try:
            await LINK.execute(
                self.conn,
                connection_ids=[connection_id for connection_id, _ in pairs],
                project_ids=[project_id for _, project_id in pairs],
            )
        except asyncpg.IntegrityConstraintViolationError as exc:  # a project was deleted by a concurrent request
            raise ProjectLinkVanished from exc

    # --- the project side of the relation

    async def ids_by_external_ids(self, platform_id: str, external_ids: list[str]) -> dict[str, str]:
        if not external_ids:
            return {}
        rows = await IDS_BY_EXTERNAL_IDS.fetch(self.conn, platform_id=platform_id, external_ids=list(set(external_ids)))
        return {external_id: connection_id for external_id, connection_id in rows}

    async def preselected_ids(self, platform_id: str) -> list[str]:
        return [row[0] for row in await PRESELECTED_IDS.fetch(self.conn, platform_id=platform_id)]

    async def set_project_connections(self, project_id: str, connection_ids: list[str]) -> None:
        """Make the project's global connections exactly `connection_ids`."""
        wanted = list(dict.fromkeys(connection_ids))
        await UNLINK_OTHER_CONNECTIONS.execute(self.conn, project_id=project_id, connection_ids=wanted)
        await self._link([(cid, project_id) for cid in wanted])

    async def add_project_connections(self, project_id: str, connection_ids: list[str]) -> None:
        await self._link([(cid, project_id) for cid in dict.fromkeys(connection_ids)])
