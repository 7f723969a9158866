"""Users and memberships straight in the database, for the member and role tests (the API has no
route that makes a user; the real server's tests save such rows with their repositories too)."""

from __future__ import annotations

from app.kit.db import Database
from app.kit.ids import new_id
from app.members.service import DEFAULT_ROLE_IDS


async def insert_user(
    db: Database, platform_id: str, *, platform_role: str = "MEMBER", external_id: str | None = None
) -> str:
    user_id = new_id()
    async with db.fast_transaction() as conn:
        await conn.execute(
            'INSERT INTO "user" (id, platform_id, email, first_name, last_name, platform_role, external_id) '
            "VALUES ($1, $2, $3, 'Member', 'User', $4, $5)",
            user_id,
            platform_id,
            f"member+{user_id.lower()}@example.com",
            platform_role,
            external_id,
        )
    return user_id


async def insert_member(
    db: Database, platform_id: str, project_id: str, user_id: str, *, role: str = "Viewer", role_id: str | None = None
) -> str:
    """A membership with a default role (by name) or any role (by id)."""
    member_id = new_id()
    async with db.fast_transaction() as conn:
        await conn.execute(
            "INSERT INTO project_member (id, platform_id, project_id, user_id, project_role_id) "
            "VALUES ($1, $2, $3, $4, $5)",
            member_id,
            platform_id,
            project_id,
            user_id,
            role_id or DEFAULT_ROLE_IDS[role],
        )
    return member_id


async def insert_custom_role(db: Database, platform_id: str, name: str, permissions: list[str]) -> str:
    role_id = new_id()
    async with db.fast_transaction() as conn:
        await conn.execute(
            "INSERT INTO project_role (id, platform_id, name, permissions, type) VALUES ($1, $2, $3, $4, 'CUSTOM')",
            role_id,
            platform_id,
            name,
            permissions,
        )
    return role_id
