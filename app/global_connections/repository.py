"""SQL for the project side of global connections' links; the rest is the shared app connection
SQL (`app.app_connections.repository`)."""

from __future__ import annotations

from sqlalchemy import all_, any_, bindparam, delete, select

from app.app_connections.repository import (
    TEXT_ARRAY,
    AppConnectionRepository,
    PlatformVanished,
    ProjectLinkVanished,
    connection_t,
    fetch_connection_page,
    link_t,
)
from app.kit.db import CompiledQuery

__all__ = ["GlobalConnectionRepository", "PlatformVanished", "ProjectLinkVanished", "fetch_connection_page"]

UNLINK_OTHER_CONNECTIONS = CompiledQuery(
    delete(link_t).where(
        link_t.c.project_id == bindparam("project_id"),
        link_t.c.connection_id != all_(bindparam("connection_ids", type_=TEXT_ARRAY)),
        # A project's own connections stay linked to it: only global links are replaced.
        link_t.c.connection_id.in_(select(connection_t.c.id).where(connection_t.c.scope == "PLATFORM")),
    )
)
# KEY SHARE: a connection found here cannot be deleted before the links are made.
IDS_BY_EXTERNAL_IDS = CompiledQuery(
    select(connection_t.c.external_id, connection_t.c.id)
    .where(
        connection_t.c.platform_id == bindparam("platform_id"),
        connection_t.c.scope == "PLATFORM",
        connection_t.c.external_id == any_(bindparam("external_ids", type_=TEXT_ARRAY)),
    )
    .order_by(connection_t.c.created, connection_t.c.id)
    .with_for_update(read=True, key_share=True)
)
PRESELECTED_IDS = CompiledQuery(
    select(connection_t.c.id)
    .where(
        connection_t.c.platform_id == bindparam("platform_id"),
        connection_t.c.scope == "PLATFORM",
        connection_t.c.pre_select_for_new_projects,
    )
    .order_by(connection_t.c.created, connection_t.c.id)
    .with_for_update(read=True, key_share=True)
)


class GlobalConnectionRepository(AppConnectionRepository):
    """The shared connection SQL plus the project side of the links."""

    async def ids_by_external_ids(self, platform_id: str, external_ids: list[str]) -> dict[str, list[str]]:
        """Each externalId's connections, oldest first (several where the real server's upsert rule
        made more than one row of an externalId)."""
        if not external_ids:
            return {}
        rows = await IDS_BY_EXTERNAL_IDS.fetch(self.conn, platform_id=platform_id, external_ids=list(set(external_ids)))
        found: dict[str, list[str]] = {}
        for external_id, connection_id in rows:
            found.setdefault(external_id, []).append(connection_id)
        return found

    async def preselected_ids(self, platform_id: str) -> list[str]:
        return [row[0] for row in await PRESELECTED_IDS.fetch(self.conn, platform_id=platform_id)]

    async def set_project_connections(self, project_id: str, connection_ids: list[str]) -> None:
        """Make the project's global connections exactly `connection_ids`."""
        wanted = list(dict.fromkeys(connection_ids))
        await UNLINK_OTHER_CONNECTIONS.execute(self.conn, project_id=project_id, connection_ids=wanted)
        await self.link([(cid, project_id) for cid in wanted])

    async def add_project_connections(self, project_id: str, connection_ids: list[str]) -> None:
        await self.link([(cid, project_id) for cid in dict.fromkeys(connection_ids)])
