"""A platform's invitations: of an email to the platform (with a platform role) or to one of its
projects (with a project role). One per (platform, email, type, project)."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from app.kit.db import Base
from app.platforms.models import TIMESTAMP

INVITATION_INDEX = "uq_user_invitation_platform_id_email_type_project_id"


class UserInvitation(Base):
    __tablename__ = "user_invitation"
    __table_args__ = (
        # One invitation per email, kind and project: a second invitation replaces the first.
        Index(
            INVITATION_INDEX,
            "platform_id",
            "email",
            "type",
            func.coalesce(text("project_id"), ""),
            unique=True,
        ),
        # Keyset pagination of a platform's invitations, oldest first.
        Index("ix_user_invitation_platform_id_created_id", "platform_id", "created", "id"),
    )

    id: Mapped[str] = mapped_column(String(21), primary_key=True)
    created: Mapped[datetime] = mapped_column(TIMESTAMP, server_default=text("now()"))
    updated: Mapped[datetime] = mapped_column(TIMESTAMP, server_default=text("now()"))
    platform_id: Mapped[str] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    # Lower case, trimmed (as the real server stores it).
    email: Mapped[str] = mapped_column(String(320))
    type: Mapped[str] = mapped_column(String(16))  # PLATFORM | PROJECT
    status: Mapped[str] = mapped_column(String(16))  # PENDING | ACCEPTED
    platform_role: Mapped[str | None] = mapped_column(String(16))
    project_id: Mapped[str | None] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), index=True)
    # A deleted custom role takes its invitations along, as it takes its memberships.
    project_role_id: Mapped[str | None] = mapped_column(ForeignKey("project_role.id", ondelete="CASCADE"), index=True)
    # SHA-256 of the token in the invitation's link (the token itself is never stored).
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
