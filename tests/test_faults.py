"""Faults: the database goes away under a running server, and comes back.

The test runs its own PostgreSQL 16 (the binaries of the `pgserver` wheel, in a temp dir, on a free
TCP port), never the shared one, so it can stop and start it at will. A real `openpieces serve`
process keeps running throughout: while the database is down every request is answered promptly
with the 503 envelope (never a hang, never a 500), and once it is back the same process serves
again, with every write it acknowledged before the outage still there.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.processes import free_port, running_server

pytestmark = pytest.mark.slow

BOOTSTRAP_KEY = "sk-fault-test-key-0123456789abcdefghijklmnop"
UNAVAILABLE = {
    "statusCode": 503,
    "code": "SERVICE_UNAVAILABLE",
    "params": {"message": "The database is unavailable, try again shortly"},
}
# Each request while the database is down must be answered within this (the client gives up after).
PROMPT_SECONDS = 10.0


class PrivatePostgres:
    """A throwaway PostgreSQL cluster under `root`, listening on 127.0.0.1:<free port> only (no
    unix socket), started and stopped with `pg_ctl`. As root, it runs as pgserver's system user
    (PostgreSQL refuses to run as root)."""

    def __init__(self, root: Path) -> None:
        # The wheel's binaries, found without importing `pgserver` (whose import has side effects).
        spec = importlib.util.find_spec("pgserver")
        assert spec is not None and spec.origin is not None, "the pgserver wheel is not installed"
        self.bin = Path(spec.origin).parent / "pginstall" / "bin"
        self.root = root
        self.pgdata = root / "pgdata"
        self.log = root / "postgres.log"
        self.port = free_port()
        self.user: str | None = None
        if os.geteuid() == 0:
            self.user = "pgserver"  # the system user pgserver itself runs PostgreSQL as
            try:
                entry = pwd.getpwnam(self.user)
            except KeyError:
                subprocess.run(["useradd", "-s", "/bin/sh", self.user], check=True, capture_output=True)
                entry = pwd.getpwnam(self.user)
            os.chown(root, entry.pw_uid, entry.pw_gid)

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        # Output goes to a file, not a pipe: the postmaster pg_ctl starts would otherwise hold the
        # pipe open and `subprocess.run` would wait for it.
        with tempfile.TemporaryFile("w+", dir=self.root) as out:
            result = subprocess.run(
                [str(self.bin / args[0]), *args[1:]],
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=timeout,
                check=False,
                cwd=self.root,
                user=self.user,
            )
            out.seek(0)
            result.stdout = out.read()
        return result

    def _check(self, *args: str) -> None:
        result = self._run(*args)
        if result.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(f"{args[0]} {args[-1]} failed ({result.returncode}): {result.stdout}\n{log[-3000:]}")

    def init(self) -> None:
        self._check("initdb", "-D", str(self.pgdata), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-sync")

    def start(self) -> None:
        options = f"-h 127.0.0.1 -p {self.port} -k ''"
        self._check("pg_ctl", "-D", str(self.pgdata), "-l", str(self.log), "-o", options, "-w", "-t", "30", "start")

    def stop(self) -> None:
        self._check("pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "-t", "30", "stop")

    def begin_smart_stop(self) -> None:
        """Starts a smart shutdown and returns at once: PostgreSQL refuses new connections ("the
        database system is shutting down") but waits for the open sessions to end."""
        self._check("pg_ctl", "-D", str(self.pgdata), "-m", "smart", "-W", "stop")

    def is_running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.pgdata), "status").returncode == 0

    def kill(self) -> None:
        """Stops it whatever state the test left it in (cleanup)."""
        if self.pgdata.exists() and self.is_running():
            if self._run("pg_ctl", "-D", str(self.pgdata), "-m", "immediate", "-w", "-t", "30", "stop").returncode:
                pid_file = self.pgdata / "postmaster.pid"
                if pid_file.exists():
                    os.kill(int(pid_file.read_text().split()[0]), 9)


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    root = Path(tempfile.mkdtemp(prefix="ap-faults-"))
    pg = None
    try:
        pg = PrivatePostgres(root)
        pg.init()
        pg.start()
        yield pg
    finally:
        try:
            if pg is not None:
                pg.kill()
        finally:
            shutil.rmtree(root, ignore_errors=True)


class HeldSession:
    """A session of the test's own, driven from synchronous code on a private event loop (between
    calls the loop is idle and the session just sits open, as a smart shutdown waits for it)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.loop = asyncio.new_event_loop()
        self.conn: asyncpg.Connection = self.loop.run_until_complete(asyncpg.connect(url, timeout=10))

    def terminate_other_sessions(self) -> int:
        """Cuts off every other client session (as `pg_ctl stop -m fast` would), waiting for each to end."""
        pids = self.loop.run_until_complete(
            self.conn.fetch(
                "SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
                timeout=10,
            )
        )
        for row in pids:
            self.loop.run_until_complete(self.conn.execute("SELECT pg_terminate_backend($1, 10000)", row["pid"]))
        return len(pids)

    def new_session_refused(self) -> bool:
        """True when PostgreSQL answers a new connection with 57P03 (shutting down)."""
        try:
            conn = self.loop.run_until_complete(asyncpg.connect(self.url, timeout=10))
        except asyncpg.CannotConnectNowError:
            return True
        self.loop.run_until_complete(conn.close())
        return False

    def close(self) -> None:
        try:
            self.loop.run_until_complete(self.conn.close(timeout=5))
        except Exception:
            self.conn.terminate()
        finally:
            self.loop.close()


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.headers["x-request-id"]  # answered inside the edge middleware, like any other
    assert response.json() == UNAVAILABLE


def _assert_every_request_unavailable(client: httpx.Client, project_id: str) -> None:
    """Reads, writes, health and the API key check: each a prompt 503 with the envelope, never a
    hang or a 500. Twice over: the first requests meet the connections the pools still hold (now
    dead), the later ones have to open new connections."""
    for _ in range(2):
        for method, path, body, key in (
            ("GET", "/v1/health", None, None),
            ("GET", "/api/v1/health", None, None),
            ("GET", "/v1/projects", None, None),
            ("GET", f"/v1/projects/{project_id}", None, None),
            ("POST", "/v1/projects", {"displayName": "During outage"}, None),
            ("POST", f"/v1/projects/{project_id}", {"displayName": "Renamed during outage"}, None),
            ("DELETE", f"/v1/projects/{project_id}", None, None),
            # A key the server has not seen (so not cached) cannot be checked: 503, not 401.
            ("GET", "/v1/projects", None, "sk-never-issued-0123456789abcdefghijkl"),
        ):
            headers = {"Authorization": f"Bearer {key}"} if key else {}
            sent = time.monotonic()
            response = client.request(method, path, json=body, headers=headers)
            assert time.monotonic() - sent < PROMPT_SECONDS, (method, path)
            _assert_unavailable(response)
    # What needs no database is still answered as usual.
    anonymous = client.get("/v1/projects", headers={"Authorization": ""})
    assert anonymous.status_code == 401, anonymous.text


@pytest.mark.parametrize("admin_api", [False, True], ids=["admin-off", "admin-on"])
def test_database_outage_is_503_and_the_server_recovers_without_restart(tmp_path: Path, admin_api: bool) -> None:
    """With the admin API on, each request also looks up its faults in the database first: that
    lookup failing is the same prompt 503 on a connection that stays usable (one keep-alive client
    throughout), and the server logs no unhandled error."""
    with private_postgres() as pg:
        env = {
            "AP_DATABASE_URL": pg.url,
            "AP_DATA_DIR": str(tmp_path / "data"),
            "AP_BOOTSTRAP_API_KEY": BOOTSTRAP_KEY,
            **({"AP_ADMIN_TOKEN": "outage-admin-token"} if admin_api else {}),
        }
        with (
            running_server(env) as base_url,
            httpx.Client(
                base_url=base_url, headers={"Authorization": f"Bearer {BOOTSTRAP_KEY}"}, timeout=PROMPT_SECONDS
            ) as client,
        ):
            # 1. Writes the server acknowledges.
            acknowledged: dict[str, dict[str, object]] = {}
            for n in range(3):
                made = client.post("/v1/projects", json={"displayName": f"Before outage {n}", "externalId": f"pre-{n}"})
                assert made.status_code == 201, made.text
                acknowledged[made.json()["id"]] = made.json()
            first_id = next(iter(acknowledged))
            listed = client.get("/v1/projects", params={"limit": 100})
            assert listed.status_code == 200, listed.text
            assert set(acknowledged) <= {p["id"] for p in listed.json()["data"]}

            # 2a. The database starts shutting down: new connections are refused ("the database
            # system is shutting down") and the server's open sessions are cut off.
            held = HeldSession(pg.url.replace("+asyncpg", ""))
            try:
                pg.begin_smart_stop()
                deadline = time.monotonic() + 10
                while not held.new_session_refused():
                    assert time.monotonic() < deadline, "PostgreSQL did not start shutting down"
                    time.sleep(0.05)
                cut = held.terminate_other_sessions()
                assert cut >= 1  # the server's pooled connections
                _assert_every_request_unavailable(client, first_id)

                # 2b. ... and goes away altogether (fast shutdown ends the held session too).
                pg.stop()
            finally:
                held.close()
            assert not pg.is_running()

            # 3. Down: nothing listens on its port any more.
            _assert_every_request_unavailable(client, first_id)

            # 4. The same cluster comes back: same data dir, same port.
            pg.start()

            # 5. The same server process recovers by itself.
            deadline = time.monotonic() + 30
            while True:
                health = client.get("/v1/health")
                if health.status_code == 200:
                    break
                _assert_unavailable(health)
                assert time.monotonic() < deadline, "the server did not recover within 30 s"
                time.sleep(0.2)
            assert health.json() == {"status": "ok"}

            for project_id, project in acknowledged.items():
                got = client.get(f"/v1/projects/{project_id}")
                assert got.status_code == 200, got.text
                assert got.json() == project
            # Nothing refused during the outage was written (nor renamed, nor deleted).
            listed = client.get("/v1/projects", params={"limit": 100})
            assert listed.status_code == 200, listed.text
            names = sorted(p["displayName"] for p in listed.json()["data"] if p["type"] == "TEAM")
            assert names == [f"Before outage {n}" for n in range(3)]
            # Writes work again, at the first attempt.
            made = client.post("/v1/projects", json={"displayName": "After outage", "externalId": "post-1"})
            assert made.status_code == 201, made.text
            again = client.get(f"/v1/projects/{made.json()['id']}")
            assert again.status_code == 200 and again.json() == made.json()
            renamed = client.post(f"/v1/projects/{first_id}", json={"displayName": "Renamed after"})
            assert renamed.status_code == 200, renamed.text
            assert renamed.json()["displayName"] == "Renamed after"
            unknown = client.get(
                "/v1/projects", headers={"Authorization": "Bearer sk-never-issued-0123456789abcdefghijkl"}
            )
            assert unknown.status_code == 401, unknown.text
        server_log = "".join(path.read_text(errors="replace") for path in (tmp_path / "data").glob("server-*.log"))
        # No request was a 500 nor failed outside the error handlers (the pool's own reconnect
        # warnings may carry a traceback; they are not a request's).
        assert '"unhandled error"' not in server_log and '"status":500' not in server_log, server_log[-3000:]
        assert "Exception in ASGI application" not in server_log, server_log[-3000:]
