"""Semantic versions as the real server compares them (the `semver` package): exact versions,
`^`/`~` ranges, release bounds."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

_SEMVER = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")
EXACT_VERSION_PATTERN = r"^[0-9]+\.[0-9]+\.[0-9]+$"
VERSION_PATTERN = r"^([~^])?[0-9]+\.[0-9]+\.[0-9]+$"

T = TypeVar("T")
Key = tuple[int, int, int, tuple[tuple[int, int | str], ...]]


def parse(version: str | None) -> Key | None:
    """A sortable key, or None when `version` is no valid semantic version."""
    if version is None:
        return None
    match = _SEMVER.match(version)
    if match is None:
        return None
    major, minor, patch, pre = match.groups()
    # A pre-release sorts before its release; its parts compare numerically when numeric.
    prerelease: tuple[tuple[int, int | str], ...] = (
        tuple((0, int(part)) if part.isdigit() else (1, part) for part in pre.split(".")) if pre else ((2, 0),)
    )
    return int(major), int(minor), int(patch), prerelease


def newest_first(items: list[T], version_of: Callable[[T], str]) -> list[T]:
    """`items` newest version first, as the real sortByVersionDescending: valid versions first (by
    precedence), then the invalid ones (descending as strings)."""
    valid = [item for item in items if parse(version_of(item)) is not None]
    invalid = [item for item in items if parse(version_of(item)) is None]
    valid.sort(key=lambda item: parse(version_of(item)), reverse=True)  # type: ignore[arg-type,return-value]
    invalid.sort(key=version_of, reverse=True)
    return valid + invalid


def matches(version: str, wanted: str | None) -> bool:
    """Whether `version` satisfies `wanted`: none (any), `1.2.3` (that patch line: >=1.2.3 <1.2.4),
    `~1.2.3` (>=1.2.3 <1.3.0), `^1.2.3` (>=1.2.3 <2.0.0), as the real findExactVersion reads them."""
    if wanted is None:
        return True
    key = parse(version)
    if key is None:
        return False
    if wanted[:1] in ("^", "~"):
        base = parse(wanted[1:])
        bump = "major" if wanted[0] == "^" else "minor"
    else:
        base = parse(wanted)
        bump = "patch"
    if base is None:
        return False
    major, minor, patch, _ = base
    upper: Key = {
        "major": (major + 1, 0, 0, ((0, 0),)),
        "minor": (major, minor + 1, 0, ((0, 0),)),
        "patch": (major, minor, patch + 1, ((0, 0),)),
    }[bump]
    # semver.inc drops a pre-release and bumps; the upper bound excludes every pre-release of it.
    return base <= key < upper


def supports_release(release: str | None, minimum: str | None, maximum: str | None) -> bool:
    """The real isSupportedRelease: no release asked, any piece; else both bounds valid and around it."""
    if release is None:
        return True
    wanted, low, high = parse(release), parse(minimum), parse(maximum)
    if wanted is None or low is None or high is None:
        return False
    return low <= wanted <= high
