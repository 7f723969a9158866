"""Summarise py-spy's raw (collapsed-stack) output: where a loaded server's CPU goes.

    python bench/profile.py FILE [FILE...] [--top N]

For each file: the share of samples by layer (the library a sample's innermost frame is in: idle in
the event loop, asyncpg, SQLAlchemy, ...), then the functions with the most samples on the stack
(inclusive) and on top of it (self). bench/run --profile DIR writes one file per endpoint."""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^():]+)(?::\d+)?\)$")

# The first match on a sample's innermost frame names its layer.
LAYERS = [
    ("idle (event loop waiting)", ("selectors.py", "Runner.run (asyncio")),
    ("sqlalchemy", ("sqlalchemy/",)),
    ("asyncpg", ("asyncpg/",)),
    ("pydantic", ("pydantic",)),
    ("fastapi/starlette", ("fastapi/", "starlette/")),
    ("uvicorn/httptools", ("uvicorn/", "httptools")),
    ("app", ("app/",)),
    ("asyncio", ("asyncio/",)),
]


# Where one request's time goes, by what the code does: a sample counts for the first of these found
# walking its stack from the innermost frame outwards (asyncio and the standard library are passed
# over: their time is their caller's). Samples of the idle event loop are left out.
PARTS = [
    ("SQL", ("asyncpg/", "sqlalchemy/", "app/kit/db.py", "/repository.py", "app/kit/pagination.py")),
    ("auth", ("app/edge/auth.py",)),
    ("serialization", ("orjson", "app/kit/serialization.py", "/schemas.py", "pydantic", "render (")),
    ("edge: metrics, request id, access log", ("app/edge/http.py", "app/edge/metrics.py", "prometheus_client/")),
    ("framework: routing, dependencies", ("fastapi/", "starlette/")),
    ("HTTP server", ("uvicorn/", "httptools", "app/edge/server.py", "granian")),
    ("service", ("app/",)),
]
IDLE = ("selectors.py", "Runner.run (asyncio", "_worker (concurrent")


def part_of(frames: list[str]) -> str | None:
    """The part a sample counts for; None for the idle event loop."""
    if not frames or any(marker in frames[-1] for marker in IDLE):
        return None
    for frame in reversed(frames):
        for name, markers in PARTS:
            if any(marker in frame for marker in markers):
                return name
    return "other (asyncio, GC, stdlib)"


def breakdown(path: Path) -> tuple[dict[str, float], float | None]:
    """Each part's share of the server's busy samples while one endpoint was loaded, and the share
    of all samples that were busy. Nothing for a missing recording."""
    if not path.exists():
        return {}, None
    parts: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        if line.strip():
            frames, count = frames_of(line)
            total += count
            part = part_of(frames)
            if part is not None:
                parts[part] += count
    busy = sum(parts.values())
    if not busy:
        return {}, None
    names = [name for name, _ in PARTS] + ["other (asyncio, GC, stdlib)"]
    return {name: parts[name] / busy for name in names}, busy / total


def frames_of(line: str) -> tuple[list[str], int]:
    stack, _, count = line.rpartition(" ")
    frames = stack.split(";")[1:]  # the first is the process
    return frames, int(count)


def layer_of(frame: str) -> str:
    for name, markers in LAYERS:
        if any(marker in frame for marker in markers):
            return name
    return "other (stdlib, orjson, GC, ...)"


def short(frame: str) -> str:
    match = FRAME.match(frame)
    return f"{match['function']} ({match['file']})" if match else frame


def summarise(path: Path, top: int) -> str:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    layers: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        frames, count = frames_of(line)
        total += count
        if not frames:
            layers["other (stdlib, orjson, GC, ...)"] += count
            continue
        layers[layer_of(frames[-1])] += count
        own[short(frames[-1])] += count
        for name in {short(frame) for frame in frames}:
            inclusive[name] += count
    if total == 0:
        return f"{path.name}: no samples"
    lines = [f"{path.stem}: {total} samples", "  by layer (innermost frame):"]
    lines += [f"    {100 * n / total:5.1f}%  {name}" for name, n in layers.most_common()]
    lines.append("  most time on the stack (inclusive):")
    skip = ("<module>", "run (", "main (", "Runner.", "Handle._run", "BaseEventLoop.", "Typer", "Command", "Server.")
    shown = [(name, n) for name, n in inclusive.most_common() if not name.startswith(skip)][:top]
    lines += [f"    {100 * n / total:5.1f}%  {name}" for name, n in shown]
    lines.append("  most time on top of the stack (self):")
    lines += [f"    {100 * n / total:5.1f}%  {name}" for name, n in own.most_common(top)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    for path in args.files:
        print(summarise(path, args.top))
        print()


if __name__ == "__main__":
    main()
