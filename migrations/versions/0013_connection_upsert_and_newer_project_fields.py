"""a global connection's externalId is no longer unique; newer real project fields

The real server's upsert can make a second global connection of one externalId (its index is not
unique); upserts of one externalId are serialised by an advisory lock instead. Projects gain
`notifyFlowOwnerOnFailure`, `workerGroupId` and `executionDataRetentionDays`.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("uq_app_connection_platform_id_external_id", table_name="app_connection")
    op.create_index(
        "ix_app_connection_platform_id_external_id",
        "app_connection",
        ["platform_id", "external_id"],
        postgresql_where=sa.text("scope = 'PLATFORM'"),
    )
    op.add_column(
        "project",
        sa.Column("notify_flow_owner_on_failure", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.add_column("project", sa.Column("worker_group_id", sa.String(), nullable=True))
    op.add_column("project", sa.Column("execution_data_retention_days", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("project", "execution_data_retention_days")
    op.drop_column("project", "worker_group_id")
    op.drop_column("project", "notify_flow_owner_on_failure")
    # Only possible while no externalId has two global connections.
    op.drop_index("ix_app_connection_platform_id_external_id", table_name="app_connection")
    op.create_index(
        "uq_app_connection_platform_id_external_id",
        "app_connection",
        ["platform_id", "external_id"],
        unique=True,
        postgresql_where=sa.text("scope = 'PLATFORM'"),
    )
