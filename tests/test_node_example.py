"""The node:test suite in examples/node/ (plain fetch, the server started by its own helper), run as a
user of another language runs it: `node --test examples/node/` with the `openpieces` command on PATH."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.pg import fresh_database
from tests.processes import openpieces_command

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "node"


def test_the_node_suite_passes(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node not found on PATH: the node:test example cannot run")  # never a quiet pass
    [command] = openpieces_command()  # the installed script, as a user's PATH has it
    # The suite resets the server between its tests: it gets a database of its own.
    with fresh_database() as database_url:
        env = {
            **os.environ,
            "OPENPIECES_COMMAND": command,
            "AP_DATABASE_URL": database_url,
            "AP_DATA_DIR": str(tmp_path),
        }
        ran = subprocess.run(
            [node, "--test", "--test-reporter=tap", str(EXAMPLES)],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    assert ran.returncode == 0, ran.stdout[-4000:] + ran.stderr[-4000:]
    # Every test of the suite ran and passed (a suite that found no tests must not pass).
    summary = {name: int(count) for name, count in re.findall(r"^# (\w+) (\d+)$", ran.stdout, re.M)}
    assert summary["fail"] == 0
    assert summary["pass"] == summary["tests"] >= 7
