"""user invitations: a platform's invitations of an email to the platform or to a project

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 18:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_invitation",
        sa.Column("id", sa.String(length=21), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("platform_id", sa.String(length=21), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("platform_role", sa.String(length=16), nullable=True),
        sa.Column("project_id", sa.String(length=21), nullable=True),
        sa.Column("project_role_id", sa.String(length=21), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platform.id"], name=op.f("fk_user_invitation_platform_id_platform"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["project.id"], name=op.f("fk_user_invitation_project_id_project"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["project_role_id"],
            ["project_role.id"],
            name=op.f("fk_user_invitation_project_role_id_project_role"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_invitation")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_invitation_token_hash")),
    )
    op.create_index(
        "uq_user_invitation_platform_id_email_type_project_id",
        "user_invitation",
        ["platform_id", "email", "type", sa.text("coalesce(project_id, '')")],
        unique=True,
    )
    op.create_index(
        "ix_user_invitation_platform_id_created_id", "user_invitation", ["platform_id", "created", "id"], unique=False
    )
    op.create_index(op.f("ix_user_invitation_project_id"), "user_invitation", ["project_id"], unique=False)
    op.create_index(op.f("ix_user_invitation_project_role_id"), "user_invitation", ["project_role_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_user_invitation_project_role_id"), table_name="user_invitation")
    op.drop_index(op.f("ix_user_invitation_project_id"), table_name="user_invitation")
    op.drop_index("ix_user_invitation_platform_id_created_id", table_name="user_invitation")
    op.drop_index("uq_user_invitation_platform_id_email_type_project_id", table_name="user_invitation")
    op.drop_table("user_invitation")
