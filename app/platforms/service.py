"""API keys: creating them and resolving them to principals. Provisioning a whole platform (with
its owner's project) is `app.projects.provisioning`, a layer above."""

from __future__ import annotations

from app.edge.auth import Principal, hash_api_key
from app.kit.db import Database
from app.kit.errors import EntityNotFound
from app.kit.ids import new_api_key, new_id
from app.platforms.repository import PlatformRepository

TEAM_PROJECTS_LIMIT_BY_EDITION = {"COMMUNITY": "NONE", "PRO": "ONE", "ENTERPRISE": "UNLIMITED"}


class PlatformService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def resolve_api_key(self, key_hash: str) -> Principal | None:
        async with self.db.fast_read() as conn:
            resolved = await PlatformRepository(conn).resolve_key(key_hash)
        if resolved is None:
            return None
        return Principal(platform_id=resolved.platform_id, owner_id=resolved.owner_id, api_key_id=resolved.api_key_id)

    async def create_api_key(self, platform_id: str) -> str:
        key = new_api_key()
        async with self.db.fast_transaction() as conn:
            platforms = PlatformRepository(conn)
            if await platforms.get(platform_id) is None:
                raise EntityNotFound("platform", platform_id, "Platform not found")
            await self.insert_key(platforms, platform_id, key)
        return key

    @staticmethod
    async def insert_key(platforms: PlatformRepository, platform_id: str, key: str) -> None:
        await platforms.insert_api_key(
            id=new_id(),
            platform_id=platform_id,
            display_name="API key",
            key_hash=hash_api_key(key),
            truncated_key=key[-4:],
        )
