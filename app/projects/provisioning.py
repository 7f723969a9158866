"""Provisioning a platform: the platform, its owner, the owner's PERSONAL project and a first API
key, in one transaction. It lives above platforms because it makes a project."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from app.edge.auth import hash_api_key
from app.kit.db import MIGRATION_LOCK_KEY, Database
from app.kit.errors import ValidationFailed
from app.kit.ids import new_api_key, new_id
from app.platforms.repository import PlatformRepository
from app.platforms.service import TEAM_PROJECTS_LIMIT_BY_EDITION, PlatformService
from app.projects.repository import ProjectRepository
from app.projects.service import new_project_values


@dataclass(frozen=True, slots=True)
class CreatedPlatform:
    platform_id: str
    owner_id: str
    api_key: str


class PlatformProvisioning:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create_platform(self, name: str, edition: str, api_key: str | None = None) -> CreatedPlatform:
        """A platform, its owner (an ADMIN user), the owner's PERSONAL project, and an API key."""
        if edition not in TEAM_PROJECTS_LIMIT_BY_EDITION:
            raise ValidationFailed(f"edition must be one of {', '.join(TEAM_PROJECTS_LIMIT_BY_EDITION)}")
        async with self.db.fast_transaction() as conn:
            return await self._insert_platform(conn, name, edition, api_key or new_api_key())

    async def _insert_platform(self, conn: asyncpg.Connection, name: str, edition: str, key: str) -> CreatedPlatform:
        platforms = PlatformRepository(conn)
        platform_id, owner_id = new_id(), new_id()
        await platforms.insert_platform(
            id=platform_id,
            name=name,
            owner_id=owner_id,
            edition=edition,
            team_projects_limit=TEAM_PROJECTS_LIMIT_BY_EDITION[edition],
        )
        await platforms.insert_user(
            id=owner_id,
            platform_id=platform_id,
            email=f"owner+{platform_id.lower()}@openpieces.local",
            first_name="Platform",
            last_name="Owner",
            platform_role="ADMIN",
        )
        project, plan = new_project_values(
            platform_id=platform_id,
            owner_id=owner_id,
            display_name="Platform Owner's Project",
            project_type="PERSONAL",
        )
        await ProjectRepository(conn).insert(project, plan)
        await PlatformService.insert_key(platforms, platform_id, key)
        return CreatedPlatform(platform_id=platform_id, owner_id=owner_id, api_key=key)

    async def ensure_bootstrap_platform(self, api_key: str, edition: str) -> CreatedPlatform | None:
        """Create a platform holding `api_key` unless one already does. Workers starting at once
        take turns on an advisory lock, so exactly one platform is made."""
        async with self.db.fast_transaction() as conn:
            platforms = PlatformRepository(conn)
            await platforms.take_bootstrap_lock(MIGRATION_LOCK_KEY)
            if await platforms.key_exists(hash_api_key(api_key)):
                return None
            return await self._insert_platform(conn, "Bootstrap Platform", edition, api_key)
