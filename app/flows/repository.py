"""SQL for flows and versions (folders have their own, app/folders/). A flow is read populated (with
one version) in one query."""

from __future__ import annotations

import functools
from typing import Any

import asyncpg
from sqlalchemy import (
    ColumnElement,
    Select,
    any_,
    bindparam,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by, array
from sqlalchemy.types import String

from app.flows.models import Flow, FlowVersion
from app.folders.repository import folder_for_name, folder_in_project
from app.kit.db import (
    CompiledQuery,
    compiled,
    insert_row,
    iso_text,
    unique_violation_on,
    update_row,
)
from app.kit.pagination import Cursor, Page, PageQuery, fetch_page
from app.platforms.models import User
from app.projects.models import Project, ProjectPlan

flow_t = Flow.__table__
version_t = FlowVersion.__table__
project_t = Project.__table__
plan_t = ProjectPlan.__table__
user_t = User.__table__

EXTERNAL_ID_INDEX = "uq_flow_project_id_external_id"


class FlowExternalIdTaken(Exception):
    """The project already has a flow with this externalId."""


def _newest_version(flow_id: Any, *columns: Any) -> Select[Any]:
    """The flow's newest version (the one operations edit): the one rule every reader shares."""
    return (
        select(*(columns or (version_t,)))
        .where(version_t.c.flow_id == flow_id)
        .order_by(version_t.c.created.desc(), version_t.c.id.desc())
        .limit(1)
    )


def _latest_version(flow_id: ColumnElement[str]) -> Any:
    return _newest_version(flow_id).lateral("v")


def _populated(version: Any) -> Select[Any]:
    f = flow_t.c
    v = version.c
    return select(
        f.id,
        f.created,
        f.updated,
        iso_text(f.created).label("created_iso"),
        iso_text(f.updated).label("updated_iso"),
        f.project_id,
        f.external_id,
        f.status,
        f.operation_status,
        f.owner_id,
        f.folder_id,
        f.published_version_id,
        f.metadata,
        f.time_saved_per_run,
        f.template_id,
        f.trigger_source,
        v.id.label("v_id"),
        iso_text(v.created).label("v_created_iso"),
        iso_text(v.updated).label("v_updated_iso"),
        v.display_name.label("v_display_name"),
        v.trigger.label("v_trigger"),
        v.valid.label("v_valid"),
        v.state.label("v_state"),
        v.connection_ids.label("v_connection_ids"),
        v.agent_ids.label("v_agent_ids"),
        v.notes.label("v_notes"),
        v.updated_by.label("v_updated_by"),
        v.schema_version.label("v_schema_version"),
        v.backup_files.label("v_backup_files"),
    )


def _in_platform(platform_id: Any) -> ColumnElement[bool]:
    """The flow's project is the platform's (`platform_id`: a value, or a bind parameter)."""
    return exists().where(project_t.c.id == flow_t.c.project_id, project_t.c.platform_id == platform_id)


LATEST = _latest_version(flow_t.c.id)
POPULATED_WITH_LATEST = _populated(LATEST).select_from(flow_t.join(LATEST, true()))
PUBLISHED = version_t.alias("published")
POPULATED_WITH_PUBLISHED = _populated(PUBLISHED).select_from(
    flow_t.join(PUBLISHED, PUBLISHED.c.id == flow_t.c.published_version_id)
)


def _in_folder(folder_id: Any) -> ColumnElement[bool]:
    # The real server's "uncategorized" folder id is the literal "NULL".
    return flow_t.c.folder_id.is_(None) if folder_id == "NULL" else flow_t.c.folder_id == folder_id


def _of_latest(column: Any) -> Any:
    """A column of the flow's newest version, as a scalar subquery (filters look at it whichever
    version a list shows)."""
    return _newest_version(flow_t.c.id, column).correlate(flow_t).scalar_subquery()


GET_POPULATED_FLOW = CompiledQuery(
    POPULATED_WITH_LATEST.where(flow_t.c.id == bindparam("flow_id"), _in_platform(bindparam("platform_id")))
)


async def fetch_populated_flow(conn: asyncpg.Connection, platform_id: str, flow_id: str) -> asyncpg.Record | None:
    """The hot path of `GET /v1/flows/{id}`: one indexed query on a raw asyncpg connection."""
    return await GET_POPULATED_FLOW.fetchrow(conn, flow_id=flow_id, platform_id=platform_id)


PROJECT_IN_PLATFORM = CompiledQuery(
    select(project_t.c.id).where(
        project_t.c.id == bindparam("project_id"), project_t.c.platform_id == bindparam("platform_id")
    )
)


async def fetch_project_in_platform(conn: asyncpg.Connection, platform_id: str, project_id: str) -> bool:
    return await PROJECT_IN_PLATFORM.fetchval(conn, project_id=project_id, platform_id=platform_id) is not None


@functools.cache
def _flow_page(
    published: bool,
    folder: str | None,
    by_status: bool,
    by_name: bool,
    by_external_id: bool,
    by_connection: bool,
    by_folder_ids: bool = False,
) -> PageQuery:
    """The list query for one combination of filters (`folder`: None, "NULL" or "id"; values are
    bind parameters). As on the real server: each flow with its newest version, or with its
    published one for versionState=LOCKED (flows never published are then left out); name and
    connection filters look at the newest version."""
    query = (POPULATED_WITH_PUBLISHED if published else POPULATED_WITH_LATEST).where(
        flow_t.c.project_id == bindparam("project_id")
    )
    if folder is not None:
        query = query.where(_in_folder("NULL" if folder == "NULL" else bindparam("folder_id")))
    if by_folder_ids:
        query = query.where(flow_t.c.folder_id == any_(bindparam("folder_ids", type_=ARRAY(String))))
    if by_status:
        query = query.where(flow_t.c.status == any_(bindparam("statuses", type_=ARRAY(String))))
    if by_name:
        query = query.where(_of_latest(version_t.c.display_name).icontains(bindparam("name")))
    if by_external_id:
        query = query.where(flow_t.c.external_id == any_(bindparam("external_ids", type_=ARRAY(String))))
    if by_connection:
        latest_connections = type_coerce(_of_latest(version_t.c.connection_ids), ARRAY(String))
        query = query.where(latest_connections.overlap(bindparam("connection_external_ids", type_=ARRAY(String))))
    # As the real server (flow.service.ts): enabled flows first, then the most recently updated.
    return PageQuery(query, sort=(flow_t.c.status, flow_t.c.updated), id_=flow_t.c.id)


async def fetch_flow_page(
    conn: asyncpg.Connection,
    project_id: str,
    *,
    limit: int,
    cursor: Cursor | None,
    folder_id: str | None,
    statuses: list[str] | None,
    name: str | None,
    external_ids: list[str] | None,
    connection_external_ids: list[str] | None,
    version_state: str | None,
    folder_ids: list[str] | None = None,
) -> Page:
    """`folder_ids`: flows in any of these folders (None: no such filter)."""
    folder = None if folder_id is None else "NULL" if folder_id == "NULL" else "id"
    pages = _flow_page(
        version_state == "LOCKED",
        folder,
        bool(statuses),
        bool(name),
        bool(external_ids),
        bool(connection_external_ids),
        folder_ids is not None,
    )
    values: dict[str, Any] = {"project_id": project_id}
    if folder == "id":
        values["folder_id"] = folder_id
    if folder_ids is not None:
        values["folder_ids"] = folder_ids
    if statuses:
        values["statuses"] = statuses
    if name:
        values["name"] = name
    if external_ids:
        values["external_ids"] = external_ids
    if connection_external_ids:
        values["connection_external_ids"] = connection_external_ids
    return await fetch_page(conn, pages, values, limit=limit, cursor=cursor)


def _populated_version() -> Select[Any]:
    chosen = version_t.alias("v")
    return (
        _populated(chosen)
        .select_from(flow_t.join(chosen, chosen.c.flow_id == flow_t.c.id))
        .where(
            flow_t.c.id == bindparam("flow_id"),
            chosen.c.id == bindparam("version_id"),
            _in_platform(bindparam("platform_id")),
        )
    )


def _count(by_folder: str | None) -> Select[Any]:
    query = select(func.count()).select_from(flow_t).where(flow_t.c.project_id == bindparam("project_id"))
    if by_folder is not None:
        query = query.where(_in_folder("NULL" if by_folder == "NULL" else bindparam("folder_id")))
    return query


def _project_in_platform(lock: bool) -> Select[Any]:
    query = select(project_t.c.id).where(
        project_t.c.id == bindparam("project_id"), project_t.c.platform_id == bindparam("platform_id")
    )
    # KEY SHARE: the project cannot be deleted before this transaction's flow is in.
    return query.with_for_update(read=True, key_share=True) if lock else query


GET_POPULATED_VERSION = CompiledQuery(_populated_version())
FLOW_IN_PLATFORM = CompiledQuery(
    select(flow_t.c.id).where(flow_t.c.id == bindparam("flow_id"), _in_platform(bindparam("platform_id")))
)
FLOW_EXISTS = CompiledQuery(select(flow_t.c.id).where(flow_t.c.id == bindparam("flow_id")))
PROJECT_EXISTS = CompiledQuery(select(project_t.c.id).where(project_t.c.id == bindparam("project_id")))


def _versions_page() -> PageQuery:
    v = version_t.c
    query = select(
        v.id,
        v.created,
        iso_text(v.created).label("created_iso"),
        iso_text(v.updated).label("updated_iso"),
        v.flow_id,
        v.display_name,
        v.valid,
        v.state,
        v.updated_by,
        v.schema_version,
    ).where(v.flow_id == bindparam("flow_id"))
    return PageQuery(query, sort=(v.created,), id_=v.id)


VERSIONS_PAGE = _versions_page()
USER_IN_PLATFORM = CompiledQuery(
    select(user_t.c.id)
    .where(user_t.c.id == bindparam("user_id"), user_t.c.platform_id == bindparam("platform_id"))
    .with_for_update(read=True, key_share=True)
)
PIECE_FILTER = CompiledQuery(
    select(plan_t.c.pieces_filter_type, plan_t.c.pieces).where(plan_t.c.project_id == bindparam("project_id"))
)
# Writes to one flow take turns on its row, so none is lost.
LOCK_FLOW = CompiledQuery(
    select(flow_t)
    .where(flow_t.c.id == bindparam("flow_id"), _in_platform(bindparam("platform_id")))
    .with_for_update(of=flow_t)
)
DELETE_FLOW = CompiledQuery(delete(flow_t).where(flow_t.c.id == bindparam("flow_id")))
LATEST_VERSION = CompiledQuery(_newest_version(bindparam("flow_id")))
VERSION = CompiledQuery(
    select(version_t).where(version_t.c.flow_id == bindparam("flow_id"), version_t.c.id == bindparam("version_id"))
)


def _flows_using(project_id: Any, external_id: Any) -> Select[Any]:
    """The project's flows whose newest version references the connection `external_id`."""
    latest_ids = _newest_version(flow_t.c.id, version_t.c.connection_ids).scalar_subquery()
    return (
        select(flow_t.c.id)
        .where(
            flow_t.c.project_id == project_id,
            type_coerce(latest_ids, ARRAY(String)).overlap(array([external_id], type_=String)),
        )
        .order_by(flow_t.c.updated.desc(), flow_t.c.id.desc())
    )


FLOWS_USING_CONNECTION = CompiledQuery(_flows_using(bindparam("project_id"), bindparam("external_id", type_=String)))
# Published versions of the project's flows that reference the connection; `latest_drops`: only those
# whose flow's newest version no longer does (a replace cannot reach them without losing the draft).
_published = version_t.alias("published")
_PUBLISHED_USING = (
    select(func.count())
    .select_from(_published.join(flow_t, flow_t.c.published_version_id == _published.c.id))
    .where(
        flow_t.c.project_id == bindparam("project_id"),
        _published.c.connection_ids.overlap(array([bindparam("external_id", type_=String)], type_=String)),
    )
)
PUBLISHED_USING_CONNECTION = CompiledQuery(_PUBLISHED_USING)
PUBLISHED_USING_CONNECTION_OUT_OF_REACH = CompiledQuery(
    _PUBLISHED_USING.where(
        ~type_coerce(_newest_version(flow_t.c.id, version_t.c.connection_ids).scalar_subquery(), ARRAY(String)).overlap(
            array([bindparam("external_id", type_=String)], type_=String)
        )
    )
)
LATEST_LOCKED_VERSION = CompiledQuery(_newest_version(bindparam("flow_id")).where(version_t.c.state == "LOCKED"))


class FlowRepository:
    """Runs on a raw asyncpg connection (in a transaction for writes); every statement is compiled once."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    # --- reads

    async def get_populated(
        self, platform_id: str, flow_id: str, version_id: str | None = None
    ) -> asyncpg.Record | None:
        if version_id is None:
            return await fetch_populated_flow(self.conn, platform_id, flow_id)
        return await GET_POPULATED_VERSION.fetchrow(
            self.conn, flow_id=flow_id, version_id=version_id, platform_id=platform_id
        )

    async def in_platform(self, platform_id: str, flow_id: str) -> bool:
        return await FLOW_IN_PLATFORM.fetchval(self.conn, flow_id=flow_id, platform_id=platform_id) is not None

    async def versions_page(self, flow_id: str, *, limit: int, cursor: Cursor | None) -> Page:
        return await fetch_page(self.conn, VERSIONS_PAGE, {"flow_id": flow_id}, limit=limit, cursor=cursor)

    async def project_exists_on_any_platform(self, project_id: str) -> bool:
        return await PROJECT_EXISTS.fetchval(self.conn, project_id=project_id) is not None

    async def exists_on_any_platform(self, flow_id: str) -> bool:
        return await FLOW_EXISTS.fetchval(self.conn, flow_id=flow_id) is not None

    async def count(self, project_id: str, folder_id: str | None) -> int:
        by_folder = None if folder_id is None else "NULL" if folder_id == "NULL" else "id"
        values = {"project_id": project_id} | ({"folder_id": folder_id} if by_folder == "id" else {})
        return int(await compiled(_count, by_folder).fetchval(self.conn, **values) or 0)

    async def project_in_platform(self, platform_id: str, project_id: str, *, lock: bool) -> bool:
        found = await compiled(_project_in_platform, lock).fetchval(
            self.conn, project_id=project_id, platform_id=platform_id
        )
        return found is not None

    async def user_in_platform(self, platform_id: str, user_id: str) -> bool:
        return await USER_IN_PLATFORM.fetchval(self.conn, user_id=user_id, platform_id=platform_id) is not None

    async def piece_filter(self, project_id: str) -> tuple[str, list[str]]:
        row = await PIECE_FILTER.fetchrow(self.conn, project_id=project_id)
        if row is None:
            return "NONE", []
        return str(row[0]), list(row[1] or [])

    # --- the flow row

    async def lock(self, platform_id: str, flow_id: str) -> asyncpg.Record | None:
        """Lock the flow for an operation: writes to one flow take turns, so none is lost."""
        return await LOCK_FLOW.fetchrow(self.conn, flow_id=flow_id, platform_id=platform_id)

    async def insert_flow(self, values: dict[str, Any]) -> None:
        try:
            await insert_row(self.conn, flow_t, values)
        except asyncpg.UniqueViolationError as exc:
            if unique_violation_on(exc, EXTERNAL_ID_INDEX):
                raise FlowExternalIdTaken from exc
            raise

    async def update_flow(self, flow_id: str, values: dict[str, Any]) -> None:
        await update_row(self.conn, flow_t, flow_id, values)

    async def delete_flow(self, flow_id: str) -> None:
        await DELETE_FLOW.execute(self.conn, flow_id=flow_id)

    # --- versions

    async def latest_version(self, flow_id: str) -> asyncpg.Record | None:
        return await LATEST_VERSION.fetchrow(self.conn, flow_id=flow_id)

    async def version(self, flow_id: str, version_id: str) -> asyncpg.Record | None:
        return await VERSION.fetchrow(self.conn, flow_id=flow_id, version_id=version_id)

    async def insert_version(self, values: dict[str, Any]) -> None:
        await insert_row(self.conn, version_t, values)

    async def update_version(self, version_id: str, values: dict[str, Any]) -> None:
        await update_row(self.conn, version_t, version_id, values)

    # --- connections

    async def flows_using_connection(self, project_id: str, external_id: str) -> list[str]:
        rows = await FLOWS_USING_CONNECTION.fetch(self.conn, project_id=project_id, external_id=external_id)
        return [row[0] for row in rows]

    async def published_using_connection(self, project_id: str, external_id: str, *, out_of_reach: bool) -> int:
        query = PUBLISHED_USING_CONNECTION_OUT_OF_REACH if out_of_reach else PUBLISHED_USING_CONNECTION
        return int(await query.fetchval(self.conn, project_id=project_id, external_id=external_id))

    async def latest_locked_version(self, flow_id: str) -> asyncpg.Record | None:
        return await LATEST_LOCKED_VERSION.fetchrow(self.conn, flow_id=flow_id)

    # --- folders

    async def folder_in_project(self, project_id: str, folder_id: str) -> bool:
        return await folder_in_project(self.conn, project_id, folder_id)

    async def folder_by_name(self, project_id: str, display_name: str, new_id: str) -> str:
        """The project's folder with this name (any case), made if missing; atomic under races."""
        return await folder_for_name(self.conn, project_id, display_name, new_id)


def flow_counts(project_id: ColumnElement[str]) -> list[Any]:
    """totalFlows / activeFlows / lastFlowUpdated (the newest `updated` of its flows, none without
    flows) of a project, as columns of the one project query."""
    total = select(func.count()).select_from(flow_t).where(flow_t.c.project_id == project_id).scalar_subquery()
    active = (
        select(func.count())
        .select_from(flow_t)
        .where(flow_t.c.project_id == project_id, flow_t.c.status == "ENABLED")
        .scalar_subquery()
    )
    last_updated = select(iso_text(func.max(flow_t.c.updated))).where(flow_t.c.project_id == project_id)
    return [
        total.label("total_flows"),
        active.label("active_flows"),
        last_updated.scalar_subquery().label("last_flow_updated_iso"),
    ]


def flows_in_folder(folder_id: ColumnElement[str]) -> ColumnElement[int]:
    """A folder's numberOfFlows, as a column of the one folder query."""
    return select(func.count()).select_from(flow_t).where(flow_t.c.folder_id == folder_id).scalar_subquery()


def flows_using_connection(
    platform_id: ColumnElement[str], external_id: ColumnElement[str], project_id: ColumnElement[str | None]
) -> Any:
    """Ids of the flows whose latest version references the connection: the platform's flows for a
    global connection (`project_id` NULL), its project's flows for a project one. Starts from the
    GIN index on `connection_ids` (only versions that mention the connection), then keeps those
    that are their flow's newest: the cost follows the connection's use, not the platform's size."""
    using = version_t.alias("using")
    newest_id = _newest_version(using.c.flow_id, version_t.c.id).scalar_subquery()
    ids = (
        select(func.array_agg(aggregate_order_by(flow_t.c.id, flow_t.c.id)))
        .select_from(
            using.join(flow_t, flow_t.c.id == using.c.flow_id).join(project_t, project_t.c.id == flow_t.c.project_id)
        )
        .where(
            using.c.connection_ids.contains(array([external_id], type_=String)),
            using.c.id == newest_id,
            project_t.c.platform_id == platform_id,
            or_(project_id.is_(None), flow_t.c.project_id == project_id),
        )
        .scalar_subquery()
    )
    return func.coalesce(ids, literal([], ARRAY(String)))


PLATFORM_ACTIVE_FLOWS = CompiledQuery(
    select(func.count())
    .select_from(flow_t.join(project_t, project_t.c.id == flow_t.c.project_id))
    .where(project_t.c.platform_id == bindparam("platform_id"), flow_t.c.status == "ENABLED")
)


async def platform_active_flows(conn: asyncpg.Connection, platform_id: str) -> int:
    """How many of the platform's flows are enabled (a platform's `usage.activeFlows`)."""
    return int(await PLATFORM_ACTIVE_FLOWS.fetchval(conn, platform_id=platform_id))
