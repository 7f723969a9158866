"""The real Activepieces CLI (`packages/cli` of the activepieces repository), run against this server.

The CLI is not published on npm (`@activepieces/cli` does not exist there), so it runs from its own
source: the command modules the tests need are copied at test time from a checkout of the real
repository into `tests/real_cli/.cli-src/` (git-ignored; the CLI's code is never committed here) and
run by node through `tsx`, with the CLI's dependencies installed by `npm ci` from the lock file beside
this module (`node_modules/` git-ignored too).

Where the source comes from: `AP_CLI_SOURCE`, the root of a checkout of the real repository (the
directory holding `packages/cli/`), or files already placed in `.cli-src/lib/commands/` by hand.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.npm_packages import npm_ci

HERE = Path(__file__).resolve().parent
SOURCE_DIR = HERE / ".cli-src"
# The command modules the tests run, as they sit under `packages/cli/src/` in the real repository.
COMMAND_MODULES = ("lib/commands/benchmark.ts", "lib/commands/replace-project.ts")
SOURCE_ENV = "AP_CLI_SOURCE"


class SourceMissing(RuntimeError):
    """The CLI's source is not on this machine (it is not published on npm)."""


def install() -> None:
    """`npm ci` into tests/real_cli/node_modules when it is missing or older than the lock file."""
    npm_ci(HERE, "the real CLI")


def provide_source() -> None:
    """Copy the command modules from `AP_CLI_SOURCE` into `.cli-src/` (or keep those already there)."""
    checkout = os.environ.get(SOURCE_ENV)
    if checkout:
        source = Path(checkout) / "packages" / "cli" / "src"
        missing = [module for module in COMMAND_MODULES if not (source / module).is_file()]
        if missing:
            raise SourceMissing(f"{SOURCE_ENV}={checkout} has no packages/cli/src/{missing[0]}")
        for module in COMMAND_MODULES:
            target = SOURCE_DIR / module
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / module, target)
        return
    missing = [module for module in COMMAND_MODULES if not (SOURCE_DIR / module).is_file()]
    if missing:
        raise SourceMissing(
            f"the real CLI's source is not here (it is not published on npm): set {SOURCE_ENV} to a checkout of "
            f"the activepieces repository, or place packages/cli/src/{missing[0]} in tests/real_cli/.cli-src/"
        )


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str


def run(command: str, *args: str, timeout: float = 180) -> Run:
    """One command of the real CLI (`benchmark` or `replace`), through tests/real_cli/run.mts."""
    done = subprocess.run(
        ["node", "--import", "tsx", "run.mts", command, *args],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )
    return Run(done.returncode, done.stdout, done.stderr)
