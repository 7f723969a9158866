"""SQL for platforms, their users and their API keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg
from sqlalchemy import BigInteger, bindparam, delete, func, select

from app.kit.db import CompiledQuery, affected_rows, insert_row
from app.platforms.models import ApiKey, Platform, User

platform_t = Platform.__table__
user_t = User.__table__
api_key_t = ApiKey.__table__


@dataclass(frozen=True, slots=True)
class PlatformRow:
    id: str
    name: str
    owner_id: str
    edition: str
    team_projects_limit: str
    created: datetime
    updated: datetime


@dataclass(frozen=True, slots=True)
class ResolvedKey:
    api_key_id: str
    platform_id: str
    owner_id: str


_PLATFORM_COLUMNS = (
    platform_t.c.id,
    platform_t.c.name,
    platform_t.c.owner_id,
    platform_t.c.edition,
    platform_t.c.team_projects_limit,
    platform_t.c.created,
    platform_t.c.updated,
)
GET_PLATFORM = CompiledQuery(select(*_PLATFORM_COLUMNS).where(platform_t.c.id == bindparam("platform_id")))
# Creates of a platform's projects take turns on its row, so the team-project limit holds.
LOCK_PLATFORM = CompiledQuery(
    select(*_PLATFORM_COLUMNS).where(platform_t.c.id == bindparam("platform_id")).with_for_update()
)
LIST_PLATFORMS = CompiledQuery(select(*_PLATFORM_COLUMNS).order_by(platform_t.c.created, platform_t.c.id))
DELETE_PLATFORM = CompiledQuery(delete(platform_t).where(platform_t.c.id == bindparam("platform_id")))
RESOLVE_KEY = CompiledQuery(
    select(api_key_t.c.id, platform_t.c.id, platform_t.c.owner_id)
    .join(platform_t, platform_t.c.id == api_key_t.c.platform_id)
    .where(api_key_t.c.key_hash == bindparam("key_hash"))
)
KEY_PLATFORM = CompiledQuery(select(api_key_t.c.platform_id).where(api_key_t.c.key_hash == bindparam("key_hash")))
ANY_USER = CompiledQuery(select(func.count()).select_from(select(user_t.c.id).limit(1).subquery()))
BOOTSTRAP_LOCK = CompiledQuery(select(func.pg_advisory_xact_lock(bindparam("key", type_=BigInteger))))


class PlatformRepository:
    """Runs on a raw asyncpg connection (in a transaction for writes); every statement is compiled once."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def insert_platform(
        self, *, id: str, name: str, owner_id: str, edition: str, team_projects_limit: str
    ) -> None:
        values = {"id": id, "name": name, "owner_id": owner_id, "edition": edition}
        await insert_row(self.conn, platform_t, values | {"team_projects_limit": team_projects_limit})

    async def insert_user(
        self, *, id: str, platform_id: str, email: str, first_name: str, last_name: str, platform_role: str
    ) -> None:
        values = {"id": id, "platform_id": platform_id, "email": email, "first_name": first_name}
        await insert_row(self.conn, user_t, values | {"last_name": last_name, "platform_role": platform_role})

    async def insert_api_key(
        self, *, id: str, platform_id: str, display_name: str, key_hash: str, truncated_key: str
    ) -> None:
        values = {"id": id, "platform_id": platform_id, "display_name": display_name, "key_hash": key_hash}
        await insert_row(self.conn, api_key_t, values | {"truncated_key": truncated_key})

    async def get(self, platform_id: str, *, for_update: bool = False) -> PlatformRow | None:
        row = await (LOCK_PLATFORM if for_update else GET_PLATFORM).fetchrow(self.conn, platform_id=platform_id)
        return PlatformRow(*row) if row else None

    async def list_all(self) -> list[PlatformRow]:
        return [PlatformRow(*row) for row in await LIST_PLATFORMS.fetch(self.conn)]

    async def delete(self, platform_id: str) -> bool:
        return affected_rows(await DELETE_PLATFORM.execute(self.conn, platform_id=platform_id)) > 0

    async def resolve_key(self, key_hash: str) -> ResolvedKey | None:
        row = await RESOLVE_KEY.fetchrow(self.conn, key_hash=key_hash)
        return ResolvedKey(*row) if row else None

    async def key_exists(self, key_hash: str) -> bool:
        return await self.key_platform(key_hash) is not None

    async def key_platform(self, key_hash: str) -> str | None:
        """The id of the platform holding this key, if any."""
        return await KEY_PLATFORM.fetchval(self.conn, key_hash=key_hash)

    async def any_user(self) -> bool:
        """Whether any platform has a user yet (every platform is created with its owner)."""
        return bool(await ANY_USER.fetchval(self.conn))

    async def take_bootstrap_lock(self, key: int) -> None:
        """Until the transaction ends: workers starting at once take turns."""
        await BOOTSTRAP_LOCK.fetchval(self.conn, key=key)
