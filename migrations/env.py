"""Alembic environment: async engine, and an advisory lock so concurrent starters take turns.

The lock is transaction-scoped: the whole upgrade is one transaction, and a session lock would
outlive it on a pooler's server connection (blocking every later migration that lands there)."""

import asyncio
import os

from alembic import context
from sqlalchemy import pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import app.admin.models  # noqa: F401
from app.kit.db import MIGRATION_LOCK_KEY, Base, engine_connect_args, to_async_url
from app.models import import_all_models

import_all_models()
config = context.config


def _database_url() -> str:
    url = config.attributes.get("database_url") or os.environ.get("AP_DATABASE_URL")
    if not url:
        raise RuntimeError("Set AP_DATABASE_URL to the database to migrate")
    return to_async_url(url)


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    pooler = config.attributes.get("pooler") or os.environ.get("AP_DATABASE_POOLER") or "none"
    engine = create_async_engine(_database_url(), poolclass=pool.NullPool, connect_args=engine_connect_args(pooler))
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"))
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline migrations are not supported; point AP_DATABASE_URL at a database.")
asyncio.run(_run_online())
