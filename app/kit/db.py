"""Database access: the async engine, transactions, migrations and the embedded PostgreSQL."""

from __future__ import annotations

import asyncio
import fcntl
import functools
import logging
import os
import pwd
import re
import tempfile
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import ClauseElement, ColumnElement, MetaData, Table, bindparam, func, insert, update
from sqlalchemy.dialects.postgresql.asyncpg import dialect as AsyncpgDialect
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import QueuePool
from sqlalchemy.util.queue import AsyncAdaptedQueue

from app.kit.clock import clock
from app.kit.config import ASYNC_URL_PREFIX, Settings, to_async_url
from app.kit.serialization import json_bytes, json_loads

log = logging.getLogger("openpieces.db")

# Stable constraint names, so Alembic migrations can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Every query here is a short OLTP query: PostgreSQL's JIT, triggered by large cost estimates on
# correlated subqueries, only ever added hundreds of milliseconds of compiling. Sent as a startup
# parameter (no round trip) on direct connections; a transaction-mode pooler refuses startup
# parameters, so there migration 0006 makes it the database's default instead.
SESSION_SETTINGS = {"jit": "off"}

# AP_DATABASE_POOLER values. "transaction": PgBouncer (or another pooler) in transaction mode hands
# each transaction to any server connection, so nothing may outlive a transaction on one.
POOLER_MODES = ("none", "session", "transaction")


def _unnamed_statement() -> str:
    return ""


# "Too many clients" (every connection slot of the server taken) is usually momentary on a busy
# server: a new connection waits this long for a slot before the request is answered 503.
CONNECT_PATIENCE_SECONDS = 2.0


async def connect_patiently(*args: Any, **kwargs: Any) -> asyncpg.Connection:
    """`asyncpg.connect`, retried with a growing pause while the server has no free slot."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + CONNECT_PATIENCE_SECONDS
    pause = 0.05
    while True:
        try:
            return await asyncpg.connect(*args, **kwargs)
        except asyncpg.exceptions.TooManyConnectionsError:
            if loop.time() + pause > deadline:
                raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.4)


def driver_options(pooler: str) -> dict[str, Any]:
    """asyncpg connect options, for SQLAlchemy's engine and the raw pools alike.

    Behind a transaction-mode pooler every statement is unnamed and uncached: the pooler may hand
    the next transaction to another server connection, where a named statement is missing (or
    another client's of the same name, `__asyncpg_stmt_1__`, already exists). asyncpg parses an
    unnamed statement again in the same round trip that binds and executes it, so a type lookup
    between prepare and execute cannot split them. SQLAlchemy's dialect, which always prepares, is
    given the empty name; no session settings are sent (the pooler refuses them)."""
    if pooler == "transaction":
        return {"statement_cache_size": 0}
    return {"server_settings": SESSION_SETTINGS}


def engine_connect_args(pooler: str) -> dict[str, Any]:
    options: dict[str, Any] = {**driver_options(pooler), "async_creator_fn": connect_patiently}
    if pooler == "transaction":
        options |= {"prepared_statement_cache_size": 0, "prepared_statement_name_func": _unnamed_statement}
    return options


# Taken by whoever migrates or bootstraps, so several workers starting at once take turns.
MIGRATION_LOCK_KEY = 7_242_151


@dataclass(frozen=True, slots=True)
class PoolStats:
    name: str
    in_use: int
    idle: int
    waiting: int
    limit: int


class Database:
    """One per process.

    - `transaction()`: a SQLAlchemy connection in a transaction (one per request that writes).
    - `read()`: a SQLAlchemy connection in autocommit mode (one round trip per query).
    - `fast_read()`: a raw asyncpg connection, for the hottest reads, which run a `CompiledQuery`
      (SQLAlchemy Core compiled once). SQLAlchemy's async execution path costs ~0.45 ms a query
      here against ~0.1 ms for asyncpg, more than the whole budget of a by-id read.
    """

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        max_overflow: int = 20,
        pooler: str = "none",
        direct_url: str | None = None,
    ) -> None:
        if pooler not in POOLER_MODES:
            raise ValueError(f"AP_DATABASE_POOLER must be one of {', '.join(POOLER_MODES)}, not {pooler!r}")
        url = to_async_url(url)
        self.url = url
        self.pooler = pooler
        # For work that needs a session of its own (LISTEN): PostgreSQL itself, not the pooler.
        self.direct_url = to_async_url(direct_url) if direct_url else url
        # hide_parameters: an error's text never carries the values a client sent.
        self.engine: AsyncEngine = create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_recycle=1800,
            hide_parameters=True,
            # JSON read back as the fast path reads it (and as the real server, in JavaScript, does):
            # integers past 64 bits become floats instead of numbers no JSON encoder here can write.
            json_deserializer=json_loads,
            connect_args=engine_connect_args(pooler),
        )
        self._autocommit_engine = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._pool_size = pool_size
        self._max_overflow = max_overflow
        self._pool: asyncpg.Pool | None = None

    def transaction(self) -> Any:
        return self.engine.begin()

    @asynccontextmanager
    async def fast_transaction(self) -> AsyncIterator[asyncpg.Connection]:
        """A raw asyncpg connection in a transaction, for the hot writes, which run `CompiledQuery`s
        (one transaction per request, as `transaction()`)."""
        async with self.fast_read() as conn, conn.transaction():
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self._autocommit_engine.connect() as conn:
            yield conn

    @asynccontextmanager
    async def fast_read(self) -> AsyncIterator[asyncpg.Connection]:
        if self._pool is None:
            self._pool = await asyncpg.create_pool(
                _asyncpg_dsn(self.url),
                min_size=1,
                max_size=self._pool_size,
                init=_init_connection,
                reset=_reset_connection,
                connect=connect_patiently,
                **driver_options(self.pooler),
            )
        async with self._pool.acquire() as conn:
            yield conn

    @property
    def has_direct_session(self) -> bool:
        """True when `direct_url` reaches PostgreSQL with a session of its own (not through a
        transaction-mode pooler), so LISTEN and session locks work there."""
        return self.pooler != "transaction" or self.direct_url != self.url

    async def connect_direct(self, application_name: str = "openpieces") -> asyncpg.Connection:
        """A dedicated connection on the direct URL (the caller closes it), named in
        pg_stat_activity by `application_name` (a startup parameter PgBouncer passes on too)."""
        options = driver_options("none" if self.has_direct_session else self.pooler)
        settings = {**options.pop("server_settings", {}), "application_name": application_name}
        return await connect_patiently(_asyncpg_dsn(self.direct_url), server_settings=settings, **options)

    async def ping(self) -> None:
        async with self.fast_read() as conn:
            await conn.execute("SELECT 1")

    def pool_stats(self) -> list[PoolStats]:
        """Both pools as they are now, for `/metrics` (read when scraped: nothing is counted per
        request). Both queue callers that find the pool at its limit on an asyncio queue, whose
        waiters are the `waiting` figure."""
        stats = []
        pool = self.engine.pool
        if isinstance(pool, QueuePool):
            queue = getattr(pool, "_pool", None)
            waiting = len(getattr(queue._queue, "_getters", ())) if isinstance(queue, AsyncAdaptedQueue) else 0
            limit = pool.size() + self._max_overflow
            stats.append(PoolStats("sqlalchemy", pool.checkedout(), pool.checkedin(), waiting, limit))
        fast = self._pool
        if fast is None:  # opened on the first fast read
            stats.append(PoolStats("asyncpg", 0, 0, 0, self._pool_size))
        else:
            size, idle = fast.get_size(), fast.get_idle_size()
            waiting = len(getattr(getattr(fast, "_queue", None), "_getters", ()))
            stats.append(PoolStats("asyncpg", size - idle, idle, waiting, fast.get_max_size()))
        return stats

    async def dispose(self) -> None:
        if self._pool is not None:
            try:  # a graceful close waits for every connection back: not forever
                await asyncio.wait_for(self._pool.close(), timeout=10)
            except TimeoutError:
                log.warning("closing the fast-read pool timed out: its connections are dropped")
                self._pool.terminate()
        await self.engine.dispose()


async def _init_connection(conn: asyncpg.Connection) -> None:
    for json_type in ("json", "jsonb"):
        await conn.set_type_codec(
            json_type, encoder=lambda v: json_bytes(v).decode(), decoder=json_loads, schema="pg_catalog"
        )


async def _reset_connection(conn: asyncpg.Connection) -> None:
    """The fast pool only runs plain reads and sets no session state, so asyncpg's default reset
    (a round trip of UNLISTEN/RESET ALL/... on every release) buys nothing; just never hand back a
    connection inside a transaction."""
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


def _asyncpg_dsn(url: str) -> str:
    return to_plain_url(url)


class CompiledQuery:
    """A SQLAlchemy Core statement compiled once to asyncpg's SQL. Values are passed by the names of
    its `bindparam`s; literal values baked into the statement are remembered as defaults."""

    _dialect = AsyncpgDialect()

    def __init__(self, statement: ClauseElement) -> None:
        compiled = statement.compile(dialect=self._dialect)
        self.sql = str(compiled)
        self._names: tuple[str, ...] = tuple(compiled.positiontup or ())
        self._defaults: dict[str, Any] = dict(compiled.params)

    def args(self, values: dict[str, Any]) -> list[Any]:
        return [values[name] if name in values else self._defaults[name] for name in self._names]

    async def fetchrow(self, conn: asyncpg.Connection, **values: Any) -> asyncpg.Record | None:
        return await conn.fetchrow(self.sql, *self.args(values))

    async def fetch(self, conn: asyncpg.Connection, **values: Any) -> list[asyncpg.Record]:
        return await conn.fetch(self.sql, *self.args(values))

    async def fetchval(self, conn: asyncpg.Connection, **values: Any) -> Any:
        return await conn.fetchval(self.sql, *self.args(values))

    async def execute(self, conn: asyncpg.Connection, **values: Any) -> str:
        """Runs a statement; returns PostgreSQL's status (e.g. "DELETE 1")."""
        return await conn.execute(self.sql, *self.args(values))


@functools.lru_cache(maxsize=512)
def compiled(build: Callable[..., ClauseElement], *shape: Any) -> CompiledQuery:
    """`build(*shape)` compiled once per shape (which filters a list has, which columns a write
    sets): the statement is still defined once, in `build`, and its values are bind parameters."""
    return CompiledQuery(build(*shape))


# The columns a row's write stamps from the server's clock (app/kit/clock.py), never the database's:
# the clock can be a deterministic one.
_STAMPED = ("created", "updated")


@functools.cache
def _stamped_columns(table: Table) -> tuple[str, ...]:
    return tuple(name for name in _STAMPED if name in table.c)


def _insert(table: Table, columns: tuple[str, ...]) -> ClauseElement:
    return insert(table).values({name: bindparam("v_" + name, type_=table.c[name].type) for name in columns})


def _update(table: Table, columns: tuple[str, ...], touch: bool, key: str) -> ClauseElement:
    values: dict[str, Any] = {name: bindparam("v_" + name, type_=table.c[name].type) for name in columns}
    if touch:
        values["updated"] = bindparam("touched", type_=table.c["updated"].type)
    return update(table).where(table.c[key] == bindparam("row_id")).values(values)


async def insert_row(conn: asyncpg.Connection, table: Table, values: dict[str, Any]) -> None:
    """INSERT one row of `values` (column name to value), its `created` and `updated` (when the table
    has them and `values` does not) from the server's clock; compiled once per set of columns."""
    missing = [name for name in _stamped_columns(table) if name not in values]
    if missing:
        stamp = clock.now()
        values = {**values, **dict.fromkeys(missing, stamp)}
    await compiled(_insert, table, tuple(values)).execute(conn, **{"v_" + k: v for k, v in values.items()})


async def update_row(
    conn: asyncpg.Connection,
    table: Table,
    row_id: str,
    values: dict[str, Any],
    *,
    touch: bool = True,
    key: str = "id",
) -> None:
    """UPDATE the row whose `key` column is `row_id` with `values`, and (`touch`) its `updated` to the
    server's clock; compiled once per set of columns."""
    statement = compiled(_update, table, tuple(values), touch, key)
    stamp = {"touched": clock.now()} if touch else {}
    await statement.execute(conn, row_id=row_id, **stamp, **{"v_" + k: v for k, v in values.items()})


def affected_rows(status: str) -> int:
    """The row count of a status such as "UPDATE 3" or "INSERT 0 1"."""
    return int(status.rsplit(" ", 1)[-1])


def database_for(
    settings: Settings, url: str, *, pool_size: int | None = None, max_overflow: int | None = None
) -> Database:
    """The `Database` for `url` as the settings describe it (pooler mode, direct URL)."""
    direct_url, _ = settings.direct(url)
    return Database(
        url,
        pool_size=settings.db_pool_size if pool_size is None else pool_size,
        max_overflow=settings.db_max_overflow if max_overflow is None else max_overflow,
        pooler=settings.pooler_of(url),
        direct_url=direct_url,
    )


def migrate_for(settings: Settings, url: str) -> None:
    """Migrations run on the direct URL: they hold a lock for the whole upgrade."""
    run_migrations(*settings.direct(url))


def is_unavailable_error(exc: BaseException) -> bool:
    """True for errors that mean 'the database cannot be reached', not 'the query was wrong'.

    asyncpg's InterfaceError (which SQLAlchemy wraps as its own) is also what the driver raises for
    a programming error, e.g. more than 32,767 query arguments: answering that 503 would make
    clients retry in vain. Only a connection or pool that is gone counts."""
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated or isinstance(exc, OperationalError):
            return True
        # Judge the driver's error: SQLAlchemy's wraps an adapter error raised from asyncpg's.
        # asyncpg errors SQLAlchemy has no class for (CannotConnectNowError, "the database
        # system is shutting down / starting up") come as a plain DBAPIError.
        orig = exc.orig
        exc = getattr(orig, "__cause__", None) or orig or exc
    if isinstance(exc, asyncpg.InterfaceError | InterfaceError):
        return isinstance(exc, asyncpg.exceptions.ConnectionDoesNotExistError) or _GONE.search(str(exc)) is not None
    if isinstance(exc, asyncpg.InternalClientError):
        # A connection the server cut while a query was under way ("cannot switch to state 15",
        # asyncpg's protocol state): broken, the next connection works.
        return _BROKEN_PROTOCOL.search(str(exc)) is not None
    return isinstance(
        exc,
        (
            ConnectionError,
            OSError,
            asyncio.TimeoutError,
            asyncpg.PostgresConnectionError,
            asyncpg.exceptions.OperatorInterventionError,  # admin shutdown, cannot connect now
            # 53xxx: too many connections (server-wide or the role's limit), out of memory or disk.
            # The server is up but cannot serve now: the client's retry will work, a 500 says it won't.
            asyncpg.exceptions.InsufficientResourcesError,
        ),
    )


# asyncpg's words for a connection or pool that is gone ("connection is closed", "pool is closing").
_GONE = re.compile(r"\b(connection|pool) (is|was) clos")
_BROKEN_PROTOCOL = re.compile(r"cannot switch to state \d+")


def is_bad_input_error(exc: BaseException) -> bool:
    """True when PostgreSQL (or asyncpg, encoding a parameter) refused a value the client sent: a
    NUL character, a number out of a column's range, a value too big for an index. Those are the
    client's 400s, not our 500s; the transaction has rolled back, so nothing was written."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (asyncpg.DataError, asyncpg.exceptions.ProgramLimitExceededError)):
            return True
        current = getattr(current, "orig", None) or current.__cause__
    return False


def is_primary_key_collision(exc: BaseException) -> bool:
    """True when an insert met a primary key already taken (`pk_<table>` by the naming convention,
    `<table>_pkey` as PostgreSQL names one itself)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, asyncpg.UniqueViolationError):
            name = str(getattr(current, "constraint_name", "") or "")
            return name.startswith("pk_") or name.endswith("_pkey")
        current = getattr(current, "orig", None) or current.__cause__
    return False


def to_plain_url(url: str) -> str:
    """The libpq/asyncpg spelling of a URL (for asyncpg.connect and psql)."""
    return url.replace(ASYNC_URL_PREFIX, "postgresql://", 1)


def alembic_config(database_url: str, pooler: str = "none") -> Any:
    from alembic.config import Config

    import migrations

    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    config.attributes["database_url"] = to_async_url(database_url)
    config.attributes["pooler"] = pooler
    return config


def run_migrations(database_url: str, pooler: str = "none") -> None:
    """`alembic upgrade head`, synchronous (alembic's env.py runs its own event loop). Give it the
    direct URL; `pooler` says what that URL reaches (a pooler when no direct URL was configured)."""
    from alembic import command

    command.upgrade(alembic_config(database_url, pooler), "head")


async def run_migrations_async(database_url: str, pooler: str = "none") -> None:
    await asyncio.to_thread(run_migrations, database_url, pooler)


def describe_database_url(url: str) -> str:
    """The URL as it may be shown: without its password."""
    from sqlalchemy.engine import URL, make_url

    try:
        parsed = make_url(url)
    except Exception:  # not a URL SQLAlchemy can parse: say so rather than echo it
        return "(an unparsable AP_DATABASE_URL)"
    shown = URL.create(
        parsed.drivername, parsed.username, None, parsed.host, parsed.port, parsed.database, parsed.query
    )
    return shown.render_as_string(hide_password=False)


def describe_embedded(data_dir: Path) -> str:
    return f"embedded PostgreSQL in {(data_dir / 'pgdata').resolve()}"


def import_pgserver() -> Any:
    """`pgserver`, imported without platformdirs' RuntimeDirWarning: pgserver keeps only its lock
    file in the runtime dir, and the fallback platformdirs warns about (/tmp/runtime-UID, when
    XDG_RUNTIME_DIR is unset, as under sudo, cron, CI and containers) serves that purpose."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=_runtime_dir_warning())
        import pgserver

    return pgserver


def _runtime_dir_warning() -> type[Warning]:
    try:
        from platformdirs import RuntimeDirWarning  # type: ignore[attr-defined]
    except ImportError:  # older platformdirs: no such warning
        return UserWarning
    return RuntimeDirWarning  # type: ignore[no-any-return]


@contextmanager
def _exclusive(path: Path | None) -> Iterator[None]:
    """An exclusive lock on `path` (a file, made if missing) for the block; none when `path` is None."""
    if path is None:
        yield
        return
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _os_user_lock_path() -> Path | None:
    """As root, pgserver creates a system user to run PostgreSQL as when it is missing: two commands
    doing it at once corrupt the user database. Machine-wide, so only while that user is missing."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("pgserver")
    except KeyError:
        return Path(tempfile.gettempdir()) / "openpieces-pgserver-user.lock"
    return None


class EmbeddedPostgres:
    """PostgreSQL 16 from the `pgserver` wheel, with its data under `data_dir`."""

    def __init__(self, data_dir: Path, *, cleanup: str | None = "stop") -> None:
        pgserver = import_pgserver()
        self.pgdata = (data_dir / "pgdata").resolve()
        # A new data dir is a new, empty database: the CLI says so (a key made in one that a server
        # on another will never accept is the classic first-run surprise).
        self.created = not (self.pgdata / "PG_VERSION").exists()
        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        # Several commands may start on one fresh data dir at once (`serve &` and `create-platform`):
        # one of them creates the cluster (as root, pgserver also adds its OS user, outside its own
        # lock), the others wait and then use it.
        with _exclusive(self.pgdata.parent / ".embedded-postgres.lock"), _exclusive(_os_user_lock_path()):
            self._server = pgserver.get_server(self.pgdata, cleanup_mode=cleanup)
        self.url = to_async_url(self._server.get_uri())
        log.debug("embedded postgres ready", extra={"pgdata": str(self.pgdata), "newDatabase": self.created})

    def describe(self) -> str:
        return describe_embedded(self.pgdata.parent)

    def create_database(self, name: str) -> str:
        self._server.psql(f'CREATE DATABASE "{name}";')
        return self.url.replace("/postgres?", f"/{name}?", 1)

    def stop(self) -> None:
        self._server.cleanup()


# --- SQL helpers shared by the repositories


def iso_text(column: ColumnElement[Any]) -> ColumnElement[str]:
    """The API's timestamp format, made by PostgreSQL: on a 2-core machine that moves work off the
    (busier) Python process, and text decodes faster than a timestamp."""
    return func.to_char(func.timezone("UTC", column), 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')


def foreign_key_violation_on(exc: BaseException, *referred_tables: str) -> bool:
    """True when `exc` (asyncpg's, or SQLAlchemy's wrapping it) was raised by a foreign key to one of
    `referred_tables` (the naming convention ends each foreign key's name with the table it refers to)."""
    cause = (
        exc
        if isinstance(exc, asyncpg.ForeignKeyViolationError)
        else getattr(getattr(exc, "orig", None), "__cause__", None)
    )
    if not isinstance(cause, asyncpg.ForeignKeyViolationError):
        return False
    name = cause.constraint_name or ""
    return any(name.endswith(f"_{table}") for table in referred_tables)


def unique_violation_on(exc: BaseException, constraint: str) -> bool:
    """True when `exc` (SQLAlchemy's IntegrityError, or asyncpg's own) was raised by the named unique index."""
    if isinstance(exc, asyncpg.UniqueViolationError):
        return exc.constraint_name == constraint
    orig = getattr(exc, "orig", None)
    cause = getattr(orig, "__cause__", None)
    name = getattr(orig, "constraint_name", None) or getattr(cause, "constraint_name", None)
    return name == constraint or constraint in str(orig)
