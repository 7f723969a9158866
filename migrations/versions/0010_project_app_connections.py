"""project app connections

A connection is PLATFORM-scoped (a global connection, keyed by externalId on its platform) or
PROJECT-scoped (keyed by externalId in its one project, deleted with it).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 17:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("app_connection", sa.Column("project_id", sa.String(length=21), nullable=True))
    op.create_foreign_key(
        op.f("fk_app_connection_project_id_project"),
        "app_connection",
        "project",
        ["project_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_check_constraint(
        op.f("ck_app_connection_project_scope_has_project"),
        "app_connection",
        "(scope = 'PROJECT') = (project_id IS NOT NULL)",
    )
    op.drop_index("uq_app_connection_platform_id_external_id", table_name="app_connection")
    op.create_index(
        "uq_app_connection_platform_id_external_id",
        "app_connection",
        ["platform_id", "external_id"],
        unique=True,
        postgresql_where=sa.text("scope = 'PLATFORM'"),
    )
    op.create_index(
        "uq_app_connection_project_id_external_id",
        "app_connection",
        ["project_id", "external_id"],
        unique=True,
        postgresql_where=sa.text("scope = 'PROJECT'"),
    )


def downgrade() -> None:
    op.execute("DELETE FROM app_connection WHERE scope = 'PROJECT'")
    op.drop_index("uq_app_connection_project_id_external_id", table_name="app_connection")
    op.drop_index("uq_app_connection_platform_id_external_id", table_name="app_connection")
    op.create_index(
        "uq_app_connection_platform_id_external_id", "app_connection", ["platform_id", "external_id"], unique=True
    )
    op.drop_constraint(op.f("ck_app_connection_project_scope_has_project"), "app_connection", type_="check")
    op.drop_constraint(op.f("fk_app_connection_project_id_project"), "app_connection", type_="foreignkey")
    op.drop_column("app_connection", "project_id")
