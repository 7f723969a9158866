"""SQL for a platform's own pieces and its piece tags."""

from __future__ import annotations

from typing import Any

import asyncpg
from sqlalchemy import String, bindparam, delete, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.dialects.postgresql import insert as pg_insert

from app.kit.clock import clock
from app.kit.db import CompiledQuery, iso_text, unique_violation_on
from app.pieces.models import PieceTag, PlatformPiece, Tag
from app.projects.models import Project, ProjectPlan

piece_t = PlatformPiece.__table__
tag_t = Tag.__table__
piece_tag_t = PieceTag.__table__
project_t = Project.__table__
plan_t = ProjectPlan.__table__

PIECE_VERSION_INDEX = "uq_platform_piece_platform_id_name_version"


class PieceVersionExists(Exception):
    """The platform already has this version of the piece."""


PLATFORM_PIECES = CompiledQuery(
    select(
        piece_t.c.id,
        iso_text(piece_t.c.created).label("created_iso"),
        iso_text(piece_t.c.updated).label("updated_iso"),
        piece_t.c.platform_id,
        piece_t.c.name,
        piece_t.c.version,
        piece_t.c.package_type,
        piece_t.c.metadata,
    )
    .where(piece_t.c.platform_id == bindparam("platform_id"))
    .order_by(piece_t.c.name, piece_t.c.created)
)
INSERT_PIECE = CompiledQuery(
    pg_insert(piece_t).values(
        id=bindparam("id"),
        platform_id=bindparam("platform_id"),
        name=bindparam("name"),
        version=bindparam("version"),
        package_type=bindparam("package_type"),
        metadata=bindparam("metadata", type_=piece_t.c.metadata.type),
        created=bindparam("now", type_=piece_t.c.created.type),
        updated=bindparam("now", type_=piece_t.c.updated.type),
    )
)
# The plan of a project of the caller's platform; no row for another platform's project.
PROJECT_PIECE_FILTER = CompiledQuery(
    select(plan_t.c.pieces_filter_type, plan_t.c.pieces)
    .select_from(project_t.outerjoin(plan_t, plan_t.c.project_id == project_t.c.id))
    .where(project_t.c.id == bindparam("project_id"), project_t.c.platform_id == bindparam("platform_id"))
)
_tag_insert = pg_insert(tag_t).values(
    id=bindparam("id"),
    platform_id=bindparam("platform_id"),
    name=bindparam("name"),
    created=bindparam("now", type_=tag_t.c.created.type),
    updated=bindparam("now", type_=tag_t.c.updated.type),
)
# An upsert that always returns the row's id, the new one or the existing one.
UPSERT_TAG = CompiledQuery(
    _tag_insert.on_conflict_do_update(
        index_elements=[tag_t.c.platform_id, tag_t.c.name], set_={"name": _tag_insert.excluded.name}
    ).returning(tag_t.c.id)
)
CLEAR_PIECE_TAGS = CompiledQuery(
    delete(piece_tag_t).where(
        piece_tag_t.c.platform_id == bindparam("platform_id"), piece_tag_t.c.piece_name == bindparam("piece_name")
    )
)
ADD_PIECE_TAG = CompiledQuery(
    pg_insert(piece_tag_t)
    .values(
        id=bindparam("id"),
        platform_id=bindparam("platform_id"),
        piece_name=bindparam("piece_name"),
        tag_id=bindparam("tag_id"),
        created=bindparam("now", type_=piece_tag_t.c.created.type),
    )
    .on_conflict_do_nothing(index_elements=[piece_tag_t.c.tag_id, piece_tag_t.c.piece_name])
)
TAGS_BY_PIECE = CompiledQuery(
    select(
        piece_tag_t.c.piece_name,
        func.array_agg(aggregate_order_by(tag_t.c.name, piece_tag_t.c.created, piece_tag_t.c.id)).label("tags"),
    )
    .select_from(piece_tag_t.join(tag_t, tag_t.c.id == piece_tag_t.c.tag_id))
    .where(piece_tag_t.c.platform_id == bindparam("platform_id"))
    .group_by(piece_tag_t.c.piece_name)
)
# Takes turns per platform when tags are set, so two concurrent sets of one piece end as one of them.
LOCK_PLATFORM_TAGS = CompiledQuery(select(func.pg_advisory_xact_lock(func.hashtext(bindparam("key", type_=String)))))


class PieceRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def platform_pieces(self, platform_id: str) -> list[asyncpg.Record]:
        return await PLATFORM_PIECES.fetch(self.conn, platform_id=platform_id)

    async def add_platform_piece(self, values: dict[str, Any]) -> None:
        try:
            async with self.conn.transaction():  # a savepoint: the request's transaction stays usable
                await INSERT_PIECE.execute(self.conn, **values, now=clock.now())
        except asyncpg.UniqueViolationError as exc:
            if unique_violation_on(exc, PIECE_VERSION_INDEX):
                raise PieceVersionExists() from None
            raise

    async def project_piece_filter(self, platform_id: str, project_id: str) -> tuple[str, list[str]] | None:
        """(`piecesFilterType`, `pieces`) of the project's plan; None when the project is not the
        platform's. A project without a plan row filters nothing."""
        row = await PROJECT_PIECE_FILTER.fetchrow(self.conn, platform_id=platform_id, project_id=project_id)
        if row is None:
            return None
        return (row["pieces_filter_type"] or "NONE", list(row["pieces"] or []))

    async def lock_tags(self, platform_id: str) -> None:
        await LOCK_PLATFORM_TAGS.fetchval(self.conn, key=f"piece_tag/{platform_id}")

    async def upsert_tag(self, tag_id: str, platform_id: str, name: str) -> str:
        return str(await UPSERT_TAG.fetchval(self.conn, id=tag_id, platform_id=platform_id, name=name, now=clock.now()))

    async def clear_piece_tags(self, platform_id: str, piece_name: str) -> None:
        await CLEAR_PIECE_TAGS.execute(self.conn, platform_id=platform_id, piece_name=piece_name)

    async def add_piece_tag(self, row_id: str, platform_id: str, piece_name: str, tag_id: str) -> None:
        await ADD_PIECE_TAG.execute(
            self.conn, id=row_id, platform_id=platform_id, piece_name=piece_name, tag_id=tag_id, now=clock.now()
        )

    async def tags_by_piece(self, platform_id: str) -> dict[str, list[str]]:
        rows = await TAGS_BY_PIECE.fetch(self.conn, platform_id=platform_id)
        return {row["piece_name"]: list(row["tags"]) for row in rows}
