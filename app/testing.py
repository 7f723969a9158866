"""openpieces as a test double for your own test suite: a real server on an embedded PostgreSQL in a
temp dir, with a platform and an API key ready, removed afterwards.

In pytest (the plugin loads itself once openpieces is installed)::

    def test_my_client(openpieces):
        client = MyActivepiecesClient(base_url=openpieces.api_url, api_key=openpieces.api_key)
        ...

Each test from the same state: define `openpieces_snapshot` (session-scoped: build the state once and
return `openpieces.export_snapshot()`, or return the path of a snapshot file) and ask for
`openpieces_restored`, which restores it before the test::

    @pytest.fixture(scope="session")
    def openpieces_snapshot(openpieces):
        ...  # make projects, flows, connections through the API
        return openpieces.export_snapshot()

    def test_from_a_known_state(openpieces_restored):
        ...

Elsewhere::

    with openpieces_server() as server:
        ...
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

# What restore_snapshot takes: the bytes export_snapshot gave, a parsed document, or a file's path.
Snapshot = bytes | dict[str, Any] | str | Path


@dataclass(frozen=True)
class OpenpiecesServer:
    base_url: str  # http://127.0.0.1:PORT
    api_key: str  # a platform API key (the bootstrap platform's)
    admin_token: str  # for /admin: reset, more platforms, faults, the request log
    data_dir: Path
    startup_seconds: float = field(default=0.0, compare=False)

    @property
    def api_url(self) -> str:
        """What an Activepieces client takes as its base URL."""
        return f"{self.base_url}/api/v1"

    def admin(self) -> httpx.Client:
        """An HTTP client for the admin API."""
        return httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {self.admin_token}"})

    def reset(self) -> None:
        """Empty everything and restore the bootstrap platform (and seed file): a clean slate."""
        with self.admin() as client:
            client.post("/admin/reset").raise_for_status()

    def export_snapshot(self, platform_id: str | None = None) -> bytes:
        """Every platform's state (or one platform's) as a snapshot document (JSON bytes)."""
        path = "/admin/snapshot" if platform_id is None else f"/admin/platforms/{platform_id}/snapshot"
        with self.admin() as client:
            response = client.get(path)
        response.raise_for_status()
        return response.content

    def restore_snapshot(
        self, snapshot: Snapshot, *, platform_id: str | None = None, source_key: str | None = None
    ) -> dict[str, Any]:
        """Make a snapshot the server's state (every platform), or with `platform_id` replace that
        platform alone. `source_key`: the encryption key it was exported with, when it is not this
        server's. A refused snapshot raises `httpx.HTTPStatusError` (its body names every reason)."""
        if isinstance(snapshot, dict):
            body = orjson.dumps(snapshot)
        elif isinstance(snapshot, str | Path):
            body = Path(snapshot).read_bytes()
        else:
            body = snapshot
        path = "/admin/snapshot" if platform_id is None else f"/admin/platforms/{platform_id}/snapshot"
        headers = {"Content-Type": "application/json"}
        if source_key:
            headers["X-Snapshot-Encryption-Key"] = source_key
        with self.admin() as client:
            response = client.put(path, content=body, headers=headers)
        response.raise_for_status()
        return dict(response.json())

    def platform_id(self, api_key: str | None = None) -> str:
        """The id of the platform holding `api_key` (the bootstrap key by default): its owner's."""
        headers = {"Authorization": f"Bearer {api_key or self.api_key}"}
        page = httpx.get(f"{self.api_url}/users", params={"limit": 1}, headers=headers)
        page.raise_for_status()
        return str(page.json()["data"][0]["platformId"])

    def create_user(self, email: str, *, platform_id: str | None = None, **fields: Any) -> dict[str, Any]:
        """A user of a platform (the bootstrap one by default) through the admin API: `firstName`,
        `lastName`, `platformRole`, `externalId`, `status`, `personalProject`, `projects`
        (`[{"projectId", "projectRole"}]`) as `POST /admin/platforms/{id}/users` takes them."""
        platform = platform_id or self.platform_id()
        with self.admin() as client:
            response = client.post(f"/admin/platforms/{platform}/users", json={"email": email, **fields})
        response.raise_for_status()
        return dict(response.json())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _command() -> list[str]:
    script = Path(sys.executable).with_name("openpieces")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from app.cli import main; main()"]


@contextmanager
def openpieces_server(
    *,
    edition: str = "ENTERPRISE",
    seed_file: str | Path | None = None,
    database_url: str | None = None,
    startup_timeout: float = 60.0,
    extra_env: dict[str, str] | None = None,
    compat: str = "docs",
    deterministic_seed: int | None = None,
    port: int | None = None,
) -> Iterator[OpenpiecesServer]:
    """Start `openpieces serve` (one worker) on a free port and stop it, and its data, afterwards.
    Without `database_url` it runs on an embedded PostgreSQL inside its own temp dir. `compat`:
    "docs" (the documented answers) or "server" (the real Activepieces server's; see the README,
    "Two answers"). `deterministic_seed`: deterministic mode (seeded ids, a logical clock; see
    "As a test target"); `port`: a fixed one instead of a free one (the server's URL is in some
    answers, so golden files want the same port on every run)."""
    if compat not in ("docs", "server"):
        raise ValueError(f"compat must be 'docs' or 'server', not {compat!r}")
    data_dir = Path(tempfile.mkdtemp(prefix="openpieces-"))
    api_key = "sk-test-" + secrets.token_hex(20)
    admin_token = secrets.token_hex(20)
    port = port or _free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("AP_")}
    env.update(
        {
            "AP_DATA_DIR": str(data_dir),
            "AP_BOOTSTRAP_API_KEY": api_key,
            "AP_BOOTSTRAP_EDITION": edition,
            "AP_ADMIN_TOKEN": admin_token,
            "AP_LOG_REQUESTS": "false",
            "AP_COMPAT": compat,
            **({"AP_DATABASE_URL": database_url} if database_url else {}),
            **({"AP_SEED_FILE": str(seed_file)} if seed_file else {}),
            **({"AP_DETERMINISTIC_SEED": str(deterministic_seed)} if deterministic_seed is not None else {}),
            **(extra_env or {}),
        }
    )
    started = time.monotonic()
    try:
        with serving(
            [*_command(), "serve", "--port", str(port)],
            env=env,
            ready_url=f"http://127.0.0.1:{port}/v1/health",
            log_path=data_dir / "server.log",
            timeout=startup_timeout,
        ):
            elapsed = time.monotonic() - started
            yield OpenpiecesServer(f"http://127.0.0.1:{port}", api_key, admin_token, data_dir, elapsed)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


@contextmanager
def serving(
    command: list[str], *, env: dict[str, str], ready_url: str, log_path: Path, timeout: float = 60.0
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server command in its own session until `ready_url` answers 2xx; stop it (and whatever
    it started: uvicorn workers, an embedded PostgreSQL) afterwards."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{command[0]} exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                if httpx.get(ready_url, timeout=1).is_success:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{command[0]} did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.05)
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # the server stops its embedded PostgreSQL
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


try:
    import pytest
except ImportError:  # used without pytest: the context manager is all there is
    pass
else:

    @pytest.fixture(scope="session")
    def openpieces(request: pytest.FixtureRequest) -> Iterator[OpenpiecesServer]:
        """A running openpieces server for the test session (see `openpieces_server`).

        Parametrize it indirectly to choose the answers, or any other `openpieces_server` option::

            @pytest.mark.parametrize("openpieces", ["server"], indirect=True)
            @pytest.mark.parametrize("openpieces", [{"compat": "server", "edition": "PRO"}], indirect=True)

        One server runs per distinct parameter for the whole session."""
        param = getattr(request, "param", None)
        options: dict[str, Any] = {"compat": param} if isinstance(param, str) else dict(param or {})
        with openpieces_server(**options) as server:
            yield server

    @pytest.fixture(scope="session")
    def openpieces_snapshot() -> Snapshot | None:
        """The snapshot `openpieces_restored` restores: override it (session-scoped) in your
        conftest.py, returning `openpieces.export_snapshot()` after building a state, or a file's path."""
        return None

    @pytest.fixture
    def openpieces_restored(openpieces: OpenpiecesServer, openpieces_snapshot: Snapshot | None) -> OpenpiecesServer:
        """The `openpieces` server, its state restored from `openpieces_snapshot` before the test
        (every platform as the snapshot has them; the faults and the request log emptied)."""
        if openpieces_snapshot is None:
            raise pytest.UsageError(
                "openpieces_restored needs a snapshot: define a session-scoped `openpieces_snapshot` fixture "
                "returning openpieces.export_snapshot() (or a snapshot file's path)"
            )
        openpieces.restore_snapshot(openpieces_snapshot)
        return openpieces
