"""platform users: unique email and externalId within a platform, keyset order of a platform's users

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 17:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # An email names one user of a platform, whatever its case (the real server lower-cases it).
    op.create_index("uq_user_platform_id_email", "user", ["platform_id", sa.text("lower(email)")], unique=True)
    op.create_index(
        "uq_user_platform_id_external_id",
        "user",
        ["platform_id", "external_id"],
        unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.create_index("ix_user_platform_id_created_id", "user", ["platform_id", "created", "id"])


def downgrade() -> None:
    op.drop_index("ix_user_platform_id_created_id", table_name="user")
    op.drop_index("uq_user_platform_id_external_id", table_name="user")
    op.drop_index("uq_user_platform_id_email", table_name="user")
