"""project roles: the default roles, platforms' custom roles, and members referring to their role

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 17:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The default roles as `@activepieces/shared` 0.96.2 defines them (`rolePermissions`). Their ids are
# fixed here; app/members/roles.py holds the same ids.
READ_ONLY = [
    "READ_APP_CONNECTION",
    "READ_FLOW",
    "READ_PROJECT_MEMBER",
    "READ_INVITATION",
    "READ_PROJECT",
    "READ_RUN",
    "READ_FOLDER",
    "READ_TABLE",
    "READ_MCP",
    "READ_KNOWLEDGE_BASE",
    "READ_VARIABLE",
]
EDITOR = [
    "READ_APP_CONNECTION",
    "WRITE_APP_CONNECTION",
    "READ_FLOW",
    "WRITE_FLOW",
    "UPDATE_FLOW_STATUS",
    "READ_PROJECT_MEMBER",
    "READ_INVITATION",
    "WRITE_PROJECT_RELEASE",
    "READ_PROJECT_RELEASE",
    "READ_RUN",
    "WRITE_RUN",
    "READ_PROJECT",
    "WRITE_FOLDER",
    "READ_FOLDER",
    "READ_TABLE",
    "WRITE_TABLE",
    "READ_MCP",
    "WRITE_MCP",
    "READ_KNOWLEDGE_BASE",
    "WRITE_KNOWLEDGE_BASE",
    "READ_VARIABLE",
    "WRITE_VARIABLE",
]
ADMIN = [
    "READ_APP_CONNECTION",
    "WRITE_APP_CONNECTION",
    "READ_FLOW",
    "WRITE_FLOW",
    "UPDATE_FLOW_STATUS",
    "READ_PROJECT_MEMBER",
    "WRITE_PROJECT_MEMBER",
    "WRITE_INVITATION",
    "READ_INVITATION",
    "WRITE_PROJECT_RELEASE",
    "READ_PROJECT_RELEASE",
    "READ_RUN",
    "WRITE_RUN",
    "WRITE_ALERT",
    "READ_ALERT",
    "WRITE_PROJECT",
    "READ_PROJECT",
    "WRITE_FOLDER",
    "READ_FOLDER",
    "READ_TABLE",
    "WRITE_TABLE",
    "READ_MCP",
    "WRITE_MCP",
    "READ_KNOWLEDGE_BASE",
    "WRITE_KNOWLEDGE_BASE",
    "READ_VARIABLE",
    "WRITE_VARIABLE",
]
DEFAULT_ROLES = [
    ("defaultRoleAdmin00000", "Admin", ADMIN, "2024-01-01T00:00:00Z"),
    ("defaultRoleEditor0000", "Editor", EDITOR, "2024-01-01T00:00:01Z"),
    ("defaultRoleViewer0000", "Viewer", READ_ONLY, "2024-01-01T00:00:02Z"),
]
# The role names project_member held before: OPERATOR (no default role of its own any more) becomes
# Editor, as the real server treats a platform operator in a project.
OLD_ROLE_NAMES = {"ADMIN": "Admin", "EDITOR": "Editor", "OPERATOR": "Editor", "VIEWER": "Viewer"}


def upgrade() -> None:
    op.create_table(
        "project_role",
        sa.Column("id", sa.String(length=21), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("platform_id", sa.String(length=21), nullable=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("permissions", postgresql.ARRAY(sa.String()), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platform.id"], name=op.f("fk_project_role_platform_id_platform"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_role")),
    )
    op.create_index(
        "uq_project_role_platform_id_name",
        "project_role",
        [sa.text("coalesce(platform_id, '')"), sa.text("lower(name)")],
        unique=True,
    )
    op.create_index("ix_project_role_platform_id_created", "project_role", ["platform_id", "created"], unique=False)
    roles = sa.table(
        "project_role",
        sa.column("id", sa.String),
        sa.column("created", sa.DateTime(timezone=True)),
        sa.column("updated", sa.DateTime(timezone=True)),
        sa.column("platform_id", sa.String),
        sa.column("name", sa.String),
        sa.column("permissions", postgresql.ARRAY(sa.String())),
        sa.column("type", sa.String),
    )
    for role_id, name, permissions, created in DEFAULT_ROLES:
        op.execute(
            roles.insert().values(
                id=role_id,
                created=sa.text(f"'{created}'::timestamptz"),
                updated=sa.text(f"'{created}'::timestamptz"),
                platform_id=None,
                name=name,
                permissions=permissions,
                type="DEFAULT",
            )
        )

    # Members keep their role: the old role name becomes a reference to the default role's row.
    op.add_column("project_member", sa.Column("project_role_id", sa.String(length=21), nullable=True))
    for old_name, name in OLD_ROLE_NAMES.items():
        op.execute(
            sa.text(
                "UPDATE project_member SET project_role_id = "
                "(SELECT id FROM project_role WHERE platform_id IS NULL AND name = :name) "
                "WHERE upper(project_role) = :old_name"
            ).bindparams(name=name, old_name=old_name)
        )
    # Anything else (no such name was ever written) keeps the least access.
    op.execute("UPDATE project_member SET project_role_id = 'defaultRoleViewer0000' WHERE project_role_id IS NULL")
    op.alter_column("project_member", "project_role_id", nullable=False)
    op.create_foreign_key(
        op.f("fk_project_member_project_role_id_project_role"),
        "project_member",
        "project_role",
        ["project_role_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_index(op.f("ix_project_member_project_role_id"), "project_member", ["project_role_id"], unique=False)
    op.create_index(
        "ix_project_member_project_id_created_id", "project_member", ["project_id", "created", "id"], unique=False
    )
    op.drop_column("project_member", "project_role")


def downgrade() -> None:
    op.add_column("project_member", sa.Column("project_role", sa.String(length=32), nullable=True))
    # A custom role has no old name: its members become editors.
    op.execute(
        "UPDATE project_member m SET project_role = CASE r.name "
        "WHEN 'Admin' THEN 'ADMIN' WHEN 'Viewer' THEN 'VIEWER' ELSE 'EDITOR' END "
        "FROM project_role r WHERE r.id = m.project_role_id"
    )
    op.alter_column("project_member", "project_role", nullable=False)
    op.drop_index("ix_project_member_project_id_created_id", table_name="project_member")
    op.drop_index(op.f("ix_project_member_project_role_id"), table_name="project_member")
    op.drop_constraint(op.f("fk_project_member_project_role_id_project_role"), "project_member", type_="foreignkey")
    op.drop_column("project_member", "project_role_id")
    op.drop_index("ix_project_role_platform_id_created", table_name="project_role")
    op.drop_index("uq_project_role_platform_id_name", table_name="project_role")
    op.drop_table("project_role")
