"""API keys: creating them and resolving them to principals. Provisioning a whole platform (with
its owner's project) is `app.projects.provisioning`, a layer above."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from app.edge.auth import Principal, hash_api_key
from app.kit.db import Database
from app.kit.errors import AuthenticationFailed, EntityNotFound, NotTheCallersPlatform
from app.kit.ids import new_api_key, new_id
from app.platforms.plans import is_open_source
from app.platforms.repository import PlatformRepository, PlatformRow
from app.platforms.schemas import platform_body

# How many of a platform's flows are enabled: flows sit above platforms, so `app.services` hands it in.
ActiveFlows = Callable[[asyncpg.Connection, str], Awaitable[int]]

TEAM_PROJECTS_LIMIT_BY_EDITION = {"COMMUNITY": "NONE", "PRO": "ONE", "ENTERPRISE": "UNLIMITED"}


class PlatformService:
    def __init__(self, db: Database, active_flows: ActiveFlows | None = None) -> None:
        self.db = db
        self.active_flows = active_flows

    async def get(self, principal: Principal, platform_id: str) -> dict[str, Any]:
        """The caller's own platform, with its plan (and usage, on a licensed edition). Any other id
        is not the caller's: the real server compares ids before any lookup."""
        if platform_id != principal.platform_id:
            raise NotTheCallersPlatform(platform_id)
        async with self.db.fast_read() as conn:
            row = await PlatformRepository(conn).get(platform_id)
            if row is None:  # deleted since the key was resolved: the key is gone with it
                raise AuthenticationFailed()
            active = await self._usage(conn, row)
        return platform_body(row, active)

    async def get_row(self, platform_id: str) -> PlatformRow | None:
        async with self.db.fast_read() as conn:
            return await PlatformRepository(conn).get(platform_id)

    async def any_user(self) -> bool:
        async with self.db.fast_read() as conn:
            return await PlatformRepository(conn).any_user()

    async def _usage(self, conn: asyncpg.Connection, row: PlatformRow) -> int | None:
        if is_open_source(row.edition):
            return None  # the open-source edition keeps no usage
        return await self.active_flows(conn, row.id) if self.active_flows is not None else 0

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
