"""shared admin traffic (faults, request log) and database defaults for pooled connections

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 17:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # JIT off as the database's default: a transaction-mode pooler passes no per-connection setting.
    # Only the database's owner may do it; anyone else keeps the server's default (a notice says so).
    op.execute(
        """
        DO $$
        BEGIN
            EXECUTE format('ALTER DATABASE %I SET jit = off', current_database());
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'not the owner of the database: jit keeps the server default';
        END $$
        """
    )
    op.create_table(
        "admin_fault",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("id", sa.String(length=21), nullable=False),
        sa.Column("path_pattern", sa.String(), nullable=False),
        sa.Column("method", sa.String(), nullable=True),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(), nullable=True),
        sa.Column("times", sa.Integer(), nullable=False),
        sa.Column("delay_ms", sa.Integer(), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_admin_fault")),
        sa.UniqueConstraint("id", name=op.f("uq_admin_fault_id")),
    )
    op.create_table(
        "admin_request_log",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("finished", sa.DateTime(timezone=True), nullable=False),
        sa.Column("method", sa.String(), nullable=False),
        sa.Column("path", sa.String(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("ms", sa.Float(), nullable=False),
        sa.Column("request_id", sa.String(), nullable=False),
        sa.Column("body_size", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_admin_request_log")),
    )


def downgrade() -> None:
    op.drop_table("admin_request_log")
    op.drop_table("admin_fault")
    op.execute(
        """
        DO $$
        BEGIN
            EXECUTE format('ALTER DATABASE %I RESET jit', current_database());
        EXCEPTION WHEN insufficient_privilege THEN
            NULL;
        END $$
        """
    )
