"""Snapshots: one platform's (or every platform's) whole state as one JSON document, and restoring it.

A document names its format version and the schema version (the Alembic revision) its rows are
of, and the fingerprint of the encryption key its connection secrets are sealed with. Secrets stay
sealed: on a server with another key they are opened with the snapshot's key (which the importer
is given) and sealed again with the server's. A restore checks the whole document first (naming
every problem), then replaces the platforms in one transaction: it is applied whole or not at all."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import orjson
from alembic.script import ScriptDirectory
from cryptography.exceptions import InvalidTag

import migrations
from app.admin.snapshot_repository import PLATFORM_TABLE, SNAPSHOT_TABLES, SnapshotRepository
from app.app_connections.service import secret_context
from app.kit.changes import publish
from app.kit.clock import clock
from app.kit.crypto import InvalidEncryptionKey, SecretBox, decode_key, key_fingerprint
from app.kit.db import Database
from app.kit.errors import ActivepiecesError, EntityNotFound
from app.kit.serialization import iso

FORMAT = "openpieces-snapshot"
FORMAT_VERSION = 1
ALGORITHM = "AES-256-GCM"
# Shown in refusals, so the reader knows how to hand the snapshot's key over.
KEY_HINT = (
    "give the key the snapshot was exported with (header X-Snapshot-Encryption-Key, "
    "`openpieces snapshot import --key`, or AP_SNAPSHOT_ENCRYPTION_KEY)"
)
_MAX_PROBLEMS = 20

# Rows of an older schema version brought to the next one: {from revision: (to revision, upgrade)}.
# A migration that changes a table a snapshot holds adds its step here; a snapshot of a revision
# with no path to this server's is refused (restore it where that revision runs, migrate, export).
RowsByTable = dict[str, list[dict[str, Any]]]
SNAPSHOT_UPGRADES: dict[str, tuple[str, Callable[[RowsByTable], None]]] = {}

_COLUMNS = {table.name: set(table.columns) for table in SNAPSHOT_TABLES}
_CONNECTION_TABLE = "app_connection"
# Ids that point at another row without a foreign key (the row is made in the same transaction, or
# later): checked like the foreign keys, so they cannot point outside the snapshot either.
_REFERENCES_WITHOUT_FOREIGN_KEY = {"platform": {"owner_id": "user"}, "flow": {"published_version_id": "flow_version"}}


class SnapshotRefused(ActivepiecesError):
    """A snapshot that cannot be restored as it is: every reason, and nothing written."""

    status_code = 400
    code = "VALIDATION"

    def __init__(self, problems: list[str]) -> None:
        shown = problems[:_MAX_PROBLEMS]
        if len(problems) > _MAX_PROBLEMS:
            shown.append(f"and {len(problems) - _MAX_PROBLEMS} more")
        super().__init__({"message": "snapshot refused: " + "; ".join(shown), "problems": shown})


def _known_revisions() -> set[str]:
    script = ScriptDirectory(str(Path(migrations.__file__).parent))
    return {revision.revision for revision in script.walk_revisions()}


class SnapshotService:
    def __init__(self, db: Database, secrets: SecretBox) -> None:
        self.db = db
        self.secrets = secrets

    async def export(self, platform_id: str | None = None) -> bytes:
        """The document, as JSON bytes: one platform's rows, or (None) every platform's."""
        async with self.db.fast_transaction() as conn:
            # One transaction, repeatable read: every table seen at the same instant.
            await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            repository = SnapshotRepository(conn)
            if platform_id is None:
                platform_ids = await repository.all_platform_ids()
            elif await repository.existing_platform_ids([platform_id]):
                platform_ids = [platform_id]
            else:
                raise EntityNotFound("platform", platform_id, "Platform not found")
            tables = {
                table.name: orjson.Fragment(await repository.rows_as_json(table, platform_ids))
                for table in SNAPSHOT_TABLES
            }
            schema_version = await repository.schema_version()
        document = {
            "format": FORMAT,
            "formatVersion": FORMAT_VERSION,
            "schemaVersion": schema_version,
            "exported": iso(clock.peek()),  # the deterministic clock too
            "scope": "server" if platform_id is None else "platform",
            "platformIds": platform_ids,
            "encryption": {"algorithm": ALGORITHM, "keyFingerprint": self.secrets.fingerprint},
            "tables": tables,
        }
        return orjson.dumps(document)

    async def restore(
        self,
        document: Any,
        *,
        platform_id: str | None = None,
        source_key: str | None = None,
        change_id: str | None = None,
    ) -> dict[str, Any]:
        """Replace the platforms with the snapshot's, in one transaction. `platform_id`: only that
        platform is replaced (the snapshot must be of it alone); None: the snapshot becomes every
        platform there is (the others, and the admin API's faults and request log, go).
        `source_key`: the key the snapshot's secrets are sealed with, when not the server's."""
        started = time.perf_counter()
        tables = self._checked_document(document, platform_id)
        async with self.db.fast_transaction() as conn:
            repository = SnapshotRepository(conn)
            tables = self._at_schema_version(document["schemaVersion"], await repository.schema_version(), tables)
            self._check_references(tables, await repository.shared_role_ids())
            resealed = self._resealed(document["encryption"]["keyFingerprint"], source_key, tables)
            platform_ids = [row["id"] for row in tables[PLATFORM_TABLE]]
            if platform_id is None:
                await repository.delete_every_platform()
            else:
                await repository.delete_platforms([platform_id])
            try:
                for table in SNAPSHOT_TABLES:
                    if tables[table.name]:
                        await repository.insert_rows(table, orjson.dumps(tables[table.name]).decode())
            except asyncpg.PostgresError as exc:  # a value of the wrong type, a duplicate key: all rolled back
                raise SnapshotRefused([f"the database refused its rows: {exc}"]) from None
            # Every replica forgets the keys it knows (the snapshot's keys may be new, or gone).
            await publish(conn, "snapshot_restored", change_id=change_id)
        return {
            "platformIds": platform_ids,
            "rows": {name: len(rows) for name, rows in tables.items()},
            "resealedSecrets": resealed,
            "ms": round((time.perf_counter() - started) * 1000, 2),
        }

    # --- checks: all before a row is written

    def _checked_document(self, document: Any, platform_id: str | None) -> RowsByTable:
        if not isinstance(document, dict):
            raise SnapshotRefused([f"a snapshot is a JSON object, not {type(document).__name__}"])
        problems = []
        if document.get("format") != FORMAT:
            problems.append(f"format must be {FORMAT!r}, not {document.get('format')!r}")
        if document.get("formatVersion") != FORMAT_VERSION:
            problems.append(
                f"formatVersion {document.get('formatVersion')!r} is not one this server reads ({FORMAT_VERSION})"
            )
        if not isinstance(document.get("schemaVersion"), str):
            problems.append("schemaVersion (the Alembic revision of its rows) is missing")
        encryption = document.get("encryption")
        if not isinstance(encryption, dict) or not isinstance(encryption.get("keyFingerprint"), str):
            problems.append("encryption.keyFingerprint is missing")
        elif encryption.get("algorithm") != ALGORITHM:
            problems.append(f"encryption.algorithm must be {ALGORITHM!r}")
        tables = document.get("tables")
        if not isinstance(tables, dict):
            problems.append("tables (an object of table name to rows) is missing")
            raise SnapshotRefused(problems)
        problems += [f"unknown table {name!r}" for name in sorted(set(tables) - set(_COLUMNS))]
        problems += [f"table {name!r} is missing" for name in sorted(set(_COLUMNS) - set(tables))]
        for name, rows in sorted(tables.items()):
            if name in _COLUMNS:
                problems += _row_problems(name, rows)
        if problems:
            raise SnapshotRefused(problems)
        platforms = tables[PLATFORM_TABLE]
        if platform_id is not None and [row["id"] for row in platforms] != [platform_id]:
            shown = [row["id"] for row in platforms]
            raise SnapshotRefused([f"it must hold platform {platform_id} alone, and holds {shown}"])
        return tables

    def _at_schema_version(self, version: str, server_version: str | None, tables: RowsByTable) -> RowsByTable:
        while version != server_version:
            if version in SNAPSHOT_UPGRADES:
                version, upgrade = SNAPSHOT_UPGRADES[version]
                upgrade(tables)
            elif version in _known_revisions():
                raise SnapshotRefused(
                    [
                        f"its rows are of schema version {version} and this server's of {server_version}, "
                        f"and there is no snapshot upgrade from {version}: restore it on an openpieces of "
                        f"schema {version}, migrate that database (`openpieces migrate`), and export again"
                    ]
                )
            else:
                raise SnapshotRefused(
                    [
                        f"schema version {version!r} is unknown to this server (at {server_version}): "
                        "it was made by a newer openpieces"
                    ]
                )
        return tables

    def _check_references(self, tables: RowsByTable, shared_role_ids: set[str]) -> None:
        """Every reference points inside the snapshot (or at a shared default role): a snapshot can
        never write into, or point at, a platform it does not hold."""
        ids = {table.name: {row[table.primary_key[0]] for row in tables[table.name]} for table in SNAPSHOT_TABLES}
        ids["project_role"] |= shared_role_ids
        problems = []
        for table in SNAPSHOT_TABLES:
            references = {**table.references, **_REFERENCES_WITHOUT_FOREIGN_KEY.get(table.name, {})}
            for column, target in references.items():
                values = [row[column] for row in tables[table.name] if row[column] is not None]
                if any(not isinstance(value, str) for value in values):
                    problems.append(f"{table.name}.{column} must be ids (strings)")
                    continue
                missing = sorted(set(values) - ids[target])
                if missing:
                    problems.append(f"{table.name}.{column} refers to {target} rows it does not hold: {missing[:5]}")
        if problems:
            raise SnapshotRefused(problems)

    def _resealed(self, fingerprint: str, source_key: str | None, tables: RowsByTable) -> int:
        """Seals the connections' secrets with this server's key when the snapshot's is another."""
        connections = tables[_CONNECTION_TABLE]
        if fingerprint == self.secrets.fingerprint or not connections:
            return 0
        if not source_key:
            raise SnapshotRefused(
                [
                    f"its secrets are sealed with another encryption key (fingerprint {fingerprint}, "
                    f"this server's is {self.secrets.fingerprint}): {KEY_HINT}"
                ]
            )
        try:
            key = decode_key(source_key)
        except InvalidEncryptionKey:
            raise SnapshotRefused(["the snapshot's encryption key must be urlsafe base64 of 32 bytes"]) from None
        if key_fingerprint(key) != fingerprint:
            raise SnapshotRefused(
                [f"the key given has fingerprint {key_fingerprint(key)}, not the snapshot's {fingerprint}: {KEY_HINT}"]
            )
        source = SecretBox(key)
        problems = []
        for row in connections:
            context = secret_context(row["platform_id"], row["external_id"], row["project_id"])
            try:
                value = source.open(row["value_encrypted"], context)
            except (InvalidTag, ValueError, TypeError):
                problems.append(f"the secret of connection {row['id']} does not open with the snapshot's key")
                continue
            row["value_encrypted"] = self.secrets.seal(value, context)
        if problems:
            raise SnapshotRefused(problems)
        return len(connections)


def _row_problems(name: str, rows: Any) -> list[str]:
    if not isinstance(rows, list):
        return [f"tables.{name} must be a list of rows"]
    columns = _COLUMNS[name]
    problems = []
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            problems.append(f"tables.{name}.{index} must be an object")
            continue
        if row.keys() != columns:
            missing, extra = sorted(columns - row.keys()), sorted(row.keys() - columns)
            said = ([f"lacks {missing}"] if missing else []) + ([f"has unknown {extra}"] if extra else [])
            problems.append(f"tables.{name}.{index} " + " and ".join(said))
    return problems


def parse_document(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise SnapshotRefused([f"it is not JSON ({exc})"]) from None
