"""The npm packages a test directory pins (its package.json and package-lock.json), installed once."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


class NodeMissing(RuntimeError):
    """node or npm is not installed: the tests fail (they never skip for this)."""


def npm_ci(directory: Path, needed_by: str) -> None:
    """`npm ci` into `directory`/node_modules when it is missing or older than the lock file."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise NodeMissing(f"node/npm not found on PATH: {needed_by} cannot run")
    marker = directory / "node_modules" / ".package-lock.json"
    if marker.exists() and marker.stat().st_mtime >= (directory / "package-lock.json").stat().st_mtime:
        return
    done = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        where = f"tests/{directory.name}"
        raise RuntimeError(f"npm ci in {where} failed ({done.returncode}): {done.stderr.strip()[-800:]}")
