"""The SQL of snapshots: which rows belong to a platform, read out as JSON and written back in bulk.

Every table is found through the models' metadata, and a platform's rows through the foreign keys
that cascade from `platform`: a table added later is in snapshots without a change here (and
`tests/test_snapshots.py` fails if one has no such path)."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from sqlalchemy import Table

import app.admin.models as admin_models
from app.kit.db import Base
from app.models import import_all_models

import_all_models()

PLATFORM_TABLE = "platform"
# The admin API's own state (faults, the request log) is not a platform's data.
_ADMIN_TABLES = frozenset({admin_models.AdminFault.__tablename__, admin_models.AdminRequestLog.__tablename__})


class SnapshotTableWithoutOwner(RuntimeError):
    """A table no cascading foreign key ties to a platform: it could not be exported or replaced."""


@dataclass(frozen=True)
class SnapshotTable:
    name: str
    columns: tuple[str, ...]
    primary_key: tuple[str, ...]
    # SQL true for the rows of the platforms in `$1` (a text[]), with the table aliased `t`.
    owned_by: str
    # column -> table it refers to (every foreign key), for checking a snapshot's references.
    references: dict[str, str]


def _owner_condition(table: Table, alias: str = "t", depth: int = 0) -> str:
    """SQL true for `table`'s rows (as `alias`) owned by the platforms in `$1`."""
    if table.name == PLATFORM_TABLE:
        return f"{alias}.id = ANY($1::text[])"
    if "platform_id" in table.c:
        return f"{alias}.platform_id = ANY($1::text[])"
    for fk in sorted(table.foreign_keys, key=lambda fk: fk.parent.name):
        # Only a required reference that cascades: a row is its parent's, and goes with it.
        if fk.ondelete != "CASCADE" or fk.parent.nullable or depth > 8:
            continue
        parent, inner_alias = fk.column.table, f"o{depth}"
        inner = _owner_condition(parent, inner_alias, depth + 1)
        return (
            f'{alias}."{fk.parent.name}" IN '
            f'(SELECT {inner_alias}."{fk.column.name}" FROM "{parent.name}" {inner_alias} WHERE {inner})'
        )
    raise SnapshotTableWithoutOwner(f"table {table.name} has no cascading foreign key leading to a platform")


def _snapshot_tables() -> tuple[SnapshotTable, ...]:
    tables = []
    for table in Base.metadata.sorted_tables:  # parents before children: the order rows go in
        if table.name in _ADMIN_TABLES:
            continue
        tables.append(
            SnapshotTable(
                name=str(table.name),  # not quoted_name: JSON encoders want a plain str
                columns=tuple(str(column.name) for column in table.columns),
                primary_key=tuple(column.name for column in table.primary_key.columns),
                owned_by=_owner_condition(table),
                references={fk.parent.name: fk.column.table.name for fk in table.foreign_keys},
            )
        )
    return tuple(tables)


SNAPSHOT_TABLES = _snapshot_tables()


class SnapshotRepository:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def schema_version(self) -> str | None:
        return await self.conn.fetchval("SELECT version_num FROM alembic_version")  # type: ignore[no-any-return]

    async def all_platform_ids(self) -> list[str]:
        return [row["id"] for row in await self.conn.fetch("SELECT id FROM platform ORDER BY id")]

    async def existing_platform_ids(self, platform_ids: list[str]) -> list[str]:
        rows = await self.conn.fetch("SELECT id FROM platform WHERE id = ANY($1::text[]) ORDER BY id", platform_ids)
        return [row["id"] for row in rows]

    async def shared_role_ids(self) -> set[str]:
        """The default project roles every platform shares (a migration's rows, not a platform's)."""
        return {row["id"] for row in await self.conn.fetch("SELECT id FROM project_role WHERE platform_id IS NULL")}

    async def rows_as_json(self, table: SnapshotTable, platform_ids: list[str]) -> str:
        """The platforms' rows of `table` as one JSON array text, in primary-key order: PostgreSQL
        writes it (every value exactly as stored, timestamps to the microsecond), Python never
        decodes it."""
        order = ", ".join(f't."{name}"' for name in table.primary_key)
        sql = (
            f"SELECT coalesce(json_agg(t ORDER BY {order}), '[]')::text FROM \"{table.name}\" t WHERE {table.owned_by}"
        )
        return await self.conn.fetchval(sql, platform_ids)  # type: ignore[no-any-return]

    async def delete_platforms(self, platform_ids: list[str]) -> None:
        # Everything they own goes with them: every foreign key to a platform cascades.
        await self.conn.execute("DELETE FROM platform WHERE id = ANY($1::text[])", platform_ids)

    async def delete_every_platform(self) -> None:
        """Every platform's rows and the admin API's state; the shared default roles stay. Deleting
        is faster than TRUNCATE for the small states tests restore (TRUNCATE costs per table)."""
        await self.conn.execute("DELETE FROM platform")
        for name in sorted(_ADMIN_TABLES):
            await self.conn.execute(f'DELETE FROM "{name}"')

    async def insert_rows(self, table: SnapshotTable, rows_json: str) -> None:
        """All the rows of one table in one statement: PostgreSQL turns the JSON array into rows (a
        JSON array into an array column, a string into a timestamp; as jsonb, each value is parsed
        once), so no row crosses the wire one by one."""
        columns = ", ".join(f'"{name}"' for name in table.columns)
        await self.conn.execute(
            f'INSERT INTO "{table.name}" ({columns}) SELECT {columns} '
            f'FROM jsonb_populate_recordset(NULL::"{table.name}", $1::text::jsonb)',
            rows_json,
        )


def table_named(name: str) -> SnapshotTable:
    return next(table for table in SNAPSHOT_TABLES if table.name == name)
