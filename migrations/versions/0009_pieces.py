"""a platform's own pieces and piece tags

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 17:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "platform_piece",
        sa.Column("id", sa.String(length=21), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("platform_id", sa.String(length=21), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("version", sa.String(), nullable=False),
        sa.Column("package_type", sa.String(length=16), nullable=False),
        sa.Column("metadata", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platform.id"], name=op.f("fk_platform_piece_platform_id_platform"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_piece")),
    )
    op.create_index(
        "uq_platform_piece_platform_id_name_version",
        "platform_piece",
        ["platform_id", "name", "version"],
        unique=True,
    )
    op.create_table(
        "tag",
        sa.Column("id", sa.String(length=21), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("platform_id", sa.String(length=21), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platform.id"], name=op.f("fk_tag_platform_id_platform"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tag")),
    )
    op.create_index("uq_tag_platform_id_name", "tag", ["platform_id", "name"], unique=True)
    op.create_table(
        "piece_tag",
        sa.Column("id", sa.String(length=21), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), server_default=sa.text("clock_timestamp()"), nullable=False),
        sa.Column("platform_id", sa.String(length=21), nullable=False),
        sa.Column("piece_name", sa.String(), nullable=False),
        sa.Column("tag_id", sa.String(length=21), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platform.id"], name=op.f("fk_piece_tag_platform_id_platform"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["tag_id"], ["tag.id"], name=op.f("fk_piece_tag_tag_id_tag"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_piece_tag")),
    )
    op.create_index("uq_piece_tag_tag_id_piece_name", "piece_tag", ["tag_id", "piece_name"], unique=True)
    op.create_index("ix_piece_tag_platform_id_piece_name", "piece_tag", ["platform_id", "piece_name"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_piece_tag_platform_id_piece_name", table_name="piece_tag")
    op.drop_index("uq_piece_tag_tag_id_piece_name", table_name="piece_tag")
    op.drop_table("piece_tag")
    op.drop_index("uq_tag_platform_id_name", table_name="tag")
    op.drop_table("tag")
    op.drop_index("uq_platform_piece_platform_id_name_version", table_name="platform_piece")
    op.drop_table("platform_piece")
