"""list order indexes: projects and flows are listed in the real server's order, so their keyset
indexes follow it (projects by type, name and id within a platform; flows by status, updated and id
within a project) instead of the creation and update order they replace

Revision ID: 0016
Revises: 0013
Create Date: 2026-12-03 13:05:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_project_platform_id_type_display_name_id", "project", ["platform_id", "type", "display_name", "id"]
    )
    op.drop_index("ix_project_platform_id_created_id", table_name="project")
    op.create_index("ix_flow_project_id_status_updated_id", "flow", ["project_id", "status", "updated", "id"])
    op.drop_index("ix_flow_project_id_updated_id", table_name="flow")


def downgrade() -> None:
    op.create_index("ix_flow_project_id_updated_id", "flow", ["project_id", "updated", "id"])
    op.drop_index("ix_flow_project_id_status_updated_id", table_name="flow")
    op.create_index("ix_project_platform_id_created_id", "project", ["platform_id", "created", "id"])
    op.drop_index("ix_project_platform_id_type_display_name_id", table_name="project")
