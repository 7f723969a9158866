"""Global-connection rules: upsert by externalId, project links within the platform only, secrets
sealed before they reach the database. One transaction per call."""

from __future__ import annotations

from typing import Any

import asyncpg

from app.app_connections.service import (
    assert_projects_in_platform,
    not_found,
    piece_version_of,
    secret_context,
)
from app.edge.auth import Principal
from app.global_connections.repository import (
    GlobalConnectionRepository,
    PlatformVanished,
    ProjectLinkVanished,
    fetch_connection_page,
)
from app.global_connections.schemas import (
    UpdateGlobalConnectionRequest,
    connection_body,
)
from app.kit.crypto import SecretBox
from app.kit.db import Database
from app.kit.errors import AuthenticationFailed, ProjectNotFound
from app.kit.ids import new_id
from app.kit.pagination import decode_cursor

PLATFORM = "PLATFORM"


class GlobalConnectionService:
    def __init__(self, db: Database, secrets: SecretBox, *, upsert_matches_projects: bool = False) -> None:
        self.db = db
        self.secrets = secrets
        # The real server's upsert rule (see CompatPolicy.upsert_matches_projects); otherwise one
        # global connection per externalId on a platform.
        self.upsert_matches_projects = upsert_matches_projects

    async def upsert(self, principal: Principal, request: Any) -> dict[str, Any]:
        """`request` is one of the `UpsertGlobalConnectionRequest` shapes."""
        external_id = request.externalId if request.externalId else new_id()
        context = secret_context(principal.platform_id, external_id)
        sealed = self.secrets.seal(request.value.model_dump(mode="json", exclude_unset=True), context)
        try:
            async with self.db.fast_transaction() as conn:
                connections = GlobalConnectionRepository(conn)
                await assert_projects_in_platform(connections, principal.platform_id, request.projectIds)
                connection_id = await connections.upsert_global(
                    {
                        "id": new_id(),
                        "platform_id": principal.platform_id,
                        "external_id": external_id,
                        "display_name": request.displayName,
                        "piece_name": request.pieceName,
                        "piece_version": piece_version_of(request.pieceName, request.pieceVersion),
                        "type": request.type,
                        "scope": PLATFORM,
                        "status": "ACTIVE",
                        "owner_id": principal.owner_id,
                        "metadata": request.metadata,
                        "pre_select_for_new_projects": bool(request.preSelectForNewProjects),
                        "value_encrypted": sealed,
                    },
                    request.projectIds,
                    match_projects=self.upsert_matches_projects,
                )
                await connections.replace_projects(connection_id, request.projectIds)
                row = await connections.get_full(principal.platform_id, connection_id)
        except ProjectLinkVanished:
            raise ProjectNotFound(request.projectIds[0]) from None
        except PlatformVanished:
            # The key's platform is gone: answer as the key is now, unknown.
            raise AuthenticationFailed() from None
        assert row is not None
        return connection_body(row)

    async def update(
        self, principal: Principal, connection_id: str, request: UpdateGlobalConnectionRequest
    ) -> dict[str, Any]:
        sent = request.model_fields_set
        try:
            async with self.db.fast_transaction() as conn:
                connections = GlobalConnectionRepository(conn)
                if not await connections.lock(principal.platform_id, connection_id, PLATFORM):
                    raise not_found(connection_id)
                values: dict[str, Any] = {}
                if request.displayName is not None:
                    values["display_name"] = request.displayName
                if "metadata" in sent:
                    values["metadata"] = request.metadata
                if request.preSelectForNewProjects is not None:
                    values["pre_select_for_new_projects"] = request.preSelectForNewProjects
                await connections.update(connection_id, values)
                if request.projectIds is not None:
                    await assert_projects_in_platform(connections, principal.platform_id, request.projectIds)
                    await connections.replace_projects(connection_id, request.projectIds)
                row = await connections.get_full(principal.platform_id, connection_id)
        except ProjectLinkVanished:
            raise ProjectNotFound((request.projectIds or [""])[0]) from None
        assert row is not None
        return connection_body(row)

    async def delete(self, principal: Principal, connection_id: str) -> None:
        async with self.db.fast_transaction() as conn:
            if not await GlobalConnectionRepository(conn).delete(principal.platform_id, connection_id, PLATFORM):
                raise not_found(connection_id)

    async def list(
        self,
        principal: Principal,
        *,
        limit: int,
        cursor: str | None,
        piece_name: str | None,
        display_name: str | None,
        statuses: list[str] | None,
    ) -> dict[str, Any]:
        """The platform's global connections; the list's `scope` filter is accepted but, as on the real
        server, does not narrow it."""
        position = decode_cursor(cursor)
        async with self.db.fast_read() as conn:
            page = await fetch_connection_page(
                conn,
                principal.platform_id,
                limit=limit,
                cursor=position,
                piece_name=piece_name,
                display_name=display_name,
                statuses=statuses,
                scope=PLATFORM,
            )
        return page.to_body(connection_body)


class ProjectConnectionLinks:
    """What projects ask of this domain when a project is created or names its connections (the
    `ConnectionLinks` protocol of `app.projects.service`)."""

    async def link_new_project(
        self, conn: asyncpg.Connection, platform_id: str, project_id: str, external_ids: list[str] | None
    ) -> None:
        await link_new_project(conn, platform_id, project_id, external_ids)

    async def set_project_connections(
        self, conn: asyncpg.Connection, platform_id: str, project_id: str, external_ids: list[str]
    ) -> None:
        await set_project_connections(conn, platform_id, project_id, external_ids)


async def link_new_project(
    conn: asyncpg.Connection, platform_id: str, project_id: str, external_ids: list[str] | None
) -> None:
    """A new project gets the connections it names plus every `preSelectForNewProjects` one."""
    connections = GlobalConnectionRepository(conn)
    named = await resolve_external_ids(connections, platform_id, external_ids or [])
    preselected = await connections.preselected_ids(platform_id)
    await connections.add_project_connections(project_id, [*named, *preselected])


async def set_project_connections(
    conn: asyncpg.Connection, platform_id: str, project_id: str, external_ids: list[str]
) -> None:
    connections = GlobalConnectionRepository(conn)
    named = await resolve_external_ids(connections, platform_id, external_ids)
    await connections.set_project_connections(project_id, named)


async def resolve_external_ids(
    connections: GlobalConnectionRepository, platform_id: str, external_ids: list[str]
) -> list[str]:
    """The ids of this platform's global connections with these externalIds, in the order given
    (every row of an externalId). Unknown ones (and other platforms') are skipped, as the real
    server does: it links with `WHERE externalId IN (...) AND platformId = ...` and answers 2xx
    either way."""
    found = await connections.ids_by_external_ids(platform_id, external_ids)
    return [connection_id for external_id in external_ids for connection_id in found.get(external_id, [])]
