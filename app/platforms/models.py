"""Tenancy: a platform owns users, API keys and (through them) everything else."""

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from app.kit.db import Base

TIMESTAMP = DateTime(timezone=True)


class Platform(Base):
    __tablename__ = "platform"

    id: Mapped[str] = mapped_column(String(21), primary_key=True)
    created: Mapped[datetime] = mapped_column(TIMESTAMP, server_default=func.now())
    updated: Mapped[datetime] = mapped_column(TIMESTAMP, server_default=func.now())
    name: Mapped[str] = mapped_column(String(255))
    # Plain column, no foreign key: the owner row points back at its platform.
    owner_id: Mapped[str] = mapped_column(String(21))
    edition: Mapped[str] = mapped_column(String(16))  # COMMUNITY | PRO | ENTERPRISE
    team_projects_limit: Mapped[str] = mapped_column(String(16))  # NONE | ONE | UNLIMITED


class User(Base):
    __tablename__ = "user"
    __table_args__ = (
        # Email (any case) and externalId each name one user of a platform; the database enforces it.
        Index("uq_user_platform_id_email", "platform_id", text("lower(email)"), unique=True),
        Index(
            "uq_user_platform_id_external_id",
            "platform_id",
            "external_id",
            unique=True,
            postgresql_where=text("external_id IS NOT NULL"),
        ),
        # Keyset pagination of a platform's users, newest first.
        Index("ix_user_platform_id_created_id", "platform_id", "created", "id"),
    )

    id: Mapped[str] = mapped_column(String(21), primary_key=True)
    created: Mapped[datetime] = mapped_column(TIMESTAMP, server_default=func.now())
    updated: Mapped[datetime] = mapped_column(TIMESTAMP, server_default=func.now())
    platform_id: Mapped[str] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    first_name: Mapped[str] = mapped_column(String(255))
    last_name: Mapped[str] = mapped_column(String(255))
    platform_role: Mapped[str] = mapped_column(String(16))  # ADMIN | MEMBER | OPERATOR
    status: Mapped[str] = mapped_column(String(16), server_default="ACTIVE")
    external_id: Mapped[str | None] = mapped_column(String(255))
    image_url: Mapped[str | None] = mapped_column(String(2048))
    last_active_date: Mapped[datetime | None] = mapped_column(TIMESTAMP)


class ApiKey(Base):
    __tablename__ = "api_key"
    __table_args__ = (Index("uq_api_key_key_hash", "key_hash", unique=True),)

    id: Mapped[str] = mapped_column(String(21), primary_key=True)
    created: Mapped[datetime] = mapped_column(TIMESTAMP, server_default=func.now())
    platform_id: Mapped[str] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"), index=True)
    display_name: Mapped[str] = mapped_column(String(255))
    # SHA-256 of the key: the key itself is shown once and never stored.
    key_hash: Mapped[str] = mapped_column(String(64))
    truncated_key: Mapped[str] = mapped_column(String(8))
