"""A platform's own pieces and its piece tags. The published pieces are no rows: they ship with the
server (app/pieces/catalog.py)."""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.kit.db import Base
from app.platforms.models import TIMESTAMP


class PlatformPiece(Base):
    """A CUSTOM piece a platform added (`POST /v1/pieces`): seen by that platform only."""

    __tablename__ = "platform_piece"
    __table_args__ = (
        # One row per version of a piece on a platform (the real piece_metadata's unique key).
        Index("uq_platform_piece_platform_id_name_version", "platform_id", "name", "version", unique=True),
    )

    id: Mapped[str] = mapped_column(String(21), primary_key=True)
    created: Mapped[datetime] = mapped_column(TIMESTAMP, server_default=text("now()"))
    updated: Mapped[datetime] = mapped_column(TIMESTAMP, server_default=text("now()"))
    platform_id: Mapped[str] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String)
    version: Mapped[str] = mapped_column(String)
    package_type: Mapped[str] = mapped_column(String(16))  # REGISTRY | ARCHIVE
    # The piece's metadata as its package exports it (displayName, auth, actions, triggers, ...).
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSONB)


class Tag(Base):
    __tablename__ = "tag"
    __table_args__ = (Index("uq_tag_platform_id_name", "platform_id", "name", unique=True),)

    id: Mapped[str] = mapped_column(String(21), primary_key=True)
    created: Mapped[datetime] = mapped_column(TIMESTAMP, server_default=text("now()"))
    updated: Mapped[datetime] = mapped_column(TIMESTAMP, server_default=text("now()"))
    platform_id: Mapped[str] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String)


class PieceTag(Base):
    __tablename__ = "piece_tag"
    __table_args__ = (
        Index("uq_piece_tag_tag_id_piece_name", "tag_id", "piece_name", unique=True),
        Index("ix_piece_tag_platform_id_piece_name", "platform_id", "piece_name"),
    )

    id: Mapped[str] = mapped_column(String(21), primary_key=True)
    created: Mapped[datetime] = mapped_column(TIMESTAMP, server_default=text("clock_timestamp()"))
    platform_id: Mapped[str] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    piece_name: Mapped[str] = mapped_column(String)
    tag_id: Mapped[str] = mapped_column(ForeignKey("tag.id", ondelete="CASCADE"))
