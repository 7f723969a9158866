"""The real "Activepieces Platform" piece (`packages/pieces/community/activepieces/` of the activepieces
repository), run against this server.

The piece is not published on npm, so it runs from its own source: its `src/` tree is copied at test time
from a checkout of the real repository into `tests/real_piece/.piece-src/src/` (git-ignored; the piece's
code is never committed here) and run by node through `tsx`, with the npm packages it imports
(`@activepieces/pieces-framework`, `@activepieces/pieces-common`, `@activepieces/shared`) installed by
`npm ci` from the lock file beside this module (`node_modules/` git-ignored too).

Where the source comes from: `AP_PIECE_SOURCE`, else `AP_CLI_SOURCE` (the root of a checkout of the real
repository, the directory holding `packages/`), or a tree already placed in `.piece-src/src/` by hand.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.npm_packages import npm_ci

HERE = Path(__file__).resolve().parent
SOURCE_DIR = HERE / ".piece-src" / "src"
PIECE_PATH = Path("packages") / "pieces" / "community" / "activepieces" / "src"
SOURCE_ENVS = ("AP_PIECE_SOURCE", "AP_CLI_SOURCE")


class SourceMissing(RuntimeError):
    """The piece's source is not on this machine (it is not published on npm)."""


def install() -> None:
    """`npm ci` into tests/real_piece/node_modules when it is missing or older than the lock file."""
    npm_ci(HERE, "the real piece")


def provide_source() -> None:
    """Copy the piece's `src/` from the checkout named by `AP_PIECE_SOURCE` or `AP_CLI_SOURCE` into
    `.piece-src/src/` (replacing what was there), or keep a tree already there."""
    for name in SOURCE_ENVS:
        checkout = os.environ.get(name)
        if not checkout:
            continue
        source = Path(checkout) / PIECE_PATH
        if not (source / "index.ts").is_file():
            raise SourceMissing(f"{name}={checkout} has no {PIECE_PATH}/index.ts")
        shutil.rmtree(SOURCE_DIR, ignore_errors=True)
        shutil.copytree(source, SOURCE_DIR, ignore=shutil.ignore_patterns("i18n"))
        return
    if not (SOURCE_DIR / "index.ts").is_file():
        raise SourceMissing(
            "the real Activepieces Platform piece's source is not here (it is not published on npm): set "
            f"{' or '.join(SOURCE_ENVS)} to a checkout of the activepieces repository, or place {PIECE_PATH}/ "
            "in tests/real_piece/.piece-src/src/"
        )


@dataclass(frozen=True)
class Outcome:
    """What one action gave: its output, or the message of what it threw."""

    output: Any = None
    error: str | None = None


def run(base_api_url: str, api_key: str, *calls: tuple[str, dict[str, Any]], timeout: float = 180) -> list[Outcome]:
    """Runs the piece's actions, in order, as a flow's steps would: `(action name, props)` each."""
    request = {"baseApiUrl": base_api_url, "apiKey": api_key, "calls": [{"action": a, "props": p} for a, p in calls]}
    done = subprocess.run(
        ["node", "--import", "tsx", "run.mts", json.dumps(request)],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )
    if done.returncode != 0:
        raise RuntimeError(f"the piece's runner failed ({done.returncode}): {done.stderr.strip()[-1500:]}")
    return [Outcome(entry.get("output"), entry.get("error")) for entry in json.loads(done.stdout)]


def api_call(
    method: str, path: str, *, query: dict[str, str] | None = None, body: object | None = None
) -> tuple[str, dict[str, Any]]:
    """The piece's custom API call (`custom_api_call`) on `path`, relative to the connection's base URL."""
    props: dict[str, Any] = {"url": {"url": path}, "method": method, "headers": {}, "queryParams": query or {}}
    if body is not None:
        props |= {"body_type": "json", "body": {"data": body}}
    return ("custom_api_call", props)
