"""flow versions stored in schema version 17 move to 22

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 18:20:00.000000

Versions this server wrote before it followed @activepieces/shared 0.96.2 say "17" and may keep a
piece version range (`~0.1.5`). The real server migrates such versions when it reads them (its
v17..v21 migrations: every step already has `lastUpdatedDate` here, and a range becomes the exact
version); here it is done once.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # jsonb prints `"key": "value"`: only a string under a `pieceVersion` key that starts with ~ or ^
    # is touched (steps keep it in settings; an input of that name would be too, which no piece has).
    op.execute(
        """
        UPDATE flow_version
        SET trigger = regexp_replace(trigger::text, '"pieceVersion": "[~^]', '"pieceVersion": "', 'g')::jsonb,
            schema_version = '22'
        WHERE schema_version = '17'
        """
    )


def downgrade() -> None:
    op.execute("UPDATE flow_version SET schema_version = '17' WHERE schema_version = '22'")
