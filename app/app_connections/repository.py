"""SQL for app connections of both scopes: the full read (owner, projectIds, flowIds), the page
query, the upsert and the project links. Reads never select the encrypted value."""

from __future__ import annotations

import functools
from typing import Any

import asyncpg
from sqlalchemy import ColumnElement, Select, all_, any_, bindparam, delete, exists, func, literal, select, text
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by, array_agg
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.types import String

from app.app_connections.models import AppConnection, AppConnectionProject
from app.flows.repository import flows_using_connection
from app.kit.clock import clock
from app.kit.db import (
    CompiledQuery,
    affected_rows,
    compiled,
    foreign_key_violation_on,
    insert_row,
    iso_text,
    update_row,
)
from app.kit.pagination import Cursor, Page, PageQuery, fetch_page
from app.platforms.models import Platform, User
from app.projects.models import Project, ProjectMember

connection_t = AppConnection.__table__
link_t = AppConnectionProject.__table__
user_t = User.__table__
project_t = Project.__table__
member_t = ProjectMember.__table__
platform_t = Platform.__table__

EMPTY_TEXT_ARRAY = literal([], ARRAY(String))
TEXT_ARRAY = ARRAY(String)


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
    return flows_using_connection(connection.c.platform_id, connection.c.external_id, connection.c.project_id)


def _full_connection_query() -> Select[Any]:
    c = connection_t.c
    return select(
        c.id,
        c.created,
        iso_text(c.created).label("created_iso"),
        iso_text(c.updated).label("updated_iso"),
        c.platform_id,
        c.project_id,
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


def _linked_to(project_id: Any) -> ColumnElement[bool]:
    """The connection is one of the project's: its own, or a global one the project is linked to."""
    return exists(
        select(link_t.c.connection_id).where(
            link_t.c.connection_id == connection_t.c.id, link_t.c.project_id == project_id
        )
    )


@functools.cache
def _connection_page(
    by_project: bool, by_piece: bool, by_display_name: bool, by_status: bool, by_scope: bool
) -> PageQuery:
    """The list query for one combination of filters (a filter's value is a bind parameter)."""
    query = FULL_CONNECTION_QUERY.where(connection_t.c.platform_id == bindparam("platform_id"))
    if by_project:
        query = query.where(_linked_to(bindparam("project_id")))
    if by_piece:
        query = query.where(connection_t.c.piece_name == bindparam("piece_name"))
    if by_display_name:
        query = query.where(connection_t.c.display_name.icontains(bindparam("display_name")))
    if by_status:
        query = query.where(connection_t.c.status == any_(bindparam("statuses", type_=TEXT_ARRAY)))
    if by_scope:
        query = query.where(connection_t.c.scope == bindparam("scope"))
    # Oldest first, as the real server lists connections (app-connection-service.ts, `order: 'ASC'`).
    return PageQuery(query, sort=(connection_t.c.created,), id_=connection_t.c.id, descending=False)


async def fetch_connection_page(
    conn: asyncpg.Connection,
    platform_id: str,
    *,
    project_id: str | None = None,
    limit: int,
    cursor: Cursor | None,
    piece_name: str | None,
    display_name: str | None,
    statuses: list[str] | None,
    scope: str | None,
) -> Page:
    """The platform's connections (of every scope), or with `project_id` those of that project."""
    pages = _connection_page(
        project_id is not None, piece_name is not None, bool(display_name), bool(statuses), scope is not None
    )
    values: dict[str, Any] = {"platform_id": platform_id}
    if project_id is not None:
        values["project_id"] = project_id
    if piece_name is not None:
        values["piece_name"] = piece_name
    if display_name:
        values["display_name"] = display_name
    if statuses:
        values["statuses"] = statuses
    if scope is not None:
        values["scope"] = scope
    return await fetch_page(conn, pages, values, limit=limit, cursor=cursor)


_IN_PLATFORM = (connection_t.c.id == bindparam("connection_id"), connection_t.c.platform_id == bindparam("platform_id"))
GET_FULL_CONNECTION = CompiledQuery(FULL_CONNECTION_QUERY.where(*_IN_PLATFORM))
GET_FULL_CONNECTION_OF_PROJECT = CompiledQuery(
    FULL_CONNECTION_QUERY.where(*_IN_PLATFORM, _linked_to(bindparam("project_id")))
)
# NO KEY UPDATE: projects may still link to it meanwhile (see ProjectRepository.get_type).
LOCK_CONNECTION = CompiledQuery(
    select(connection_t.c.id, connection_t.c.scope)
    .where(*_IN_PLATFORM, connection_t.c.scope == bindparam("scope"))
    .with_for_update(key_share=True)
)
LOCK_CONNECTION_OF_PROJECT = CompiledQuery(
    select(connection_t.c.id, connection_t.c.scope, connection_t.c.external_id, connection_t.c.piece_name)
    .where(*_IN_PLATFORM, _linked_to(bindparam("project_id")))
    .with_for_update(key_share=True)
)
DELETE_CONNECTION = CompiledQuery(delete(connection_t).where(*_IN_PLATFORM, connection_t.c.scope == bindparam("scope")))
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
# One statement for all the links, each with its own reading of the clock: `linked_at` keeps the order.
LINK = CompiledQuery(
    pg_insert(link_t)
    .from_select(
        [link_t.c.connection_id, link_t.c.project_id, link_t.c.linked_at],
        select(
            func.unnest(bindparam("connection_ids", type_=TEXT_ARRAY)),
            func.unnest(bindparam("project_ids", type_=TEXT_ARRAY)),
            func.unnest(bindparam("linked_at", type_=ARRAY(link_t.c.linked_at.type))),
        ),
    )
    .on_conflict_do_nothing()
)
PROJECT_CONNECTION_ID = CompiledQuery(
    select(connection_t.c.id).where(
        connection_t.c.project_id == bindparam("project_id"),
        connection_t.c.external_id == bindparam("external_id"),
        connection_t.c.scope == "PROJECT",
    )
)
# The owners a project's connections can have: the platform's admins, then the project's members.
PLATFORM_ADMINS = CompiledQuery(
    select(user_t.c.first_name, user_t.c.last_name, user_t.c.email)
    .where(user_t.c.platform_id == bindparam("platform_id"), user_t.c.platform_role == "ADMIN")
    .order_by(user_t.c.created, user_t.c.id)
)
PLATFORM_EDITION = CompiledQuery(select(platform_t.c.edition).where(platform_t.c.id == bindparam("platform_id")))
PROJECT_MEMBERS = CompiledQuery(
    select(user_t.c.first_name, user_t.c.last_name, user_t.c.email)
    .select_from(member_t.join(user_t, user_t.c.id == member_t.c.user_id))
    .where(member_t.c.project_id == bindparam("project_id"), member_t.c.platform_id == bindparam("platform_id"))
    .order_by(member_t.c.created.desc(), member_t.c.id.desc())
    .limit(1000)
)

# The upsert key of a project connection: a partial unique index, named by its columns and its WHERE.
UPSERT_KEYS = {
    "PROJECT": (("project_id", "external_id"), "scope = 'PROJECT'"),
}
# A global connection's externalId is not unique (the real server's index is not either): upserts
# of one externalId on a platform take this transaction-scoped lock first, so that two at once
# still find, or make, one row between them.
LOCK_GLOBAL_EXTERNAL_ID = CompiledQuery(
    select(
        func.pg_advisory_xact_lock(
            func.hashtextextended(bindparam("platform_id") + literal("/") + bindparam("external_id"), 0)
        )
    )
)
_GLOBAL_BY_EXTERNAL_ID = (
    select(connection_t.c.id)
    .where(
        connection_t.c.platform_id == bindparam("platform_id"),
        connection_t.c.scope == "PLATFORM",
        connection_t.c.external_id == bindparam("external_id"),
    )
    .order_by(connection_t.c.created, connection_t.c.id)
    .limit(1)
)
FIND_GLOBAL = CompiledQuery(_GLOBAL_BY_EXTERNAL_ID.with_for_update(key_share=True))
# The real server's lookup: the connection of that externalId whose projectIds contain every
# requested one (an empty request matches any).
FIND_GLOBAL_CONTAINING = CompiledQuery(
    _GLOBAL_BY_EXTERNAL_ID.where(
        func.coalesce(
            select(array_agg(link_t.c.project_id)).where(link_t.c.connection_id == connection_t.c.id).scalar_subquery(),
            EMPTY_TEXT_ARRAY,
        ).contains(bindparam("project_ids", type_=TEXT_ARRAY))
    ).with_for_update(key_share=True)
)


def _upsert(columns: tuple[str, ...], scope: str, only_missing: bool) -> Any:
    """INSERT, or on the scope's key UPDATE every column sent but the key; `only_missing`: the
    update only replaces a MISSING (placeholder) connection, so a placeholder never overwrites one."""
    key, where = UPSERT_KEYS[scope]
    statement = pg_insert(connection_t).values(
        {name: bindparam("v_" + name, type_=connection_t.c[name].type) for name in columns}
    )
    # `updated` is among the columns (from the server's clock), `created` is kept.
    keep = {"id", "platform_id", "project_id", "external_id", "scope", "created"}
    changed: dict[str, Any] = {name: statement.excluded[name] for name in columns if name not in keep}
    return statement.on_conflict_do_update(
        index_elements=[connection_t.c[name] for name in key],
        index_where=text(where),
        set_=changed,
        where=connection_t.c.status == "MISSING" if only_missing else None,
    ).returning(connection_t.c.id)


class AppConnectionRepository:
    """Runs on a raw asyncpg connection (in a transaction for writes); every statement is compiled once."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def get_full(self, platform_id: str, connection_id: str) -> asyncpg.Record | None:
        return await GET_FULL_CONNECTION.fetchrow(self.conn, connection_id=connection_id, platform_id=platform_id)

    async def get_full_of_project(self, platform_id: str, project_id: str, connection_id: str) -> asyncpg.Record | None:
        return await GET_FULL_CONNECTION_OF_PROJECT.fetchrow(
            self.conn, connection_id=connection_id, platform_id=platform_id, project_id=project_id
        )

    async def lock(self, platform_id: str, connection_id: str, scope: str) -> bool:
        found = await LOCK_CONNECTION.fetchval(
            self.conn, connection_id=connection_id, platform_id=platform_id, scope=scope
        )
        return found is not None

    async def lock_of_project(self, platform_id: str, project_id: str, connection_id: str) -> asyncpg.Record | None:
        """The project's connection (its own or a linked global one), locked: id, scope, externalId, pieceName."""
        return await LOCK_CONNECTION_OF_PROJECT.fetchrow(
            self.conn, connection_id=connection_id, platform_id=platform_id, project_id=project_id
        )

    async def upsert(self, values: dict[str, Any], *, only_missing: bool = False) -> str | None:
        """Insert, or update the project connection with the same upsert key (externalId in the
        project; a global one goes through `upsert_global`). Atomic: two concurrent upserts of one
        key make one row. Returns the row's id; None when `only_missing` left an existing row alone."""
        stamp = clock.now()
        values = {"created": stamp, "updated": stamp, **values}
        statement = compiled(_upsert, tuple(values), values["scope"], only_missing)
        try:
            found = await statement.fetchval(self.conn, **{"v_" + k: v for k, v in values.items()})
        except asyncpg.ForeignKeyViolationError as exc:
            if foreign_key_violation_on(exc, "platform", "user"):
                raise PlatformVanished from exc
            if foreign_key_violation_on(exc, "project"):
                raise ProjectLinkVanished from exc
            raise
        return None if found is None else str(found)

    async def upsert_global(self, values: dict[str, Any], project_ids: list[str], *, match_projects: bool) -> str:
        """Update the platform's global connection with this externalId, or insert one. With
        `match_projects` (the real server's rule) only a connection linked to every one of
        `project_ids` is reused; another is left alone and a second row is made. Returns the id."""
        keys = {"platform_id": values["platform_id"], "external_id": values["external_id"]}
        try:
            await LOCK_GLOBAL_EXTERNAL_ID.execute(self.conn, **keys)
            if match_projects:
                found = await FIND_GLOBAL_CONTAINING.fetchval(self.conn, **keys, project_ids=list(project_ids))
            else:
                found = await FIND_GLOBAL.fetchval(self.conn, **keys)
            if found is None:
                await insert_row(self.conn, connection_t, values)
                return str(values["id"])
            keep = {"id", "platform_id", "project_id", "external_id", "scope"}
            await update_row(self.conn, connection_t, str(found), {k: v for k, v in values.items() if k not in keep})
            return str(found)
        except asyncpg.ForeignKeyViolationError as exc:
            if foreign_key_violation_on(exc, "platform", "user"):
                raise PlatformVanished from exc
            raise

    async def project_connection_id(self, project_id: str, external_id: str) -> str | None:
        found = await PROJECT_CONNECTION_ID.fetchval(self.conn, project_id=project_id, external_id=external_id)
        return None if found is None else str(found)

    async def update(self, connection_id: str, values: dict[str, Any]) -> None:
        await update_row(self.conn, connection_t, connection_id, values)

    async def delete(self, platform_id: str, connection_id: str, scope: str) -> bool:
        status = await DELETE_CONNECTION.execute(
            self.conn, connection_id=connection_id, platform_id=platform_id, scope=scope
        )
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
        await self.link([(connection_id, pid) for pid in wanted])

    async def link(self, pairs: list[tuple[str, str]]) -> None:
        if not pairs:
            return
        try:
            await LINK.execute(
                self.conn,
                connection_ids=[connection_id for connection_id, _ in pairs],
                project_ids=[project_id for _, project_id in pairs],
                linked_at=[clock.now() for _ in pairs],
            )
        except asyncpg.IntegrityConstraintViolationError as exc:  # a project was deleted by a concurrent request
            raise ProjectLinkVanished from exc

    async def owners(self, platform_id: str, project_id: str) -> list[asyncpg.Record]:
        """The platform's admins, then (beyond the community edition) the project's members."""
        admins = list(await PLATFORM_ADMINS.fetch(self.conn, platform_id=platform_id))
        if await PLATFORM_EDITION.fetchval(self.conn, platform_id=platform_id) == "COMMUNITY":
            return admins
        return admins + list(await PROJECT_MEMBERS.fetch(self.conn, platform_id=platform_id, project_id=project_id))
