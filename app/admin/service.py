"""Admin operations for test pipelines: tenants over HTTP, a fast reset, the seed re-applied."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import insert, select, text

import app.admin.models  # noqa: F401  (the faults and the request log are emptied by a reset too)
from app.admin.determinism import DeterministicMode
from app.admin.seed import SeedDocument, apply_seed
from app.admin.snapshot import SnapshotService
from app.admin.traffic import Traffic
from app.edge.auth import ApiKeyAuthenticator
from app.kit.changes import ChangeConfirmation, publish
from app.kit.config import Settings
from app.kit.crypto import SecretBox
from app.kit.db import Base, Database
from app.kit.errors import EntityNotFound
from app.kit.ids import new_id
from app.kit.serialization import iso
from app.platforms.repository import PlatformRepository
from app.platforms.service import PlatformService
from app.projects.models import ProjectRole
from app.projects.provisioning import PlatformProvisioning
from app.users.schemas import NewUser
from app.users.service import UserService


def platform_not_found(platform_id: str) -> EntityNotFound:
    return EntityNotFound("platform", platform_id, "Platform not found")


def _truncate_statement() -> str:
    # Every table the models know, in one statement: PostgreSQL empties them together, which is
    # far faster than deleting row by row, and the schema (and alembic_version) stays.
    from app.models import import_all_models

    import_all_models()
    names = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    return f"TRUNCATE TABLE {names} CASCADE"


_role_t = ProjectRole.__table__
# The default roles: no platform's, every platform's (made by a migration).
_SHARED_ROWS = select(_role_t).where(_role_t.c.platform_id.is_(None))


class AdminService:
    def __init__(
        self,
        db: Database,
        *,
        secrets: SecretBox,
        authenticator: ApiKeyAuthenticator,
        traffic: Traffic,
        settings: Settings,
        seed: SeedDocument | None,
        confirmation: ChangeConfirmation | None = None,
        deterministic: DeterministicMode | None = None,
    ) -> None:
        self.db = db
        self.secrets = secrets
        self.authenticator = authenticator
        self.traffic = traffic
        self.settings = settings
        self.seed = seed
        self.confirmation = confirmation
        self.deterministic = deterministic

    @asynccontextmanager
    async def announced(self) -> AsyncIterator[str]:
        """The id to publish a change under; on leaving, every replica has applied it (when changes
        are listened for; otherwise the caches' TTL is the bound)."""
        change_id = new_id()
        if self.confirmation is None:
            yield change_id
            return
        async with self.confirmation.expecting(change_id):
            yield change_id

    async def create_platform(self, name: str, edition: str, api_key: str | None) -> dict[str, str]:
        created = await PlatformProvisioning(self.db).create_platform(name, edition, api_key=api_key)
        return {"platformId": created.platform_id, "ownerId": created.owner_id, "apiKey": created.api_key}

    async def list_platforms(self) -> list[dict[str, Any]]:
        async with self.db.fast_read() as conn:
            rows = await PlatformRepository(conn).list_all()
        return [
            {
                "id": row.id,
                "name": row.name,
                "edition": row.edition,
                "ownerId": row.owner_id,
                "created": iso(row.created),
            }
            for row in rows
        ]

    async def delete_platform(self, platform_id: str) -> None:
        async with self.announced() as change_id:
            async with self.db.fast_transaction() as conn:
                # Users, keys, projects, flows, connections: all go by ON DELETE CASCADE.
                if not await PlatformRepository(conn).delete(platform_id):
                    raise platform_not_found(platform_id)
                # Every replica forgets the platform's keys when this commits (not after their TTL).
                await publish(conn, "platform_deleted", change_id=change_id, platformId=platform_id)
            self.authenticator.forget_platform(platform_id)

    async def create_api_key(self, platform_id: str) -> dict[str, str]:
        key = await PlatformService(self.db).create_api_key(platform_id)
        return {"platformId": platform_id, "apiKey": key}

    async def create_user(self, platform_id: str, user: NewUser) -> dict[str, Any]:
        async with self.db.fast_read() as conn:
            if await PlatformRepository(conn).get(platform_id) is None:
                raise platform_not_found(platform_id)
        return await UserService(self.db).create(platform_id, user)

    async def reset(self) -> dict[str, Any]:
        started = time.perf_counter()
        async with self.announced() as change_id:
            async with self.db.transaction() as conn:
                # The rows every platform shares (the default project roles, made by a migration) are
                # the server's own, not a test's data: they outlive the reset.
                shared = (await conn.execute(_SHARED_ROWS)).mappings().all()
                # The faults and the request log are tables too: emptied with the rest.
                await conn.execute(text(_truncate_statement()))
                if shared:
                    await conn.execute(insert(_role_t), [dict(row) for row in shared])
                await publish(conn, "reset", change_id=change_id)
            self.authenticator.forget_all()
        self.traffic.requests.forget_pending()
        emptied_ms = (time.perf_counter() - started) * 1000
        if self.deterministic is not None:
            # Before the bootstrap key and the seed: a reset server is a fresh one, ids and clock too.
            self.deterministic.restart()
        if self.settings.bootstrap_api_key:
            await PlatformProvisioning(self.db).ensure_bootstrap_platform(
                self.settings.bootstrap_api_key, self.settings.bootstrap_edition
            )
        seeded = await apply_seed(self.db, self.secrets, self.seed) if self.seed is not None else None
        return {
            "emptiedMs": round(emptied_ms, 2),
            "totalMs": round((time.perf_counter() - started) * 1000, 2),
            "seeded": seeded,
        }

    async def export_snapshot(self, platform_id: str | None = None) -> bytes:
        return await SnapshotService(self.db, self.secrets).export(platform_id)

    async def restore_snapshot(
        self, document: Any, *, platform_id: str | None = None, source_key: str | None = None
    ) -> dict[str, Any]:
        """Restore a snapshot (see app/admin/snapshot.py). The whole server's: then, as after a reset,
        the bootstrap key works (on the snapshot's platform that holds it, else on a new one)."""
        async with self.announced() as change_id:
            restored = await SnapshotService(self.db, self.secrets).restore(
                document, platform_id=platform_id, source_key=source_key, change_id=change_id
            )
            self.authenticator.forget_all()
        if platform_id is None:
            self.traffic.requests.forget_pending()
            if self.settings.bootstrap_api_key:
                await PlatformProvisioning(self.db).ensure_bootstrap_platform(
                    self.settings.bootstrap_api_key, self.settings.bootstrap_edition
                )
        return restored
