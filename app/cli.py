"""`openpieces`: serve, migrate, and provision platforms and API keys."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum

import typer

from app.config import get_settings
from app.crypto import load_or_create_key
from app.db import Database, EmbeddedPostgres, run_migrations

cli = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)


class Edition(StrEnum):
    COMMUNITY = "COMMUNITY"
    PRO = "PRO"
    ENTERPRISE = "ENTERPRISE"


@contextmanager
def _database_url() -> Iterator[str]:
    """AP_DATABASE_URL, or the embedded PostgreSQL under AP_DATA_DIR (started if needed)."""
    settings = get_settings()
    if settings.database_url:
        yield settings.database_url
        return
    embedded = EmbeddedPostgres(settings.data_dir)
    try:
        yield embedded.url
    finally:
        embedded.stop()


async def _with_db(url: str, action):  # type: ignore[no-untyped-def]
    db = Database(url, pool_size=1, max_overflow=0)
    try:
        return await action(db)
    finally:
        await db.dispose()


@cli.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on (0.0.0.0 for all)."),
    port: int = typer.Option(8080, help="TCP port."),
    workers: int = typer.Option(1, min=1, help="Worker processes."),
) -> None:
    """Run the API server (migrates first unless AP_RUN_MIGRATIONS=false)."""
    import uvicorn

    settings = get_settings()
    # Made here, once, so the workers all find the same key (and it is announced once).
    load_or_create_key(settings.encryption_key, settings.data_dir)
    with _database_url() as url:
        if settings.run_migrations:
            run_migrations(url)
        # The workers inherit a ready database: one URL, already migrated.
        os.environ["AP_DATABASE_URL"] = url
        os.environ["AP_RUN_MIGRATIONS"] = "false"
        get_settings.cache_clear()
        uvicorn.run(
            "app.main:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            access_log=False,
            log_level="warning",
            proxy_headers=True,
        )


@cli.command()
def migrate() -> None:
    """Apply every pending migration (alembic upgrade head)."""
    with _database_url() as url:
        run_migrations(url)
    typer.echo("database is up to date")


@cli.command("create-platform")
def create_platform(
    name: str = typer.Option(..., help="The platform's name."),
    edition: Edition = typer.Option(Edition.ENTERPRISE, help="Sets the team-projects limit."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Create a platform, its owner user and PERSONAL project, and a first API key."""
    from app.platforms.service import PlatformService

    with _database_url() as url:
        run_migrations(url)
        created = asyncio.run(_with_db(url, lambda db: PlatformService(db).create_platform(name, edition.value)))
    result = {"platformId": created.platform_id, "ownerId": created.owner_id, "apiKey": created.api_key}
    if as_json:
        typer.echo(json.dumps(result))
    else:
        typer.echo(f"platform id: {created.platform_id}\nowner id:    {created.owner_id}")
        typer.echo(f"api key:     {created.api_key}  (shown once; store it now)")


@cli.command("create-api-key")
def create_api_key(
    platform_id: str = typer.Option(..., "--platform-id", help="The platform the key acts for."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Create another API key for an existing platform."""
    from app.errors import ActivepiecesError
    from app.platforms.service import PlatformService

    with _database_url() as url:
        run_migrations(url)
        try:
            key = asyncio.run(_with_db(url, lambda db: PlatformService(db).create_api_key(platform_id)))
        except ActivepiecesError as exc:
            typer.echo(json.dumps(exc.body()), err=True)
            raise typer.Exit(1) from exc
    if as_json:
        typer.echo(json.dumps({"platformId": platform_id, "apiKey": key}))
    else:
        typer.echo(f"api key: {key}  (shown once; store it now)")


def main() -> None:
    cli()
