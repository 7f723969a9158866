"""Flows and their versions (the folders that group them are app/folders/)."""

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, func, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.kit.db import Base
from app.platforms.models import TIMESTAMP


class Flow(Base):
    __tablename__ = "flow"
    __table_args__ = (
        # Embedders deploy flows keyed by externalId: one flow per externalId in a project.
        Index("uq_flow_project_id_external_id", "project_id", "external_id", unique=True),
        # Lists: a project's flows, enabled first, then most recently updated (keyset on status, updated, id).
        Index("ix_flow_project_id_status_updated_id", "project_id", "status", "updated", "id"),
        Index("ix_flow_folder_id", "folder_id"),
    )

    id: Mapped[str] = mapped_column(String(21), primary_key=True)
    created: Mapped[datetime] = mapped_column(TIMESTAMP, server_default=func.now())
    updated: Mapped[datetime] = mapped_column(TIMESTAMP, server_default=func.now())
    project_id: Mapped[str] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String)
    status: Mapped[str] = mapped_column(String(16), server_default="DISABLED")  # ENABLED | DISABLED
    operation_status: Mapped[str] = mapped_column(String(16), server_default="NONE")
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    folder_id: Mapped[str | None] = mapped_column(ForeignKey("folder.id", ondelete="SET NULL"))
    # No foreign key: the version points at the flow already, and both go together.
    published_version_id: Mapped[str | None] = mapped_column(String(21))
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONB)
    time_saved_per_run: Mapped[int | None] = mapped_column(Integer)
    template_id: Mapped[str | None] = mapped_column(String)
    trigger_source: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class FlowVersion(Base):
    __tablename__ = "flow_version"
    __table_args__ = (
        Index("ix_flow_version_flow_id_created_id", "flow_id", "created", "id"),
        # "Which flows use this connection" (a connection's flowIds, the connectionExternalIds filter).
        # No pending list (migration 0005): a connection list searches this index once a row.
        Index(
            "ix_flow_version_connection_ids",
            "connection_ids",
            postgresql_using="gin",
            postgresql_with={"fastupdate": "off"},
        ),
    )

    id: Mapped[str] = mapped_column(String(21), primary_key=True)
    created: Mapped[datetime] = mapped_column(TIMESTAMP, server_default=text("clock_timestamp()"))
    updated: Mapped[datetime] = mapped_column(TIMESTAMP, server_default=text("clock_timestamp()"))
    flow_id: Mapped[str] = mapped_column(ForeignKey("flow.id", ondelete="CASCADE"))
    display_name: Mapped[str] = mapped_column(String)
    trigger: Mapped[dict[str, Any]] = mapped_column(JSONB)
    valid: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(16))  # DRAFT | LOCKED
    connection_ids: Mapped[list[str]] = mapped_column(ARRAY(String), server_default=text("'{}'"))
    agent_ids: Mapped[list[str]] = mapped_column(ARRAY(String), server_default=text("'{}'"))
    notes: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=text("'[]'"))
    updated_by: Mapped[str | None] = mapped_column(String(21))
    schema_version: Mapped[str | None] = mapped_column(String)
    backup_files: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
