"""SQL for platforms, their users and their API keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

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


@dataclass(frozen=True, slots=True)
class ResolvedKey:
    api_key_id: str
    platform_id: str
    owner_id: str


class PlatformRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def insert_platform(
        self, *, id: str, name: str, owner_id: str, edition: str, team_projects_limit: str
    ) -> None:
        await self.conn.execute(
            insert(platform_t).values(
                id=id, name=name, owner_id=owner_id, edition=edition, team_projects_limit=team_projects_limit
            )
        )

    async def insert_user(
        self, *, id: str, platform_id: str, email: str, first_name: str, last_name: str, platform_role: str
    ) -> None:
        await self.conn.execute(
            insert(user_t).values(
                id=id,
                platform_id=platform_id,
                email=email,
                first_name=first_name,
                last_name=last_name,
                platform_role=platform_role,
            )
        )

    async def insert_api_key(
        self, *, id: str, platform_id: str, display_name: str, key_hash: str, truncated_key: str
    ) -> None:
        await self.conn.execute(
            insert(api_key_t).values(
                id=id,
                platform_id=platform_id,
                display_name=display_name,
                key_hash=key_hash,
                truncated_key=truncated_key,
            )
        )

    async def get(self, platform_id: str, *, for_update: bool = False) -> PlatformRow | None:
        query = select(
            platform_t.c.id,
            platform_t.c.name,
            platform_t.c.owner_id,
            platform_t.c.edition,
            platform_t.c.team_projects_limit,
            platform_t.c.created,
        ).where(platform_t.c.id == platform_id)
        if for_update:
            query = query.with_for_update()
        row = (await self.conn.execute(query)).first()
        return PlatformRow(*row) if row else None

    async def list_all(self) -> list[PlatformRow]:
        rows = await self.conn.execute(
            select(
                platform_t.c.id,
                platform_t.c.name,
                platform_t.c.owner_id,
                platform_t.c.edition,
                platform_t.c.team_projects_limit,
                platform_t.c.created,
            ).order_by(platform_t.c.created, platform_t.c.id)
        )
        return [PlatformRow(*row) for row in rows]

    async def delete(self, platform_id: str) -> bool:
        result = await self.conn.execute(delete(platform_t).where(platform_t.c.id == platform_id))
        return result.rowcount > 0

    async def resolve_key(self, key_hash: str) -> ResolvedKey | None:
        row = (
            await self.conn.execute(
                select(api_key_t.c.id, platform_t.c.id, platform_t.c.owner_id)
                .join(platform_t, platform_t.c.id == api_key_t.c.platform_id)
                .where(api_key_t.c.key_hash == key_hash)
            )
        ).first()
        return ResolvedKey(*row) if row else None

    async def key_exists(self, key_hash: str) -> bool:
        found = await self.conn.scalar(select(api_key_t.c.id).where(api_key_t.c.key_hash == key_hash))
        return found is not None
