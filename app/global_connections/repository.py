"""SQL for global connections and their project links. Reads never select the encrypted value."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, func, literal, select, update
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by, array_agg
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import String

from app.flows.repository import flows_using_connection
from app.global_connections.models import AppConnection, AppConnectionProject
from app.pagination import Cursor, Page, paginate
from app.platforms.models import User
from app.projects.models import Project

connection_t = AppConnection.__table__
link_t = AppConnectionProject.__table__
user_t = User.__table__
project_t = Project.__table__

EMPTY_TEXT_ARRAY = literal([], ARRAY(String))


class ProjectLinkVanished(Exception):
    """A project being linked was deleted by a concurrent request."""


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
        c.updated,
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
        user_t.c.created.label("owner_created"),
        user_t.c.updated.label("owner_updated"),
        user_t.c.external_id.label("owner_external_id"),
        user_t.c.last_active_date.label("owner_last_active_date"),
        user_t.c.image_url.label("owner_image_url"),
        _project_ids(c.id).label("project_ids"),
        _flow_ids(connection_t).label("flow_ids"),
    ).select_from(connection_t.outerjoin(user_t, user_t.c.id == c.owner_id))


FULL_CONNECTION_QUERY = _full_connection_query()


class GlobalConnectionRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def get_full(self, platform_id: str, connection_id: str) -> RowMapping | None:
        query = FULL_CONNECTION_QUERY.where(
            connection_t.c.id == connection_id, connection_t.c.platform_id == platform_id
        )
        return (await self.conn.execute(query)).mappings().first()

    async def lock(self, platform_id: str, connection_id: str) -> bool:
        found = await self.conn.scalar(
            select(connection_t.c.id)
            .where(connection_t.c.id == connection_id, connection_t.c.platform_id == platform_id)
            # NO KEY UPDATE: projects may still link to it meanwhile (see ProjectRepository.get_type).
            .with_for_update(key_share=True)
        )
        return found is not None

    async def list_page(
        self,
        platform_id: str,
        *,
        limit: int,
        cursor: Cursor | None,
        piece_name: str | None,
        display_name: str | None,
        statuses: list[str] | None,
        scope: str | None,
    ) -> Page:
        query = FULL_CONNECTION_QUERY.where(connection_t.c.platform_id == platform_id)
        if piece_name is not None:
            query = query.where(connection_t.c.piece_name == piece_name)
        if display_name:
            query = query.where(connection_t.c.display_name.icontains(display_name, autoescape=True))
        if statuses:
            query = query.where(connection_t.c.status.in_(statuses))
        if scope is not None:
            query = query.where(connection_t.c.scope == scope)
        return await paginate(
            self.conn, query, created=connection_t.c.created, id_=connection_t.c.id, limit=limit, cursor=cursor
        )

    async def upsert(self, values: dict[str, Any]) -> str:
        """Insert, or update the platform's connection with the same externalId. Atomic: two
        concurrent upserts of one externalId make one row. Returns the row's id."""
        statement = pg_insert(connection_t).values(**values)
        changed = {k: statement.excluded[k] for k in values if k not in ("id", "platform_id", "external_id")}
        changed["updated"] = func.now()
        statement = statement.on_conflict_do_update(
            index_elements=[connection_t.c.platform_id, connection_t.c.external_id], set_=changed
        ).returning(connection_t.c.id)
        return str((await self.conn.execute(statement)).scalar_one())

    async def update(self, connection_id: str, values: dict[str, Any]) -> None:
        await self.conn.execute(
            update(connection_t).where(connection_t.c.id == connection_id).values(updated=func.now(), **values)
        )

    async def delete(self, platform_id: str, connection_id: str) -> bool:
        result = await self.conn.execute(
            delete(connection_t).where(connection_t.c.id == connection_id, connection_t.c.platform_id == platform_id)
        )
        return result.rowcount > 0

    async def projects_outside_platform(self, platform_id: str, project_ids: list[str]) -> list[str]:
        """The ids in `project_ids` that are not projects of the platform, in the order given."""
        if not project_ids:
            return []
        found = set(
            (
                await self.conn.execute(
                    select(project_t.c.id)
                    .where(project_t.c.platform_id == platform_id, project_t.c.id.in_(set(project_ids)))
                    # KEY SHARE: a project found here cannot be deleted before the links are made.
                    .with_for_update(read=True, key_share=True)
                )
            ).scalars()
        )
        return [pid for pid in project_ids if pid not in found]

    async def replace_projects(self, connection_id: str, project_ids: list[str]) -> None:
        """Make the connection's projects exactly `project_ids`, keeping the order of existing links."""
        wanted = list(dict.fromkeys(project_ids))
        await self.conn.execute(
            delete(link_t).where(link_t.c.connection_id == connection_id, link_t.c.project_id.not_in(wanted))
        )
        await self._link([(connection_id, pid) for pid in wanted])

    async def _link(self, pairs: list[tuple[str, str]]) -> None:
        if not pairs:
            return
        # One multi-row insert: clock_timestamp() is read row by row, so `linked_at` keeps the order.
        statement = pg_insert(link_t).values(
            [{"connection_id": connection_id, "project_id": project_id} for connection_id, project_id in pairs]
        )
        try:
            await self.conn.execute(statement.on_conflict_do_nothing())
        except IntegrityError as exc:  # a project was deleted by a concurrent request
            raise ProjectLinkVanished from exc

    # --- the project side of the relation

    async def ids_by_external_ids(self, platform_id: str, external_ids: list[str]) -> dict[str, str]:
        if not external_ids:
            return {}
        rows = await self.conn.execute(
            select(connection_t.c.external_id, connection_t.c.id)
            .where(
                connection_t.c.platform_id == platform_id,
                connection_t.c.scope == "PLATFORM",
                connection_t.c.external_id.in_(set(external_ids)),
            )
            # KEY SHARE: a connection found here cannot be deleted before the links are made.
            .with_for_update(read=True, key_share=True)
        )
        return {external_id: connection_id for external_id, connection_id in rows}

    async def preselected_ids(self, platform_id: str) -> list[str]:
        rows = await self.conn.execute(
            select(connection_t.c.id)
            .where(connection_t.c.platform_id == platform_id, connection_t.c.pre_select_for_new_projects)
            .order_by(connection_t.c.created, connection_t.c.id)
            .with_for_update(read=True, key_share=True)
        )
        return list(rows.scalars())

    async def set_project_connections(self, project_id: str, connection_ids: list[str]) -> None:
        """Make the project's global connections exactly `connection_ids`."""
        wanted = list(dict.fromkeys(connection_ids))
        await self.conn.execute(
            delete(link_t).where(and_(link_t.c.project_id == project_id, link_t.c.connection_id.not_in(wanted)))
        )
        await self._link([(cid, project_id) for cid in wanted])

    async def add_project_connections(self, project_id: str, connection_ids: list[str]) -> None:
        await self._link([(cid, project_id) for cid in dict.fromkeys(connection_ids)])
