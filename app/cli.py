"""`openpieces`: serve, migrate, and provision platforms and API keys.

Configuration comes from AP_* environment variables (see the README). Without AP_DATABASE_URL every
command uses an embedded PostgreSQL in AP_DATA_DIR (default .openpieces, relative to the current
directory): run every command from the same directory, or give an absolute AP_DATA_DIR.
Each command says on stderr which database it uses."""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
import signal
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import typer
import typer.core
from pydantic import ValidationError

from app import __version__
from app.edge.http import configure_logging
from app.kit.config import Settings, get_settings
from app.kit.crypto import InvalidEncryptionKey, load_or_create_key, new_encoded_key
from app.kit.db import EmbeddedPostgres, database_for, describe_database_url, migrate_for

log = logging.getLogger("openpieces.cli")

# Plain help (no rich panels): they printed a `<bool>` beside every flag.
cli = typer.Typer(
    add_completion=False,
    # Bare `openpieces` shows the help and succeeds (see _global_options).
    invoke_without_command=True,
    help=__doc__,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class _PlainUsage(typer.core.TyperCommand):
    """Usage lines as a man page writes them (`seed [OPTIONS] FILE`): Typer puts a required
    argument in braces, which reads as a set of choices."""

    def collect_usage_pieces(self, ctx: typer.Context) -> list[str]:  # type: ignore[override]
        pieces = super().collect_usage_pieces(ctx)
        return [piece[1:-1] if piece.startswith("{") and piece.endswith("}") else piece for piece in pieces]


class Compat(StrEnum):
    docs = "docs"
    server = "server"


class Edition(StrEnum):
    COMMUNITY = "COMMUNITY"
    PRO = "PRO"
    ENTERPRISE = "ENTERPRISE"


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"openpieces {__version__}")
        raise typer.Exit()


@cli.callback()
def _global_options(
    ctx: typer.Context,
    version: bool = typer.Option(
        False, "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
    ),
    database_url: str | None = typer.Option(
        None,
        envvar="AP_DATABASE_URL",
        show_envvar=True,
        help="PostgreSQL to use (a postgresql://, postgres:// or postgresql+asyncpg:// URL). "
        "Unset: the embedded one in --data-dir.",
    ),
    data_dir: Path = typer.Option(
        Path(".openpieces"),
        envvar="AP_DATA_DIR",
        show_envvar=True,
        help="Embedded PostgreSQL and generated encryption key. Relative to the current directory: "
        "another directory means another, empty database.",
    ),
) -> None:
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(0)
    # Settings are read from the environment, here and in the server's workers: put the options there,
    # the data dir made absolute so that every process, and every message, names the same one.
    if database_url:
        os.environ["AP_DATABASE_URL"] = database_url
    os.environ["AP_DATA_DIR"] = str(data_dir.resolve())
    get_settings.cache_clear()
    try:
        settings = get_settings()
    except ValidationError as exc:  # e.g. AP_DATABASE_URL of another database or driver
        for error in exc.errors():
            message = error["msg"].removeprefix("Value error, ")
            field = f"AP_{str(error['loc'][0]).upper()} " if error["loc"] else ""
            typer.echo(f"error: {field}{message}", err=True)
        raise typer.Exit(2) from None
    # JSON lines on stderr for every command, as for the server (the encryption-key warning too);
    # a one-shot command's own progress is its plain "database: ..." line, so only warnings there.
    configure_logging(settings.log_level if ctx.invoked_subcommand == "serve" else "WARNING")


@dataclass
class _DatabaseInUse:
    url: str
    description: str  # what it is and where, never a password
    embedded: bool
    created: bool  # a new, empty embedded database made just now


@contextmanager
def _database() -> Iterator[_DatabaseInUse]:
    """AP_DATABASE_URL, or the embedded PostgreSQL under AP_DATA_DIR (started if needed)."""
    settings = get_settings()
    if settings.database_url:
        yield _DatabaseInUse(settings.database_url, describe_database_url(settings.database_url), False, False)
        return
    embedded = EmbeddedPostgres(settings.data_dir)
    try:
        yield _DatabaseInUse(embedded.url, embedded.describe(), True, embedded.created)
    finally:
        embedded.stop()


@contextmanager
def _database_url() -> Iterator[str]:
    """The database of a one-shot command, announced on stderr (stdout stays the command's answer)."""
    with _database() as database:
        if database.created:
            typer.echo(
                f"database: created a new, empty {database.description} (a server started with another "
                "AP_DATA_DIR, or from another directory, will not see it)",
                err=True,
            )
        else:
            typer.echo(f"database: {database.description}", err=True)
        yield database.url


async def _with_db(url: str, action):  # type: ignore[no-untyped-def]
    # Room for a held advisory lock beside the work (seeding takes one).
    db = database_for(get_settings(), url, pool_size=2, max_overflow=2)
    try:
        return await action(db)
    finally:
        await db.dispose()


@cli.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on (0.0.0.0 for all)."),
    port: int = typer.Option(8080, help="TCP port."),
    workers: int = typer.Option(1, min=1, help="Worker processes."),
    compat: Compat | None = typer.Option(
        None,
        help="Where the docs and the real server disagree, whose answers to give (default: AP_COMPAT, else docs).",
    ),
    deterministic_seed: int | None = typer.Option(
        None,
        min=0,
        help="Deterministic mode: ids from a generator seeded with this, timestamps from a logical clock "
        "(default: AP_DETERMINISTIC_SEED, else off). One process only.",
    ),
    clock: str | None = typer.Option(
        None,
        help="Deterministic mode: the clock's first instant, ISO 8601 (default: AP_CLOCK, else 2026-01-01T00:00:00Z).",
    ),
    freeze_clock: bool = typer.Option(
        False, "--freeze-clock", help="Deterministic mode: every timestamp is the clock's first instant."
    ),
) -> None:
    """Run the API server (migrates first unless AP_RUN_MIGRATIONS=false)."""
    import uvicorn

    from app.edge.server import GuardedHttpToolsProtocol

    # Through the environment, so every worker reads the same settings.
    for name, value in (
        ("AP_COMPAT", compat.value if compat is not None else None),
        ("AP_DETERMINISTIC_SEED", None if deterministic_seed is None else str(deterministic_seed)),
        ("AP_CLOCK", clock),
        ("AP_CLOCK_FROZEN", "true" if freeze_clock else None),
    ):
        if value is not None:
            os.environ[name] = value
    get_settings.cache_clear()
    try:
        settings = get_settings()
    except ValidationError as exc:
        for error in exc.errors():
            field = f"AP_{str(error['loc'][0]).upper()} " if error["loc"] else ""
            typer.echo(f"error: {field}{error['msg'].removeprefix('Value error, ')}", err=True)
        raise typer.Exit(2) from None
    if settings.deterministic_seed is not None and workers > 1:
        # The seeded generator and the clock live in the process: two workers would each have one.
        typer.echo(
            f"error: deterministic mode (AP_DETERMINISTIC_SEED) runs one process; --workers {workers} "
            "would give each worker its own id generator and clock. Use --workers 1.",
            err=True,
        )
        raise typer.Exit(2)
    if settings.seed_file:
        _check_seed_file(settings.seed_file)
    # The port first: a clash is one clear error before anything else starts (and "ready", logged
    # once the app has started, then always means "answering on this port").
    listener = _listen(host, port)
    url = f"http://{host}:{port}" if ":" not in host else f"http://[{host}]:{port}"
    log.info(f"listening on {url}", extra={"url": url})
    # Made here, once, so the workers all find the same key (and it is announced once).
    _encryption_key(settings)
    with _database() as database:
        log.info(
            f"database: {'created a new, empty ' if database.created else ''}{database.description}",
            extra={"embedded": database.embedded, "newDatabase": database.created},
        )
        if settings.run_migrations:
            migrate_for(get_settings(), database.url)
        # The workers inherit a ready database: one URL, already migrated.
        os.environ["AP_DATABASE_URL"] = database.url
        os.environ["AP_DATABASE_EMBEDDED"] = "true" if database.embedded else "false"
        os.environ["AP_RUN_MIGRATIONS"] = "false"
        get_settings.cache_clear()
        if workers > 1:
            _share_metrics_between_workers()
        # uvicorn re-raises SIGTERM once it has shut down; as SystemExit it unwinds this `with`,
        # so the embedded PostgreSQL is stopped instead of left running.
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
        config = uvicorn.Config(
            "app.main:create_app",
            factory=True,
            workers=workers,
            access_log=False,
            log_level="warning",
            proxy_headers=True,
            # In-flight requests get this long once the listener has closed (app/edge/draining.py).
            timeout_graceful_shutdown=settings.shutdown_timeout_seconds,
            # Deadlines for slow heads and bodies, a bound on the head, the error envelope for
            # unparsable requests: what uvicorn's own protocol lacks.
            http=GuardedHttpToolsProtocol,
        )
        # What uvicorn.run does, on the socket bound above.
        if workers > 1:
            _closing_multiprocess()(config, sockets=[listener]).run()
            return
        server = uvicorn.Server(config)
        server.run(sockets=[listener])
        if not server.started:
            raise typer.Exit(3)


@cli.command()
def wait(
    port: int = typer.Option(8080, help="The port `serve` listens on."),
    host: str = typer.Option("127.0.0.1", help="The interface `serve` listens on."),
    pid: int | None = typer.Option(None, help="The server's process id (`$!`): stop waiting if it exits."),
    log_file: Path | None = typer.Option(None, "--log", help="Where the server's stderr goes, to show if it fails."),
    timeout: float = typer.Option(60.0, min=0, help="Seconds to wait for /v1/health."),
) -> None:
    """Wait until a server answers /v1/health (exit 0), or say why not (exit 1)."""
    import time
    import urllib.error
    import urllib.request

    url = f"http://{host}:{port}/v1/health"
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    typer.echo(f"ready: {url}", err=True)
                    return
        except (urllib.error.URLError, OSError):
            pass
        if pid is not None and not _process_alive(pid):
            reason = f"the server (pid {pid}) exited before it was ready"
            break
        if time.monotonic() >= deadline:
            reason = f"no answer from {url} within {timeout:g} s"
            break
        time.sleep(0.1)
    typer.echo(f"error: {reason}", err=True)
    if log_file is not None:
        lines = log_file.read_text(errors="replace").splitlines()[-10:] if log_file.exists() else []
        typer.echo(f"its log, {log_file.resolve()}, ends with:", err=True)
        for line in lines:
            typer.echo(f"  {line}", err=True)
    raise typer.Exit(1)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's: it exists
        return True
    # A process that exited but that its parent has not reaped yet still answers signal 0.
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _closing_multiprocess() -> type:
    from uvicorn.supervisors import Multiprocess

    class ClosingMultiprocess(Multiprocess):
        """uvicorn's supervisor kept its copy of the listening socket open until every worker had
        exited: once the workers stopped accepting, the kernel still queued new connections on it,
        and reset them all when the supervisor exited. Closed as soon as the workers are told to
        stop (none is started again after that), a connection is refused instead, and a client or
        load balancer goes elsewhere."""

        def terminate_all(self) -> None:
            for listening in self.sockets:
                listening.close()
            super().terminate_all()

    return ClosingMultiprocess


def _listen(host: str, port: int, option: str = "--port") -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as exc:
        reason = "is already in use (another server running?)" if exc.errno == errno.EADDRINUSE else exc.strerror
        log.error(
            f"cannot listen on {host}:{port}: the port {reason}; pick another with {option}", extra={"port": port}
        )
        raise typer.Exit(1) from None
    listener.set_inheritable(True)
    return listener


def _share_metrics_between_workers() -> None:
    """Every worker writes its metrics to one directory, so a scrape of any worker counts all of
    them (prometheus-client's multiprocess mode). Set before the workers start: they read it when
    they first import the metrics. A directory of the user's (PROMETHEUS_MULTIPROC_DIR) is emptied
    of an earlier run's files; otherwise a fresh one is made, and removed on exit."""
    import atexit
    import shutil
    import tempfile

    from app.edge import metrics

    if metrics.multiprocess_dir() is None:
        path = tempfile.mkdtemp(prefix="openpieces-metrics-")
        os.environ[metrics.MULTIPROCESS_ENV] = path
        atexit.register(shutil.rmtree, path, True)
    metrics.prepare_multiprocess_dir(os.environ[metrics.MULTIPROCESS_ENV])


def _encryption_key(settings: Settings) -> bytes:
    try:
        return load_or_create_key(settings.encryption_key, settings.data_dir, required=settings.encryption_key_required)
    except InvalidEncryptionKey as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(0)


@cli.command()
def migrate() -> None:
    """Apply every pending migration (alembic upgrade head)."""
    with _database_url() as url:
        migrate_for(get_settings(), url)
    typer.echo("database is up to date")


@cli.command("create-platform")
def create_platform(
    name: str = typer.Option(..., help="The platform's name."),
    edition: Edition = typer.Option(
        Edition.ENTERPRISE,
        case_sensitive=False,
        show_default=False,  # it would read ENTERPRISE beside the choices, which are shown in lower case
        help="Sets the team-projects limit (default: enterprise).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    print_key: bool = typer.Option(
        False, "--print-key", help="Print only the API key, for KEY=$(openpieces create-platform ... --print-key)."
    ),
) -> None:
    """Create a platform, its owner user and PERSONAL project, and a first API key."""
    from app.projects.provisioning import PlatformProvisioning

    if as_json and print_key:
        raise typer.BadParameter("choose one of --json and --print-key", param_hint="--print-key")

    with _database_url() as url:
        migrate_for(get_settings(), url)
        created = asyncio.run(_with_db(url, lambda db: PlatformProvisioning(db).create_platform(name, edition.value)))
    result = {"platformId": created.platform_id, "ownerId": created.owner_id, "apiKey": created.api_key}
    if print_key:
        typer.echo(created.api_key)
    elif as_json:
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
    from app.kit.errors import ActivepiecesError
    from app.platforms.service import PlatformService

    with _database_url() as url:
        migrate_for(get_settings(), url)
        try:
            key = asyncio.run(_with_db(url, lambda db: PlatformService(db).create_api_key(platform_id)))
        except ActivepiecesError as exc:
            typer.echo(json.dumps(exc.body()), err=True)
            raise typer.Exit(1) from exc
    if as_json:
        typer.echo(json.dumps({"platformId": platform_id, "apiKey": key}))
    else:
        typer.echo(f"api key: {key}  (shown once; store it now)")


@cli.command(cls=_PlainUsage)
def seed(
    file: Path = typer.Argument(..., metavar="FILE", help="A YAML or JSON seed file (see examples/seed.yaml)."),
) -> None:
    """Apply a seed file: make the platforms, keys, projects, connections and flows it describes
    that do not exist yet. Safe to run again."""
    from app.admin.seed import apply_seed
    from app.kit.crypto import SecretBox

    document = _check_seed_file(file)
    settings = get_settings()
    secrets = SecretBox(_encryption_key(settings))
    with _database_url() as url:
        migrate_for(get_settings(), url)
        made = asyncio.run(_with_db(url, lambda db: apply_seed(db, secrets, document)))
    typer.echo(json.dumps({"applied": str(file), "made": made}))


def _check_seed_file(path: Path):  # type: ignore[no-untyped-def]
    from app.admin.seed import SeedError, load_seed_file

    try:
        return load_seed_file(path)
    except SeedError as exc:
        typer.echo(f"seed file error: {exc}", err=True)
        raise typer.Exit(2) from None


snapshot_cli = typer.Typer(
    help="Export a platform's (or every platform's) whole state as one JSON file, and restore it.",
    rich_markup_mode=None,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
cli.add_typer(snapshot_cli, name="snapshot")


@snapshot_cli.command("export", cls=_PlainUsage)
def snapshot_export(
    file: Path = typer.Argument(..., metavar="FILE", help="Where to write the snapshot ('-': stdout)."),
    platform_id: str | None = typer.Option(None, "--platform-id", help="Only this platform (default: every one)."),
) -> None:
    """Write a snapshot: every row of the platforms, API keys as hashes, secrets still sealed."""
    from app.admin.snapshot import SnapshotService
    from app.kit.crypto import SecretBox
    from app.kit.errors import ActivepiecesError

    secrets = SecretBox(_encryption_key(get_settings()))
    with _database_url() as url:
        migrate_for(get_settings(), url)
        try:
            document = asyncio.run(_with_db(url, lambda db: SnapshotService(db, secrets).export(platform_id)))
        except ActivepiecesError as exc:
            typer.echo(json.dumps(exc.body()), err=True)
            raise typer.Exit(1) from exc
    if str(file) == "-":
        typer.echo(document.decode())
    else:
        file.write_bytes(document)
        typer.echo(f"wrote {file} ({len(document)} bytes)", err=True)


@snapshot_cli.command("import", cls=_PlainUsage)
def snapshot_import(
    file: Path = typer.Argument(..., metavar="FILE", help="A snapshot written by `snapshot export` ('-': stdin)."),
    platform_id: str | None = typer.Option(
        None,
        "--platform-id",
        help="Replace only this platform (the snapshot must hold it alone); default: the snapshot "
        "becomes every platform there is.",
    ),
    key: str | None = typer.Option(
        None,
        "--key",
        envvar="AP_SNAPSHOT_ENCRYPTION_KEY",
        show_envvar=True,
        help="The encryption key the snapshot was exported with, when it is not this server's: its "
        "secrets are opened with it and sealed again with this server's.",
    ),
) -> None:
    """Restore a snapshot in one transaction: applied whole, or refused with every reason and
    nothing written."""
    import sys

    from app.admin.snapshot import SnapshotService, parse_document
    from app.kit.crypto import SecretBox
    from app.kit.errors import ActivepiecesError
    from app.projects.provisioning import PlatformProvisioning

    settings = get_settings()
    secrets = SecretBox(_encryption_key(settings))
    try:
        raw = sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
    except OSError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc

    async def restore(db):  # type: ignore[no-untyped-def]
        restored = await SnapshotService(db, secrets).restore(
            parse_document(raw), platform_id=platform_id, source_key=key
        )
        if platform_id is None and settings.bootstrap_api_key:  # as the admin API's restore
            await PlatformProvisioning(db).ensure_bootstrap_platform(
                settings.bootstrap_api_key, settings.bootstrap_edition
            )
        return restored

    with _database_url() as url:
        migrate_for(get_settings(), url)
        try:
            restored = asyncio.run(_with_db(url, restore))
        except ActivepiecesError as exc:
            typer.echo(json.dumps(exc.body()), err=True)
            raise typer.Exit(1) from exc
    typer.echo(json.dumps(restored))


@cli.command()
def pieces(
    names: bool = typer.Option(False, "--names", help="List each piece's name and version too."),
) -> None:
    """What the catalogue of published pieces shipped with the server holds."""
    from app.pieces import catalog

    typer.echo(catalog.describe())
    if names:
        for piece in catalog.load():
            typer.echo(f"{piece['name']}@{piece['version']}")


@cli.command()
def record(
    target: str = typer.Option(..., help="The Activepieces to record, e.g. https://cloud.activepieces.com."),
    key: str = typer.Option(..., envvar="AP_RECORD_KEY", help="Its platform API key (never written to the recording)."),
    listen: int = typer.Option(8765, "--listen", help="Port the recorder listens on (127.0.0.1)."),
    out: Path = typer.Option(..., "--out", help="The recording to write (JSON lines; replaced if it exists)."),
) -> None:
    """Forward every request to TARGET with KEY and record each request and answer (secrets redacted),
    until interrupted. Send your requests, or `openpieces scenario`, to http://127.0.0.1:LISTEN."""
    from app.drift.proxy import run_recorder

    # Bound first: a port in use is one clear error (exit code 1), not a recorder that never records.
    listener = _listen("127.0.0.1", listen, "--listen")
    typer.echo(f"recording {target} through http://127.0.0.1:{listen} into {out}", err=True)
    run_recorder(target, key, out, listener)


@cli.command()
def scenario(
    target: str = typer.Option(..., help="Where to send it: the recorder (http://127.0.0.1:8765) or a server."),
    key: str = typer.Option("", envvar="AP_RECORD_KEY", help="An API key (the recorder sends its own instead)."),
) -> None:
    """Run the drift scenario: projects, flows and global connections, their main cases and a few
    errors; everything it makes is deleted at the end."""
    import httpx

    from app.drift.scenario import run_scenario

    headers = {"Authorization": f"Bearer {key}"} if key else {}
    with httpx.Client(base_url=target.rstrip("/"), headers=headers, timeout=60) as client:
        made = run_scenario(client, say=lambda line: typer.echo(line))
    typer.echo(f"{made} requests sent to {target}", err=True)


@cli.command(cls=_PlainUsage)
def diff(
    recording: Path = typer.Argument(..., metavar="RECORDING", help="A recording made by `openpieces record`."),
    target: str | None = typer.Option(
        None, help="A running openpieces (its base URL). Unset: a new server of its own on an embedded PostgreSQL."
    ),
    admin_token: str | None = typer.Option(
        None, envvar="AP_ADMIN_TOKEN", help="The target's admin token: the replay runs on a new platform made with it."
    ),
    key: str | None = typer.Option(None, help="Instead of --admin-token: replay on the platform of this API key."),
    edition: Edition = typer.Option(
        Edition.ENTERPRISE, case_sensitive=False, show_default=False, help="The new platform's (default: enterprise)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as one JSON object."),
) -> None:
    """Replay RECORDING against openpieces and report every difference in status, body shape and
    values (ids, timestamps and cursors compared by rule). Exit code 1 when there is a difference."""
    import httpx

    from app.drift.recording import RecordingError, read_recording
    from app.drift.replay import fresh_platform, given_platform, own_server, replay_on

    if target is None and key is not None:
        raise typer.BadParameter("--key is a key of the --target server; give --target too", param_hint="--key")
    try:
        exchanges = read_recording(recording)
    except (OSError, RecordingError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if not exchanges:
        typer.echo(f"error: {recording} holds no exchange: nothing was recorded", err=True)
        raise typer.Exit(2)
    if target is None:
        place = own_server(edition.value)
    elif key is not None:
        place = given_platform(target, key)
    elif admin_token is not None:
        place = fresh_platform(target, admin_token, edition.value)
    else:
        raise typer.BadParameter("with --target, give --admin-token (a new platform) or --key", param_hint="--target")
    try:
        with place as replay_target:
            report = replay_on(replay_target, exchanges)
    except httpx.HTTPStatusError as exc:  # the admin API refused the new platform
        typer.echo(f"error: {exc.request.url} answered {exc.response.status_code}: {exc.response.text}", err=True)
        raise typer.Exit(2) from None
    except httpx.HTTPError as exc:
        typer.echo(f"error: {target} did not answer: {exc!r}", err=True)
        raise typer.Exit(2) from None
    typer.echo(report.as_json() if as_json else report.as_text())
    if report.differences:
        raise typer.Exit(1)


@cli.command("new-encryption-key")
def new_encryption_key() -> None:
    """Print a new key for AP_ENCRYPTION_KEY (urlsafe base64 of 32 random bytes)."""
    typer.echo(new_encoded_key())


def main() -> None:
    cli()
