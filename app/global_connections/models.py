"""Platform-scoped app connections and their links to projects."""

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.kit.db import Base
from app.platforms.models import TIMESTAMP


class AppConnection(Base):
    __tablename__ = "app_connection"
    __table_args__ = (
        # The upsert key: one connection per externalId on a platform.
        Index("uq_app_connection_platform_id_external_id", "platform_id", "external_id", unique=True),
        Index("ix_app_connection_platform_id_created_id", "platform_id", "created", "id"),
    )

    id: Mapped[str] = mapped_column(String(21), primary_key=True)
    created: Mapped[datetime] = mapped_column(TIMESTAMP, server_default=text("now()"))
    updated: Mapped[datetime] = mapped_column(TIMESTAMP, server_default=text("now()"))
    platform_id: Mapped[str] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
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
    """The one relation behind a connection's `projectIds` and a project's
    `globalConnectionExternalIds`."""

    __tablename__ = "app_connection_project"
    __table_args__ = (Index("ix_app_connection_project_project_id", "project_id"),)

    connection_id: Mapped[str] = mapped_column(ForeignKey("app_connection.id", ondelete="CASCADE"), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), primary_key=True)
    linked_at: Mapped[datetime] = mapped_column(TIMESTAMP, server_default=text("clock_timestamp()"))
