"""folders as their own resource: display order, external id, list index

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 17:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("folder", sa.Column("display_order", sa.Integer(), server_default="0", nullable=False))
    op.add_column("folder", sa.Column("external_id", sa.String(), nullable=True))
    # A folder's externalId is its id unless said otherwise, as the real server makes them.
    op.execute("UPDATE folder SET external_id = id WHERE external_id IS NULL")
    # The list: a project's folders, oldest first (keyset on created, id).
    op.create_index("ix_folder_project_id_created_id", "folder", ["project_id", "created", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_folder_project_id_created_id", table_name="folder")
    op.drop_column("folder", "external_id")
    op.drop_column("folder", "display_order")
