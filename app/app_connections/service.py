"""Project connection rules: upsert by externalId within the project, the project's piece filter,
replace (move the flows from one connection to another), secrets sealed before they reach the
database. One transaction per call. The rules both scopes share live here too."""

from __future__ import annotations

from typing import Any

from app.app_connections.repository import (
    AppConnectionRepository,
    PlatformVanished,
    ProjectLinkVanished,
    fetch_connection_page,
)
from app.app_connections.schemas import (
    PLACEHOLDER_CONNECTION_TYPE,
    ReplaceAppConnectionsRequest,
    UpdateConnectionValueRequest,
    connection_body,
    owner_body,
)
from app.edge.auth import Principal
from app.flows.repository import FlowRepository
from app.flows.service import FlowService, missing_project
from app.kit.crypto import SecretBox
from app.kit.db import Database
from app.kit.errors import (
    AuthenticationFailed,
    EntityNotFound,
    PermissionDenied,
    PieceNotFound,
    ProjectNotFound,
    ValidationFailed,
)
from app.kit.ids import new_id
from app.kit.pagination import decode_cursor
from app.pieces import catalog

# The version stored for a piece the catalogue does not hold, when none is sent (the real server's
# own fill-in for such connections).
UNKNOWN_PIECE_VERSION = "0.0.0"


def piece_version_of(piece_name: str, sent: str | None) -> str:
    """The version a connection stores: the one sent, else the piece's newest in the catalogue."""
    if sent:
        return sent
    return catalog.latest_version(piece_name) or UNKNOWN_PIECE_VERSION


PROJECT = "PROJECT"


def not_found(connection_id: str) -> EntityNotFound:
    return EntityNotFound("app_connection", connection_id, "App connection not found")


def secret_context(platform_id: str, external_id: str, project_id: str | None = None) -> str:
    """What a sealed value is bound to: it only opens for the connection of this upsert key (the
    platform's externalId for a global one, the project's for a project one), so it cannot be
    replayed onto another row."""
    if project_id is None:
        return f"{platform_id}/{external_id}"
    return f"{platform_id}/{project_id}/{external_id}"


async def assert_projects_in_platform(
    connections: AppConnectionRepository, platform_id: str, project_ids: list[str]
) -> None:
    missing = await connections.projects_outside_platform(platform_id, project_ids)
    if missing:
        raise ProjectNotFound(missing[0])


async def assert_project(conn: Any, principal: Principal, project_id: str, *, lock: bool) -> None:
    """The project the caller named is one of its platform's (locked against deletion for a write);
    another platform's is the typed case flows answer too."""
    flows = FlowRepository(conn)
    if not await flows.project_in_platform(principal.platform_id, project_id, lock=lock):
        raise await missing_project(flows, project_id, principal)


async def assert_piece_allowed(conn: Any, project_id: str, piece_name: str) -> None:
    """Under the project's `piecesFilterType: ALLOWED` a piece not in `plan.pieces` does not exist
    for the project: the real server's piece lookup answers it as not found."""
    filter_type, allowed = await FlowRepository(conn).piece_filter(project_id)
    if filter_type == "ALLOWED" and piece_name not in allowed:
        raise PieceNotFound(piece_name)


class AppConnectionService:
    def __init__(self, db: Database, secrets: SecretBox) -> None:
        self.db = db
        self.secrets = secrets

    async def upsert(self, principal: Principal, request: Any) -> dict[str, Any]:
        """`request` is one of the `UpsertAppConnectionRequest` shapes. A placeholder is stored as
        NO_AUTH with status MISSING and never replaces a connection that is not MISSING."""
        project_id = request.projectId
        placeholder = request.type == PLACEHOLDER_CONNECTION_TYPE
        value = {"type": "NO_AUTH"} if placeholder else request.value.model_dump(mode="json", exclude_unset=True)
        sealed = self.secrets.seal(value, secret_context(principal.platform_id, request.externalId, project_id))
        values: dict[str, Any] = {
            "id": new_id(),
            "platform_id": principal.platform_id,
            "project_id": project_id,
            "external_id": request.externalId,
            "display_name": request.displayName,
            "piece_name": request.pieceName,
            "piece_version": piece_version_of(request.pieceName, request.pieceVersion),
            "type": "NO_AUTH" if placeholder else request.type,
            "scope": PROJECT,
            "status": "MISSING" if placeholder else "ACTIVE",
            "owner_id": principal.owner_id,
            "value_encrypted": sealed,
        }
        if "metadata" in request.model_fields_set and request.metadata is not None:
            values["metadata"] = request.metadata
        try:
            async with self.db.fast_transaction() as conn:
                connections = AppConnectionRepository(conn)
                await assert_project(conn, principal, project_id, lock=True)
                await assert_piece_allowed(conn, project_id, request.pieceName)
                connection_id = await connections.upsert(values, only_missing=placeholder)
                if connection_id is None:  # a placeholder met a real connection: left as it is
                    connection_id = await connections.project_connection_id(project_id, request.externalId)
                    assert connection_id is not None
                else:
                    await connections.link([(connection_id, project_id)])
                row = await connections.get_full(principal.platform_id, connection_id)
        except ProjectLinkVanished:
            raise ProjectNotFound(project_id) from None
        except PlatformVanished:
            raise AuthenticationFailed() from None
        assert row is not None
        return connection_body(row)

    async def update(
        self, principal: Principal, connection_id: str, request: UpdateConnectionValueRequest
    ) -> dict[str, Any]:
        """Only the project's own connections: a global one is changed under /v1/global-connections."""
        async with self.db.fast_transaction() as conn:
            connections = AppConnectionRepository(conn)
            if not await connections.lock(principal.platform_id, connection_id, PROJECT):
                raise not_found(connection_id)
            values: dict[str, Any] = {"display_name": request.displayName}
            if request.metadata is not None:
                values["metadata"] = request.metadata
            await connections.update(connection_id, values)
            row = await connections.get_full(principal.platform_id, connection_id)
        assert row is not None
        return connection_body(row)

    async def delete(self, principal: Principal, connection_id: str) -> None:
        async with self.db.fast_transaction() as conn:
            if not await AppConnectionRepository(conn).delete(principal.platform_id, connection_id, PROJECT):
                raise not_found(connection_id)

    async def list(
        self,
        principal: Principal,
        project_id: str,
        *,
        limit: int,
        cursor: str | None,
        piece_name: str | None,
        display_name: str | None,
        statuses: list[str] | None,
        scope: str | None,
    ) -> dict[str, Any]:
        """The project's connections, its own and the global ones linked to it."""
        position = decode_cursor(cursor)
        async with self.db.fast_read() as conn:
            await assert_project(conn, principal, project_id, lock=False)
            page = await fetch_connection_page(
                conn,
                principal.platform_id,
                project_id=project_id,
                limit=limit,
                cursor=position,
                piece_name=piece_name,
                display_name=display_name,
                statuses=statuses,
                scope=scope,
            )
        return page.to_body(connection_body)

    async def owners(self, principal: Principal, project_id: str) -> dict[str, Any]:
        async with self.db.fast_read() as conn:
            await assert_project(conn, principal, project_id, lock=False)
            connections = AppConnectionRepository(conn)
            rows = await connections.owners(principal.platform_id, project_id)
        return {"data": [owner_body(row) for row in rows], "next": None, "previous": None}

    async def replace(self, principal: Principal, request: ReplaceAppConnectionsRequest) -> None:
        """Move the project's flows from the source connection to the target (same piece), and with
        `deleteSourceConnection` delete the source once no flow uses it."""
        source_id, target_id, project_id = (
            request.sourceAppConnectionId,
            request.targetAppConnectionId,
            request.projectId,
        )
        if source_id == target_id:
            raise ValidationFailed("Cannot replace a connection with itself")
        async with self.db.fast_transaction() as conn:
            await assert_project(conn, principal, project_id, lock=True)
            connections = AppConnectionRepository(conn)
            source = await connections.lock_of_project(principal.platform_id, project_id, source_id)
            if source is None:
                raise not_found(source_id)
            target = await connections.lock_of_project(principal.platform_id, project_id, target_id)
            if target is None:
                raise not_found(target_id)
            if source["piece_name"] != target["piece_name"]:
                raise ValidationFailed("Connections must be from the same app")
            if request.deleteSourceConnection and source["scope"] != PROJECT:
                raise PermissionDenied("Platform connections must be deleted from the platform admin connections page")
            flows = FlowService(self.db)
            old, new = source["external_id"], target["external_id"]
            if request.deleteSourceConnection or request.applyToPublishedVersions:
                blocking = await flows.published_using_connection(
                    conn, project_id, old, out_of_reach=request.applyToPublishedVersions
                )
                if blocking > 0:
                    raise ValidationFailed(
                        "Cannot delete the old connection because it is still used by published flows that were"
                        " not updated"
                        if request.deleteSourceConnection
                        else "Some published flows still use the old connection but have unpublished draft changes"
                        " — publish those flows first"
                    )
            remaining = await flows.repoint_connection(
                conn, principal, project_id, old, new, apply_to_published=request.applyToPublishedVersions
            )
            if not request.deleteSourceConnection:
                return
            if remaining or await flows.published_using_connection(conn, project_id, old, out_of_reach=False):
                raise ValidationFailed("Cannot delete the old connection because flows still use it")
            await connections.delete(principal.platform_id, source_id, PROJECT)
