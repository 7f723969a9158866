"""Piece rules, as the real piece-metadata service applies them: the catalogue a platform sees (the
published pieces plus its own), the newest version a release supports, search, sort, the project's
piece filter, tags. One transaction per call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.edge.auth import Principal
from app.kit.db import Database
from app.kit.errors import ActivepiecesError, PieceNotFound, ProjectNotFound, ValidationFailed
from app.kit.ids import new_id
from app.pieces import catalog, search, versions
from app.pieces.repository import PieceRepository, PieceVersionExists
from app.pieces.schemas import AddArchivePieceRequest, AddRegistryPieceRequest

# What the real list route leaves out of a piece it lists besides its steps (`i18n: undefined`).
_NOT_LISTED = ("actions", "triggers", "i18n")


class PieceSyncNotSupported(ActivepiecesError):
    """The old sync call (`GET /v1/pieces?release=`), which the real server no longer serves."""

    status_code = 400
    code = "PIECE_SYNC_NOT_SUPPORTED"

    def __init__(self, release: str) -> None:
        super().__init__(
            {"message": "This endpoint is deprecated. Please use it without release parameter.", "release": release}
        )


class EngineOperationFailure(ActivepiecesError):
    """The piece's metadata could not be extracted from its package (the real server runs the
    engine on it; this one knows the packages of its catalogue)."""

    status_code = 400
    code = "ENGINE_OPERATION_FAILURE"

    def __init__(self, message: str) -> None:
        super().__init__({"message": message})


@dataclass(frozen=True, slots=True)
class ListQuery:
    search_query: str | None = None
    sort_by: str | None = None
    order_by: str | None = None
    categories: list[str] | None = None
    suggestion_type: str | None = None
    include_tags: bool = False
    include_hidden: bool = False
    project_id: str | None = None


def _platform_piece(row: Any) -> dict[str, Any]:
    metadata = dict(row["metadata"])
    return {
        "id": row["id"],
        "created": row["created_iso"],
        "updated": row["updated_iso"],
        **metadata,
        "name": row["name"],
        "version": row["version"],
        "projectUsage": 0,
        "pieceType": "CUSTOM",
        "packageType": row["package_type"],
        "platformId": row["platform_id"],
    }


def _newest(candidates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Newest version first; at the same version the platform's own piece before the published one."""
    custom_first = sorted(candidates, key=lambda piece: piece["pieceType"] != "CUSTOM")
    return versions.newest_first(custom_first, lambda piece: piece["version"])


def _supported(piece: dict[str, Any]) -> bool:
    return versions.supports_release(
        catalog.SERVER_RELEASE, piece.get("minimumSupportedRelease"), piece.get("maximumSupportedRelease")
    )


def latest_of_each(pieces: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The newest version of each piece that this server's release supports."""
    by_name: dict[str, list[dict[str, Any]]] = {}
    for piece in pieces:
        if _supported(piece):
            by_name.setdefault(piece["name"], []).append(piece)
    return [_newest(group)[0] for _, group in sorted(by_name.items())]


def sort_pieces(pieces: list[dict[str, Any]], sort_by: str | None, order_by: str | None) -> list[dict[str, Any]]:
    """The real pieceSorting: by display name (case-insensitive) unless asked otherwise, ascending."""
    key_of = {
        "NAME": lambda piece: piece["displayName"].lower(),
        "POPULARITY": lambda piece: piece.get("projectUsage", 0),
        "CREATED": lambda piece: piece.get("created") or "",
        "UPDATED": lambda piece: piece.get("updated") or "",
    }[sort_by or "NAME"]
    ordered = sorted(pieces, key=key_of)
    return ordered[::-1] if order_by == "DESC" else ordered


def summary(
    piece: dict[str, Any],
    suggestion_type: str | None,
    suggested_actions: dict[str, Any] | None,
    suggested_triggers: dict[str, Any] | None,
) -> dict[str, Any]:
    body = {key: value for key, value in piece.items() if key not in _NOT_LISTED}
    body["actions"] = len(piece.get("actions", {}))
    body["triggers"] = len(piece.get("triggers", {}))
    if suggestion_type in ("ACTION", "ACTION_AND_TRIGGER"):
        actions = piece.get("actions", {}) if suggested_actions is None else suggested_actions
        body["suggestedActions"] = list(actions.values())
    if suggestion_type in ("TRIGGER", "ACTION_AND_TRIGGER"):
        triggers = piece.get("triggers", {}) if suggested_triggers is None else suggested_triggers
        body["suggestedTriggers"] = list(triggers.values())
    return body


def full(piece: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in piece.items() if key != "i18n"}


class PieceService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def _catalogue(self, pieces: PieceRepository, platform_id: str) -> list[dict[str, Any]]:
        """Every piece the platform sees, every version: the published ones and its own."""
        own = [_platform_piece(row) for row in await pieces.platform_pieces(platform_id)]
        return [*catalog.load(), *own]

    async def list(self, principal: Principal, query: ListQuery, release: str | None) -> list[dict[str, Any]]:
        if release is not None:
            raise PieceSyncNotSupported(release)
        async with self.db.fast_read() as conn:
            pieces = PieceRepository(conn)
            latest = latest_of_each(await self._catalogue(pieces, principal.platform_id))
            if query.include_tags:
                tags = await pieces.tags_by_piece(principal.platform_id)
                latest = [{**piece, "tags": tags.get(piece["name"], [])} for piece in latest]
            piece_filter = None
            if query.project_id is not None and not query.include_hidden:
                piece_filter = await pieces.project_piece_filter(principal.platform_id, query.project_id)
                if piece_filter is None:
                    raise ProjectNotFound(query.project_id)
        ordered = sort_pieces(latest, query.sort_by, query.order_by)
        found = search.search(ordered, query.search_query, query.suggestion_type)
        if query.categories is not None:
            wanted = set(query.categories)
            found = [entry for entry in found if wanted.intersection(entry[0].get("categories") or [])]
        if piece_filter is not None and piece_filter[0] == "ALLOWED":
            allowed = set(piece_filter[1])
            found = [entry for entry in found if entry[0]["name"] in allowed]
        return [summary(piece, query.suggestion_type, actions, triggers) for piece, actions, triggers in found]

    async def get(self, principal: Principal, name: str, version: str | None) -> dict[str, Any]:
        async with self.db.fast_read() as conn:
            candidates = await self._catalogue(PieceRepository(conn), principal.platform_id)
        matching = [
            piece
            for piece in candidates
            if piece["name"] == name and versions.matches(piece["version"], version) and _supported(piece)
        ]
        if not matching:
            raise PieceNotFound(name)
        return full(_newest(matching)[0])

    async def registry(self, principal: Principal, release: str) -> list[dict[str, str]]:
        async with self.db.fast_read() as conn:
            candidates = await self._catalogue(PieceRepository(conn), principal.platform_id)
        by_name: dict[str, list[dict[str, Any]]] = {}
        for piece in candidates:
            if versions.supports_release(
                release, piece.get("minimumSupportedRelease"), piece.get("maximumSupportedRelease")
            ):
                by_name.setdefault(piece["name"], []).append(piece)
        return [
            {"name": piece["name"], "version": piece["version"]}
            for _, group in sorted(by_name.items())
            for piece in _newest(group)
        ]

    async def add(self, principal: Principal, request: AddRegistryPieceRequest | AddArchivePieceRequest) -> None:
        """A platform's own piece, of a package whose metadata this server knows: the published
        version of a piece of its catalogue (this server runs no piece code to read any other)."""
        if isinstance(request, AddArchivePieceRequest):
            raise EngineOperationFailure(
                "This server runs no piece code: it cannot read the metadata of an uploaded archive"
            )
        published = catalog.find(request.pieceName, request.pieceVersion)
        if published is None:
            raise EngineOperationFailure(
                f"No metadata for {request.pieceName}@{request.pieceVersion}: not a piece version of this "
                "server's catalogue"
            )
        metadata = {
            key: value
            for key, value in published.items()
            if key not in ("id", "created", "updated", "name", "version", "projectUsage", "pieceType", "packageType")
        }
        async with self.db.fast_transaction() as conn:
            try:
                await PieceRepository(conn).add_platform_piece(
                    {
                        "id": new_id(),
                        "platform_id": principal.platform_id,
                        "name": request.pieceName,
                        "version": request.pieceVersion,
                        "package_type": request.packageType,
                        "metadata": metadata,
                    }
                )
            except PieceVersionExists:
                raise ValidationFailed(
                    f"piece_metadata_already_exists name={request.pieceName} version={request.pieceVersion}"
                ) from None

    async def set_tags(self, principal: Principal, piece_names: list[str], tags: list[str]) -> None:
        """Each named piece gets exactly these tags (names trimmed and lower-cased, created as needed)."""
        names = list(dict.fromkeys(tag.strip().lower() for tag in tags))
        async with self.db.fast_transaction() as conn:
            pieces = PieceRepository(conn)
            await pieces.lock_tags(principal.platform_id)
            tag_ids = [await pieces.upsert_tag(new_id(), principal.platform_id, name) for name in names]
            for piece_name in dict.fromkeys(piece_names):
                await pieces.clear_piece_tags(principal.platform_id, piece_name)
                for tag_id in tag_ids:
                    await pieces.add_piece_tag(new_id(), principal.platform_id, piece_name, tag_id)
