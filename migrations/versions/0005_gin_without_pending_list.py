"""flowIds' GIN index without a pending list

Revision ID: 0005
Revises: 0004

With GIN's fastupdate (PostgreSQL's default) every written flow version goes to a pending list that
every search scans until a vacuum merges it. A connection list runs one search per connection, so
after a few thousand flow edits it was 3-4x slower (bench/run: 300 -> 70 requests/s). Without the
pending list a write updates the index directly, and a search costs what the index says.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER INDEX ix_flow_version_connection_ids SET (fastupdate = off)")
    # What is already pending goes into the index now, not at the next vacuum.
    op.execute("SELECT gin_clean_pending_list('ix_flow_version_connection_ids'::regclass)")


def downgrade() -> None:
    op.execute("ALTER INDEX ix_flow_version_connection_ids RESET (fastupdate)")
