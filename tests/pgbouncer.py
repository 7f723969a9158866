"""A real PgBouncer in transaction mode in front of the test PostgreSQL, for the tests and the bench.

Debian's `pgbouncer` is installed when missing and we may (`apt-get install -y pgbouncer`, as root,
as CI runs); where that cannot happen the caller skips with the reason `PgBouncerUnavailable` gives.
PgBouncer refuses to run as root, so as root it drops to the `postgres` (or `nobody`) user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from tests.processes import free_port


class PgBouncerUnavailable(Exception):
    """PgBouncer is not installed and could not be installed here."""


def pgbouncer_binary() -> str:
    found = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None)
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise PgBouncerUnavailable("pgbouncer is not installed and this is not a root Debian host to install it on")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "pgbouncer"]
    result = subprocess.run(install, env=env, capture_output=True, text=True, timeout=600, check=False)
    if result.returncode != 0:  # the package lists may never have been fetched on this host
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, timeout=600, check=False)
        result = subprocess.run(install, env=env, capture_output=True, text=True, timeout=600, check=False)
    found = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None)
    if not found:
        raise PgBouncerUnavailable(f"apt-get install pgbouncer failed: {result.stderr[-500:]}")
    return found


def _run_as() -> str | None:
    if os.geteuid() != 0:
        return None
    for user in ("postgres", "nobody"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            continue
        return user
    raise PgBouncerUnavailable("running as root and no unprivileged user for pgbouncer to switch to")


def _wait_listening(port: int, process: subprocess.Popen[bytes], log: Path, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"pgbouncer exited with {process.returncode}: {log.read_text()[-2000:]}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"pgbouncer did not listen on {port}: {log.read_text()[-2000:]}")


@contextmanager
def pgbouncer(database_url: str, *, pool_size: int = 10) -> Iterator[str]:
    """Run PgBouncer (pool_mode = transaction) in front of `database_url`'s server; yields the same
    URL (scheme, user, database) pointing at PgBouncer instead."""
    binary = pgbouncer_binary()
    parts = urlsplit(database_url)
    if not parts.hostname:
        raise PgBouncerUnavailable("the test PostgreSQL is on a unix socket; the PgBouncer test needs TCP")
    user = unquote(parts.username or "postgres")
    upstream = f"host={parts.hostname} port={parts.port or 5432}"
    if parts.password:
        upstream += f" user={user} password={unquote(parts.password)}"
    run_as = _run_as()
    work = Path(tempfile.mkdtemp(prefix="ap-pgbouncer-"))
    port = free_port()
    (work / "users.txt").write_text(f'"{user}" ""\n')
    (work / "pgbouncer.ini").write_text(
        f"""[databases]
* = {upstream}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {work / "users.txt"}
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = 1000
logfile = {work / "pgbouncer.log"}
"""
    )
    if run_as is not None:
        uid = pwd.getpwnam(run_as).pw_uid
        for path in (work, *work.iterdir()):
            os.chown(path, uid, -1)
    command = [binary, *(["-u", run_as] if run_as else []), str(work / "pgbouncer.ini")]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        _wait_listening(port, process, work / "pgbouncer.log")
        netloc = parts.netloc.rsplit("@", 1)
        host = f"127.0.0.1:{port}"
        yield urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(work, ignore_errors=True)


@contextmanager
def pooled_env(database_url: str) -> Iterator[dict[str, str]]:
    """The settings of a server behind PgBouncer in front of `database_url` (pytest skips, loudly,
    where PgBouncer cannot be had)."""
    import pytest

    with ExitStack() as stack:
        try:
            pooled_url = stack.enter_context(pgbouncer(database_url))
        except PgBouncerUnavailable as exc:
            message = f"SKIPPING THE PGBOUNCER TEST: {exc}"
            print(f"\n{'!' * 80}\n{message}\n{'!' * 80}", flush=True)
            pytest.skip(message)
        yield {
            "AP_DATABASE_URL": pooled_url,
            "AP_DATABASE_POOLER": "transaction",
            "AP_DATABASE_DIRECT_URL": database_url,
        }
