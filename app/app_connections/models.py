"""App connections: one table for both scopes. A PLATFORM connection (a global connection) is found
by its externalId on the platform and linked to any number of projects; a PROJECT connection is
keyed by its externalId in its one project, which it is also linked to."""

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.kit.db import Base
from app.platforms.models import TIMESTAMP

PLATFORM_EXTERNAL_ID_INDEX = "ix_app_connection_platform_id_external_id"
PROJECT_UPSERT_KEY = "uq_app_connection_project_id_external_id"


class AppConnection(Base):
    __tablename__ = "app_connection"
    __table_args__ = (
        # A global connection is found by its externalId on the platform, which is not unique
        # (the real server's upsert can make a second row; see GlobalConnectionRepository); one
        # project connection per externalId in a project.
        Index(
            PLATFORM_EXTERNAL_ID_INDEX,
            "platform_id",
            "external_id",
            postgresql_where=text("scope = 'PLATFORM'"),
        ),
        Index(
            PROJECT_UPSERT_KEY,
            "project_id",
            "external_id",
            unique=True,
            postgresql_where=text("scope = 'PROJECT'"),
        ),
        Index("ix_app_connection_platform_id_created_id", "platform_id", "created", "id"),
        # A project connection has its project; a global one has none.
        CheckConstraint("(scope = 'PROJECT') = (project_id IS NOT NULL)", name="project_scope_has_project"),
    )

    id: Mapped[str] = mapped_column(String(21), primary_key=True)
    created: Mapped[datetime] = mapped_column(TIMESTAMP, server_default=text("now()"))
    updated: Mapped[datetime] = mapped_column(TIMESTAMP, server_default=text("now()"))
    platform_id: Mapped[str] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    # The owning project of a PROJECT connection (deleted with it); NULL for a PLATFORM one.
    project_id: Mapped[str | None] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String)
    display_name: Mapped[str] = mapped_column(String)
    piece_name: Mapped[str] = mapped_column(String)
    piece_version: Mapped[str] = mapped_column(String)
    type: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(16), server_default="PLATFORM")
    status: Mapped[str] = mapped_column(String(16), server_default="ACTIVE")
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONB)
    pre_select_for_new_projects: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # AES-GCM ciphertext of the value (app/kit/crypto.py); never selected by a read that answers a client.
    value_encrypted: Mapped[str] = mapped_column(Text)


class AppConnectionProject(Base):
    """The one relation behind a connection's `projectIds`, a project's
    `globalConnectionExternalIds` and a project's connection list."""

    __tablename__ = "app_connection_project"
    __table_args__ = (Index("ix_app_connection_project_project_id", "project_id"),)

    connection_id: Mapped[str] = mapped_column(ForeignKey("app_connection.id", ondelete="CASCADE"), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), primary_key=True)
    linked_at: Mapped[datetime] = mapped_column(TIMESTAMP, server_default=text("clock_timestamp()"))
