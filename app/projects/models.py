"""Projects, their plans, their members and the roles members have."""

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, func, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.kit.db import Base
from app.platforms.models import TIMESTAMP


class Project(Base):
    __tablename__ = "project"
    __table_args__ = (
        # Keyset pagination of a platform's projects: PERSONAL before TEAM, then by name.
        Index("ix_project_platform_id_type_display_name_id", "platform_id", "type", "display_name", "id"),
        # externalId is unique within a platform; the database enforces it, not a pre-check.
        Index(
            "uq_project_platform_id_external_id",
            "platform_id",
            "external_id",
            unique=True,
            postgresql_where=text("external_id IS NOT NULL"),
        ),
        Index("ix_project_owner_id", "owner_id"),
    )

    id: Mapped[str] = mapped_column(String(21), primary_key=True)
    created: Mapped[datetime] = mapped_column(TIMESTAMP, server_default=text("now()"))
    updated: Mapped[datetime] = mapped_column(TIMESTAMP, server_default=text("now()"))
    platform_id: Mapped[str] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    owner_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    display_name: Mapped[str] = mapped_column(String)
    type: Mapped[str] = mapped_column(String(16))  # TEAM | PERSONAL
    external_id: Mapped[str | None] = mapped_column(String)
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONB)
    max_concurrent_jobs: Mapped[int | None] = mapped_column(BigInteger)
    releases_enabled: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    icon_color: Mapped[str] = mapped_column(String(16))
    notify_status: Mapped[str] = mapped_column(String(16), server_default="NEVER")
    pool_id: Mapped[str | None] = mapped_column(String(21))
    # Newer real project fields: settable through the update route, with the real defaults.
    notify_flow_owner_on_failure: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    worker_group_id: Mapped[str | None] = mapped_column(String)
    execution_data_retention_days: Mapped[int | None] = mapped_column(BigInteger)


class ProjectPlan(Base):
    __tablename__ = "project_plan"

    id: Mapped[str] = mapped_column(String(21), primary_key=True)
    created: Mapped[datetime] = mapped_column(TIMESTAMP, server_default=text("now()"))
    updated: Mapped[datetime] = mapped_column(TIMESTAMP, server_default=text("now()"))
    project_id: Mapped[str] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), unique=True)
    name: Mapped[str] = mapped_column(String)
    locked: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    pieces_filter_type: Mapped[str] = mapped_column(String(16))  # NONE | ALLOWED
    pieces: Mapped[list[str]] = mapped_column(ARRAY(String), server_default=text("'{}'"))
    tasks: Mapped[int | None] = mapped_column(Integer)
    ai_credits: Mapped[int | None] = mapped_column(Integer)


class ProjectRole(Base):
    """A role a project member has: the default ones (no platform, every platform has them) and a
    platform's custom ones. Names are unique per platform, case-insensitively."""

    __tablename__ = "project_role"
    __table_args__ = (
        Index(
            "uq_project_role_platform_id_name",
            func.coalesce(text("platform_id"), ""),
            func.lower(text("name")),
            unique=True,
        ),
        Index("ix_project_role_platform_id_created", "platform_id", "created"),
    )

    id: Mapped[str] = mapped_column(String(21), primary_key=True)
    created: Mapped[datetime] = mapped_column(TIMESTAMP, server_default=text("now()"))
    updated: Mapped[datetime] = mapped_column(TIMESTAMP, server_default=text("now()"))
    platform_id: Mapped[str | None] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String)
    permissions: Mapped[list[str]] = mapped_column(ARRAY(String), server_default=text("'{}'"))
    type: Mapped[str] = mapped_column(String(16))  # DEFAULT | CUSTOM


class ProjectMember(Base):
    __tablename__ = "project_member"
    __table_args__ = (
        UniqueConstraint("project_id", "user_id"),
        # Keyset pagination of a project's members, oldest first.
        Index("ix_project_member_project_id_created_id", "project_id", "created", "id"),
    )

    id: Mapped[str] = mapped_column(String(21), primary_key=True)
    created: Mapped[datetime] = mapped_column(TIMESTAMP, server_default=text("now()"))
    updated: Mapped[datetime] = mapped_column(TIMESTAMP, server_default=text("now()"))
    platform_id: Mapped[str] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    project_id: Mapped[str] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    # Deleting a custom role removes its memberships, as the real server does.
    project_role_id: Mapped[str] = mapped_column(ForeignKey("project_role.id", ondelete="CASCADE"), index=True)
