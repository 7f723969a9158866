"""Helpers for tests that run the real `openpieces` command."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.testing import serving


def openpieces_command() -> list[str]:
    script = Path(sys.executable).with_name("openpieces")
    if script.exists():
        return [str(script)]
    found = shutil.which("openpieces")
    return [found] if found else [sys.executable, "-c", "from app.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_cli(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*openpieces_command(), *args],
        env={**os.environ, **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def run_pytest(suite: Path) -> subprocess.CompletedProcess[str]:
    """Runs one test file with pytest in a process of its own, from its directory, as a user's suite."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(suite)],
        cwd=suite.parent,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@contextmanager
def running_server(env: dict[str, str], *, workers: int = 1, startup_timeout: float = 60) -> Iterator[str]:
    """Starts `openpieces serve` on a free port, yields its base URL, and stops it."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with serving(
        [*openpieces_command(), "serve", "--port", str(port), "--workers", str(workers)],
        env={**os.environ, **env},
        ready_url=f"{base_url}/v1/health",
        log_path=Path(env.get("AP_DATA_DIR", "/tmp")) / f"server-{port}.log",
        timeout=startup_timeout,
    ):
        yield base_url
