"""Mutation check, run by hand: does the suite notice realistic bugs?

Each mutant is one exact text replacement in the application's code (the pattern must occur exactly
once, or the run stops and says which mutant no longer applies). The repository's working tree is
copied once to a temp dir; each mutant is applied there alone, the chosen tests run against that copy
(its `app` is imported, which the run checks first), and the file is restored before the next one.

    .venv/bin/python tests/mutation/run.py            # every mutant
    .venv/bin/python tests/mutation/run.py --list     # the mutants and their tests, nothing run
    .venv/bin/python tests/mutation/run.py NAME ...   # only these mutants

It prints one row per mutant (the tests that failed under it) and exits 1 if any mutant survived
(its tests all passed) or was caught by one test only (not the flow oracle), 2 if the unmutated
copy's tests fail or a pattern no longer applies.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IGNORED = (".venv", "node_modules", ".git", "__pycache__", ".pytest_cache", ".ruff_cache", ".openpieces", "*.egg-info")
# How many failures end a mutant's run: two show that more than one test notices it.
MAX_FAILURES = 2


@dataclass(frozen=True)
class Mutant:
    name: str
    bug: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]


MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        "project-tenancy",
        "a project read by id no longer filters by platform: another platform's project is readable",
        "app/projects/repository.py",
        "            self.query.where(\n"
        '                project_t.c.id == bindparam("project_id"), '
        'project_t.c.platform_id == bindparam("platform_id")\n',
        '            self.query.where(\n                project_t.c.id == bindparam("project_id")\n',
        ("tests/test_isolation.py", "tests/test_projects.py"),
    ),
    Mutant(
        "folder-delete-tenancy",
        "a folder delete no longer checks the folder's platform: another platform's folder can be deleted",
        "app/folders/repository.py",
        'delete(folder_t)\n    .where(folder_t.c.id == bindparam("folder_id"), _in_platform(bindparam("platform_id")))',
        'delete(folder_t)\n    .where(folder_t.c.id == bindparam("folder_id"))',
        ("tests/test_folders.py", "tests/test_isolation.py"),
    ),
    Mutant(
        "page-off-by-one",
        "a page exactly `limit` rows long claims a next page",
        "app/kit/pagination.py",
        "has_more = len(rows) > limit",
        "has_more = len(rows) >= limit",
        ("tests/test_pagination.py", "tests/test_projects.py"),
    ),
    Mutant(
        "page-order-flipped",
        "every list in the reverse of its order (projects by name descending, flows disabled first, ...)",
        "app/kit/pagination.py",
        "forward, backward = (desc_order, asc_order) if descending else (asc_order, desc_order)",
        "forward, backward = (asc_order, desc_order) if descending else (desc_order, asc_order)",
        ("tests/test_pagination.py", "tests/test_list_order.py", "tests/test_folders.py"),
    ),
    Mutant(
        "external-id-upsert-key-ignored",
        "a global connection's externalId is not the upsert key: the same externalId makes a second one",
        "app/global_connections/service.py",
        "external_id = request.externalId if request.externalId else new_id()",
        "external_id = new_id()",
        ("tests/test_global_connections.py", "tests/upstream/test_upstream_global_connections.py"),
    ),
    Mutant(
        "secret-in-connection-response",
        "a connection's response carries its (sealed) value",
        "app/app_connections/schemas.py",
        '"usingSecretManager": False,\n',
        '"usingSecretManager": False,\n        "value": row.get("value_encrypted"),\n',
        ("tests/test_global_connections.py", "tests/test_app_connections.py"),
    ),
    Mutant(
        "duplicate-action-keeps-references",
        "DUPLICATE_ACTION no longer renames the copy's internal references (between the copied steps)",
        "app/flows/steps.py",
        '        if "input" in settings:\n'
        '            settings["input"] = _rename_references(settings["input"], rename)\n',
        "",
        ("tests/test_flow_oracle.py", "tests/test_flows.py"),
    ),
    Mutant(
        "publish-ignores-status",
        "LOCK_AND_PUBLISH enables the flow whatever status it asks for",
        "app/flows/service.py",
        'status = request.status.value if request.status is not None else "ENABLED"',
        'status = "ENABLED"',
        ("tests/test_flow_oracle.py", "tests/test_flows.py"),
    ),
    Mutant(
        "update-owner-ignored",
        "UPDATE_OWNER answers 200 but keeps the old owner",
        "app/flows/service.py",
        'await flows.update_flow(flow_id, {"owner_id": request.ownerId})',
        "pass",
        ("tests/test_flow_oracle.py", "tests/test_flows.py"),
    ),
    Mutant(
        "publish-invalid-version",
        "LOCK_AND_PUBLISH accepts a version that is not valid",
        "app/flows/service.py",
        'if not latest["valid"]:',
        'if latest["valid"] is None:',
        ("tests/test_flows.py", "tests/upstream/test_upstream_flow_operations.py"),
    ),
    Mutant(
        "project-create-200",
        "creating a project answers 200 instead of 201",
        "app/projects/router.py",
        "return ApJSONResponse(project, status_code=status.HTTP_201_CREATED)",
        "return ApJSONResponse(project)",
        ("tests/test_projects.py", "tests/upstream/test_upstream_projects.py"),
    ),
    Mutant(
        "key-cache-not-forgotten",
        "deleting a platform no longer forgets its cached API keys (compared with the wrong id)",
        "app/edge/auth.py",
        "            if principal.platform_id == platform_id:\n                del self._cache[key_hash]",
        "            if principal.owner_id == platform_id:\n                del self._cache[key_hash]",
        ("tests/test_auth_and_plumbing.py", "tests/test_admin.py"),
    ),
    Mutant(
        "team-project-limit-off-by-one",
        "the PRO edition's one team project limit lets a second one in",
        "app/projects/service.py",
        'if team_projects_limit == "ONE" and await projects.count_team_projects(platform_id) >= 1:',
        'if team_projects_limit == "ONE" and await projects.count_team_projects(platform_id) > 1:',
        ("tests/test_projects.py", "tests/upstream/test_upstream_projects.py"),
    ),
    Mutant(
        "validation-wording",
        "a missing property is worded differently from the real server's VALIDATION message",
        "app/edge/http.py",
        "return f\"{parent} must have required property '{loc[-1]}'\"",
        "return f\"{parent} is missing required property '{loc[-1]}'\"",
        ("tests/test_projects.py", "tests/test_folders.py"),
    ),
    Mutant(
        "role-name-case",
        "a custom project role may take a default role's name in another case ('admin')",
        "app/members/service.py",
        "                if request.name.lower() in _DEFAULT_NAMES:\n"
        "                    raise name_taken(request.name)",
        "                if request.name in _DEFAULT_NAMES:\n                    raise name_taken(request.name)",
        ("tests/test_project_roles.py", "tests/upstream/test_upstream_project_roles.py"),
    ),
    Mutant(
        "user-delete-takes-team-projects",
        "deleting a user no longer hands their TEAM projects to the platform owner (they go with the user)",
        "app/users/service.py",
        "            await users.hand_over_team_projects(user_id, principal.owner_id)\n",
        "",
        ("tests/test_users.py", "tests/upstream/test_upstream_platform_users.py"),
    ),
    Mutant(
        "piece-filter-ignored",
        "a project's ALLOWED piece filter is ignored when a connection is made",
        "app/app_connections/service.py",
        'if filter_type == "ALLOWED" and piece_name not in allowed:',
        'if filter_type == "ALLOWLIST" and piece_name not in allowed:',
        ("tests/test_app_connections.py", "tests/upstream/test_upstream_app_connections.py"),
    ),
    Mutant(
        "lane-skips-id-validation",
        "the by-id lane answers a malformed id itself instead of leaving FastAPI's validation error",
        "app/edge/fastlane.py",
        "        if errors:  # FastAPI answers it",
        "        if False:  # FastAPI answers it",
        ("tests/test_by_id_lane.py", "tests/compat/test_by_id_lane_server.py"),
    ),
    Mutant(
        "lane-takes-static-routes",
        "the by-id lane reads a static route below a collection (`/v1/pieces/categories`) as an id",
        "app/edge/fastlane.py",
        " or path in self.static:",
        ":",
        ("tests/test_by_id_lane.py", "tests/compat/test_by_id_lane_server.py"),
    ),
)


class PatternMissing(Exception):
    pass


def mutated_text(mutant: Mutant, text: str) -> str:
    """`text` with the mutant applied; PatternMissing unless its pattern occurs exactly once."""
    count = text.count(mutant.old)
    if count != 1:
        raise PatternMissing(f"{mutant.name}: pattern found {count} times in {mutant.path} (expected once)")
    return text.replace(mutant.old, mutant.new)


def check_patterns(root: Path = ROOT, mutants: tuple[Mutant, ...] = MUTANTS) -> list[str]:
    """Problems: mutants whose pattern does not occur exactly once, or whose tests are missing."""
    problems = []
    for mutant in mutants:
        try:
            mutated_text(mutant, (root / mutant.path).read_text())
        except (PatternMissing, FileNotFoundError) as exc:
            problems.append(str(exc))
        for test in mutant.tests:
            if not (root / test.split("::")[0]).is_file():
                problems.append(f"{mutant.name}: no test file {test}")
    return problems


def copy_tree(destination: Path) -> Path:
    copy = destination / "repo"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(*IGNORED), symlinks=True)
    return copy


def environment(copy: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(copy) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("PYTEST_ADDOPTS", None)
    return env


def assert_copy_imported(copy: Path) -> None:
    """The copy's `app`, not the checkout's (the venv's editable install points there)."""
    found = subprocess.run(
        [sys.executable, "-c", "import app, tests; print(app.__file__); print(tests.__file__)"],
        cwd=copy,
        env=environment(copy),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for module in found:
        if not Path(module).resolve().is_relative_to(copy.resolve()):
            raise SystemExit(f"the copy would import {module}, not its own code: stopping")


def run_tests(copy: Path, tests: tuple[str, ...], junit: Path, max_failures: int | None) -> tuple[int, list[str]]:
    """pytest's exit code and the ids of the tests that failed (or errored)."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(copy)]
    command += ["-o", "addopts=", f"--junitxml={junit}", "-m", "not slow"]
    if max_failures:
        command.append(f"--maxfail={max_failures}")
    command += list(tests)
    result = subprocess.run(command, cwd=copy, env=environment(copy), capture_output=True, text=True)
    failed = []
    if junit.exists():
        for case in ET.parse(junit).iter("testcase"):
            if case.find("failure") is not None or case.find("error") is not None:
                module = case.get("classname", "").rsplit(".", 1)[-1]
                failed.append(f"{module}::{case.get('name')}")
        junit.unlink()
    if result.returncode not in (0, 1) and not failed:
        failed.append(f"(pytest exit {result.returncode}: {result.stdout.strip().splitlines()[-1:]})")
    return result.returncode, failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="run only these mutants")
    parser.add_argument("--list", action="store_true", help="list the mutants and their tests, run nothing")
    parser.add_argument("--no-baseline", action="store_true", help="skip running the tests on the unmutated copy")
    args = parser.parse_args(argv)

    chosen = tuple(m for m in MUTANTS if not args.names or m.name in args.names)
    unknown = set(args.names) - {m.name for m in MUTANTS}
    if unknown:
        print(f"no such mutant: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    problems = check_patterns(ROOT, chosen)
    if problems:
        print("mutants that no longer apply:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 2
    if args.list:
        for mutant in chosen:
            print(f"{mutant.name}: {mutant.bug}\n    {mutant.path}; tests: {' '.join(mutant.tests)}")
        return 0

    with tempfile.TemporaryDirectory(prefix="openpieces-mutants-") as temp:
        copy = copy_tree(Path(temp))
        assert_copy_imported(copy)
        junit = Path(temp) / "junit.xml"
        print(f"copy of {ROOT} in {copy}; its own app is imported", flush=True)
        if not args.no_baseline:
            all_tests = tuple(dict.fromkeys(t for m in chosen for t in m.tests))
            started = time.monotonic()
            code, failed = run_tests(copy, all_tests, junit, None)
            print(f"baseline (no mutant): pytest exit {code} in {time.monotonic() - started:.0f} s", flush=True)
            if code != 0:
                print("the unmutated copy's tests fail:\n  " + "\n  ".join(failed), file=sys.stderr)
                return 2
        rows = []
        for mutant in chosen:
            target = copy / mutant.path
            original = target.read_text()
            target.write_text(mutated_text(mutant, original))
            started = time.monotonic()
            try:
                code, failed = run_tests(copy, mutant.tests, junit, MAX_FAILURES)
            finally:
                target.write_text(original)
            if code == 0:
                status = "SURVIVED"
            elif len(failed) >= MAX_FAILURES or any(t.startswith("test_flow_oracle::") for t in failed):
                status = "killed"
            else:
                status = "ONE TEST"  # caught, but by a single test: one refactored test from surviving
            seconds = time.monotonic() - started
            rows.append((mutant.name, status, f"{seconds:.0f}s", ", ".join(failed) or "-"))
            print(f"  {mutant.name}: {status} ({seconds:.0f} s)", flush=True)

    widths = [max(len(row[i]) for row in [("mutant", "result", "time", "caught by"), *rows]) for i in range(3)]
    print()
    for row in [("mutant", "result", "time", "caught by"), *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)) + "  " + row[3])
    survived = [row[0] for row in rows if row[1] == "SURVIVED"]
    once = [row[0] for row in rows if row[1] == "ONE TEST"]
    summary = f"{len(rows) - len(survived) - len(once)} of {len(rows)} mutants killed by two tests or the flow oracle"
    summary += f"; caught by one test only: {', '.join(once)}" if once else ""
    summary += f"; survived: {', '.join(survived)}" if survived else ""
    print("\n" + summary)
    return 1 if survived or once else 0


if __name__ == "__main__":
    sys.exit(main())
