"""A new user's first ten minutes, as they live them: the `openpieces` command run in a fresh directory,
the server's output, the README's quick start and connection bodies, the docs page in a real browser."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from app import __version__
from app.kit.db import run_migrations
from tests.conftest import TEST_ENCRYPTION_KEY, Tenant
from tests.pg import fresh_database
from tests.processes import free_port, openpieces_command, running_server

README = Path(__file__).resolve().parent.parent / "README.md"
DOCS = README.parent / "docs"


@pytest.fixture
def fresh_dir() -> Iterator[Path]:
    """A new directory, as a user's checkout would be. Not under pytest's tmp root: pytest re-closes
    that to 0700 whenever a run starts, which locks out the `pgserver` user the embedded PostgreSQL
    runs as (under root) from stopping its server."""
    path = Path(tempfile.mkdtemp(prefix="openpieces-first-run-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def user_env(**extra: str) -> dict[str, str]:
    """The environment of a user who has set nothing: no AP_* variable at all."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AP_")}
    env.update(extra)
    return env


def openpieces(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*openpieces_command(), *args],
        cwd=cwd,
        env=env if env is not None else user_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def json_lines(text: str) -> list[dict]:
    """Every line must be a JSON object: that is what the README promises for the server's stderr."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@contextmanager
def serve(cwd: Path, port: int, env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [*openpieces_command(), "serve", "--port", str(port)],
        cwd=cwd,
        env=env,
        stdout=(cwd / "serve.out").open("w"),
        stderr=(cwd / "serve.err").open("w"),
        text=True,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def wait_for_health(base_url: str, process: subprocess.Popen[str], log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base_url}/v1/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"serve did not answer:\n{log.read_text()[-3000:]}")


# --- the command line


@pytest.mark.slow
def test_help_version_and_options_read_as_a_user_needs(tmp_path: Path) -> None:
    version = openpieces("--version", cwd=tmp_path)
    assert (version.returncode, version.stdout.strip()) == (0, f"openpieces {__version__}")

    top = openpieces("--help", cwd=tmp_path)
    assert top.returncode == 0
    # -h as --help, and a bare command shows the same help and succeeds.
    assert openpieces("-h", cwd=tmp_path).stdout == top.stdout
    bare = openpieces(cwd=tmp_path)
    assert (bare.returncode, bare.stdout.strip()) == (0, top.stdout.strip())
    # The commands in the order the configuration page lists them.
    listed = re.findall(r"^\| `openpieces ([a-z][a-z-]*)[ `]", (DOCS / "configuration.md").read_text(), re.M)
    shown = re.findall(r"^  ([a-z-]+) ", top.stdout.split("Commands:")[1], re.M)
    assert shown == listed, (shown, listed)
    assert "(default: enterprise)" in " ".join(openpieces("create-platform", "-h", cwd=tmp_path).stdout.split())
    text = " ".join(top.stdout.split())  # help is wrapped to the terminal: compare words
    for needed in ("AP_DATABASE_URL", "AP_DATA_DIR", "relative to the current directory", "--version"):
        assert needed in text, (needed, top.stdout)
    for command in ("serve", "migrate", "create-platform", "create-api-key", "seed"):
        shown = openpieces(command, "--help", cwd=tmp_path)
        assert shown.returncode == 0, shown.stderr
        assert "<bool>" not in shown.stdout, shown.stdout
    seed = openpieces("seed", "--help", cwd=tmp_path).stdout
    assert "{file}" not in seed.lower() and "Usage: openpieces seed [OPTIONS] FILE" in seed
    assert "--port" in openpieces("serve", "--help", cwd=tmp_path).stdout


@pytest.mark.slow
def test_every_command_names_its_database(fresh_dir: Path, database_url: str) -> None:
    tmp_path = fresh_dir
    home = tmp_path / "project"
    home.mkdir()
    # Nothing set, run from `home`: the embedded default, created now, in `home/.openpieces`.
    first = openpieces("create-platform", "--name", "Mine", "--edition", "community", "--print-key", cwd=home)
    assert first.returncode == 0, first.stderr
    assert re.fullmatch(r"sk-[0-9A-Za-z]+\n", first.stdout), first.stdout  # the key alone, for KEY=$(...)
    pgdata = home / ".openpieces" / "pgdata"
    assert f"database: created a new, empty embedded PostgreSQL in {pgdata}" in first.stderr, first.stderr
    assert "RuntimeDirWarning" not in first.stderr

    # Again from the same directory: the same database, not announced as new.
    again = openpieces("create-platform", "--name", "Two", "--edition", "Enterprise", "--json", cwd=home)
    assert again.returncode == 0, again.stderr
    assert set(json.loads(again.stdout)) == {"platformId", "ownerId", "apiKey"}
    assert again.stderr.splitlines()[0] == f"database: embedded PostgreSQL in {pgdata}"
    platform_id = json.loads(again.stdout)["platformId"]
    key = openpieces("create-api-key", "--platform-id", platform_id, cwd=home)
    assert key.returncode == 0 and f"database: embedded PostgreSQL in {pgdata}" in key.stderr
    assert openpieces("migrate", cwd=home).stderr.startswith(f"database: embedded PostgreSQL in {pgdata}")

    # From another directory, the relative default is another database, and the command says so.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    other = openpieces("migrate", cwd=elsewhere)
    assert other.returncode == 0, other.stderr
    assert f"created a new, empty embedded PostgreSQL in {elsewhere / '.openpieces' / 'pgdata'}" in other.stderr
    # ... unless AP_DATA_DIR (here as --data-dir, relative, made absolute) points at the first one.
    shared = openpieces("--data-dir", "../project/.openpieces", "migrate", cwd=elsewhere)
    assert shared.stderr.startswith(f"database: embedded PostgreSQL in {pgdata}"), shared.stderr

    # An external database: its URL, never its password (trust auth lets any password in).
    with_password = database_url.replace("postgres@", "postgres:hunter2-secret@", 1)
    assert with_password != database_url
    external = openpieces(
        "create-platform", "--name", "Ext", "--json", cwd=elsewhere, env=user_env(AP_DATABASE_URL=with_password)
    )
    assert external.returncode == 0, external.stderr
    assert external.stderr.strip() == f"database: {database_url}"
    assert "hunter2" not in external.stderr + external.stdout

    refused = openpieces("create-platform", "--name", "X", "--edition", "GOLD", cwd=home)
    assert refused.returncode == 2 and "GOLD" in refused.stderr
    both = openpieces("create-platform", "--name", "X", "--json", "--print-key", cwd=home)
    assert both.returncode == 2


@pytest.mark.slow
def test_libpq_spellings_of_the_database_url_work_for_every_command_and_the_server(
    tmp_path: Path, database_url: str
) -> None:
    """`postgresql://` and `postgres://` (what libpq, psql and most hosting panels print) are used as
    asyncpg URLs by the CLI, its migrations, the server and AP_DATABASE_DIRECT_URL; another scheme
    is refused in one line, without the URL's password."""
    assert database_url.startswith("postgresql+asyncpg://")
    rest = database_url.removeprefix("postgresql+asyncpg://")
    plain, short = f"postgresql://{rest}", f"postgres://{rest}"

    migrated = openpieces("migrate", cwd=tmp_path, env=user_env(AP_DATABASE_URL=plain))
    assert (migrated.returncode, migrated.stdout) == (0, "database is up to date\n"), migrated.stderr
    assert migrated.stderr.strip() == f"database: {database_url}"
    made = openpieces(
        "--database-url", short, "create-platform", "--name", "Libpq", "--print-key", cwd=tmp_path, env=user_env()
    )
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = user_env(AP_DATABASE_URL=short, AP_DATABASE_DIRECT_URL=plain, AP_DATA_DIR=str(tmp_path / "data"))
    with serve(tmp_path, port, env) as process:
        wait_for_health(base_url, process, tmp_path / "serve.err")
        listed = httpx.get(f"{base_url}/v1/projects", headers={"Authorization": f"Bearer {key}"})
        assert listed.status_code == 200 and len(listed.json()["data"]) == 1
    assert "psycopg" not in (tmp_path / "serve.err").read_text()

    for command in (["migrate"], ["serve", "--port", str(free_port())]):
        refused = openpieces(*command, cwd=tmp_path, env=user_env(AP_DATABASE_URL="mysql://root:hunter2@db/app"))
        assert refused.returncode == 2, refused.stderr
        assert refused.stderr == (
            "error: AP_DATABASE_URL must be a postgresql://, postgres:// or postgresql+asyncpg:// URL"
            " (a mysql:// URL given)\n"
        )
    refused = openpieces("migrate", cwd=tmp_path, env=user_env(AP_DATABASE_URL=plain, AP_DATABASE_DIRECT_URL="x"))
    assert refused.returncode == 2 and refused.stderr.startswith("error: AP_DATABASE_DIRECT_URL must be a"), refused


@pytest.mark.slow
def test_serve_says_where_it_listens_and_what_it_runs(fresh_dir: Path) -> None:
    tmp_path = fresh_dir
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    made = openpieces("create-platform", "--name", "Mine", "--print-key", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    headers = {"Authorization": f"Bearer {made.stdout.strip()}"}
    with serve(tmp_path, port, user_env()) as process:
        wait_for_health(base_url, process, tmp_path / "serve.err")

        # The HTTP edges a first curl hits: a trailing slash, and a body sent without its content type.
        listed = httpx.get(f"{base_url}/v1/projects", headers=headers)
        slashed = httpx.get(f"{base_url}/api/v1/projects/", headers=headers)
        assert (listed.status_code, slashed.status_code) == (200, 200)
        assert slashed.json() == listed.json() and len(listed.json()["data"]) == 1
        form = httpx.post(
            f"{base_url}/api/v1/projects",
            content=b'{"displayName": "x"}',
            headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
        )
        assert form.status_code == 400
        assert form.json() == {
            "statusCode": 400,
            "code": "VALIDATION",
            "params": {
                "message": "body must be JSON sent with Content-Type: application/json "
                "(got Content-Type: application/x-www-form-urlencoded)"
            },
        }

        # A second server on the same port: a clear error, never "ready".
        clash = openpieces("serve", "--port", str(port), cwd=tmp_path)
        assert clash.returncode == 1
        [error] = json_lines(clash.stderr)
        assert error["level"] == "error"
        assert f"cannot listen on 127.0.0.1:{port}" in error["msg"] and "already in use" in error["msg"]

    assert (tmp_path / "serve.out").read_text() == ""
    lines = json_lines((tmp_path / "serve.err").read_text())
    messages = [line["msg"] for line in lines]
    listening = messages.index(f"listening on {base_url}")
    ready = messages.index("ready")
    assert listening < ready
    key_file = tmp_path / ".openpieces" / "encryption.key"
    [warning] = [line for line in lines if line["level"] == "warning"]
    assert warning["path"] == str(key_file) and str(key_file) in warning["msg"]
    assert lines[ready]["embedded"] is True
    assert lines[ready]["database"] == f"embedded PostgreSQL in {tmp_path / '.openpieces' / 'pgdata'}"
    assert next(line for line in lines if line["msg"].startswith("database: "))["embedded"] is True
    assert "RuntimeDirWarning" not in (tmp_path / "serve.err").read_text()


# --- the README


def readme_block(heading: str) -> str:
    """The first ```bash block after `heading`."""
    text = README.read_text()
    after = text[text.index(heading) :]
    match = re.search(r"```bash\n(.*?)```", after, re.S)
    assert match, heading
    return match.group(1)


def connection_examples() -> list[str]:
    text = (DOCS / "global-connections.md").read_text()
    section = text[text.index("<!-- connection-examples: start -->") : text.index("<!-- connection-examples: end -->")]
    return [block.strip() for block in re.findall(r"```json\n(.*?)```", section, re.S)]


def test_the_readme_has_a_body_for_every_connection_type() -> None:
    from app.global_connections.schemas import AppConnectionType

    types = [json.loads(body)["type"] for body in connection_examples()]
    assert sorted(types) == sorted(member.value for member in AppConnectionType)


@pytest.mark.parametrize("body", connection_examples(), ids=lambda body: json.loads(body)["type"])
async def test_each_readme_connection_body_creates_a_connection(tenant: Tenant, body: str) -> None:
    created = await tenant.client.post(
        "/api/v1/global-connections", content=body.encode(), headers={"Content-Type": "application/json"}
    )
    assert created.status_code == 201, created.text
    sent = json.loads(body)
    answer = created.json()
    assert (answer["type"], answer["displayName"], answer["pieceName"]) == (
        sent["type"],
        sent["displayName"],
        sent["pieceName"],
    )
    assert "value" not in answer


@pytest.mark.slow
def test_the_quick_start_runs_as_pasted(fresh_dir: Path) -> None:
    """The README's quick start, line for line, in one bash, in a fresh directory whose `.venv` is this
    one (the install line is the one line skipped). Only the port is changed, to a free one."""
    tmp_path = fresh_dir
    lines = readme_block("## Quick start").splitlines()
    assert any("pip install -e ." in line for line in lines)
    port = free_port()
    script = [line.replace("8080", str(port)) for line in lines if "pip install" not in line]
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    # Every curl reports its status on a line of its own, so the test can read them.
    # (Its -w comes last, so it is the one curl uses.)
    wrapper = "curl() { command curl \"$@\" -w '\\nHTTP %{http_code}\\n'; }\n"
    process = subprocess.Popen(
        ["bash", "-c", "set -e\n" + wrapper + "\n".join(script)],
        cwd=tmp_path,
        env=user_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=180)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 0, (out, err)
    statuses = re.findall(r"^HTTP (\d+)$", out, re.M)
    assert statuses == ["200", "201", "200"], out
    bodies = [json.loads(part) for part in re.split(r"\nHTTP \d+\n", out) if part.strip()]
    [personal] = bodies[0]["data"]
    assert personal["type"] == "PERSONAL"
    assert bodies[1]["type"] == "SECRET_TEXT" and bodies[1]["displayName"] == "Slack bot"
    assert [c["id"] for c in bodies[2]["data"]] == [bodies[1]["id"]]
    log = json_lines((tmp_path / "openpieces.log").read_text())
    assert [line["msg"] for line in log if line["msg"] in (f"listening on http://127.0.0.1:{port}", "ready")] == [
        f"listening on http://127.0.0.1:{port}",
        "ready",
    ]


# --- the docs page, in a real browser, with no network


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    install = "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium"
    result = subprocess.run(["bash", "-c", install], capture_output=True, text=True, timeout=900, check=False)
    found = shutil.which("chromium")
    if not found:
        pytest.skip(f"NO BROWSER: chromium is missing and could not be installed:\n{result.stderr[-2000:]}")
    return found


def dump_dom(browser: str, url: str, profile: Path) -> str:
    result = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            f"--user-data-dir={profile}",
            # No network but the server: any asset from elsewhere (a CDN) fails to load.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--virtual-time-budget=15000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.mark.slow
def test_the_docs_pages_render_every_operation_offline(database_url: str, tmp_path: Path) -> None:
    browser = chromium()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = user_env(AP_DATABASE_URL=database_url, AP_DATA_DIR=str(tmp_path / "data"))
    with serve(tmp_path, port, env) as process:
        wait_for_health(base_url, process, tmp_path / "serve.err")
        schema = httpx.get(f"{base_url}/openapi.json").json()
        operations = [
            (operation["tags"][0], operation["operationId"])
            for methods in schema["paths"].values()
            for operation in methods.values()
        ]
        assert len(operations) >= 17
        docs = dump_dom(browser, f"{base_url}/docs", tmp_path / "profile")
        redoc = dump_dom(browser, f"{base_url}/redoc", tmp_path / "profile")
    # Swagger UI renders one block per operation, with the id `operations-<tag>-<operationId>`;
    # Redoc one link `operation/<operationId>` in its menu. A page whose script did not load has neither.
    missing_docs = [op for tag, op in operations if f'id="operations-{tag}-{op}"' not in docs]
    missing_redoc = [op for _, op in operations if f"operation/{op}" not in redoc]
    assert missing_docs == [], docs[:2000]
    assert missing_redoc == [], redoc[:2000]
    assert "cdn.jsdelivr.net" not in docs + redoc


# --- the test suite itself


@pytest.mark.slow
def test_a_test_run_says_which_database_it_uses() -> None:
    root = README.parent
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "tests/test_auth_and_plumbing.py"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    said = [line for line in result.stdout.splitlines() if line.startswith("openpieces tests: database: ")]
    # Once in the header, once at the end of the summary, naming a server and never a password.
    assert len(said) == 2, result.stdout
    assert "postgresql://" in said[0] or "embedded PostgreSQL" in said[0]


# Each round makes a new embedded cluster (seconds each): the suite runs a few, by hand set more.
RACE_ROUNDS = int(os.environ.get("OPENPIECES_RACE_ROUNDS", "4"))
RACE_ROUND = r"""
dir="$1"; port="$2"; shift 2
export AP_DATA_DIR="$dir/data" AP_SHUTDOWN_DELAY_SECONDS=0
"$@" serve --port "$port" 2>"$dir/serve.log" &
server=$!
"$@" create-platform --name Raced --print-key >"$dir/key" 2>"$dir/create.log"
created=$?
"$@" wait --port "$port" --pid "$server" --log "$dir/serve.log" --timeout 90 2>"$dir/wait.log"
ready=$?
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(cat "$dir/key")" "http://127.0.0.1:$port/v1/projects")
kill "$server"; wait "$server"
echo "created=$created ready=$ready status=$status"
"""


def _without_pgserver_user(etc: Path) -> None:
    """A copy of /etc in which pgserver's OS user does not exist yet (as on a fresh machine)."""
    shutil.copytree("/etc", etc, symlinks=True, ignore_dangling_symlinks=True)
    for name in ("passwd", "group", "shadow", "gshadow"):
        path = etc / name
        if path.exists():
            kept = [line for line in path.read_text().splitlines(keepends=True) if not line.startswith("pgserver:")]
            path.write_text("".join(kept))


@pytest.mark.slow
def test_serve_and_create_platform_started_together_on_a_fresh_data_dir(fresh_dir: Path) -> None:
    """The quick start's first two commands at once on a new data dir: one creates the embedded
    cluster (as root, its OS user too, here missing each round in a private /etc), the other waits
    for it; both succeed and the key works on the server."""
    as_root = os.geteuid() == 0
    for number in range(RACE_ROUNDS):
        round_dir = fresh_dir / f"round{number}"
        round_dir.mkdir()
        os.chmod(fresh_dir, 0o755)
        os.chmod(round_dir, 0o777)  # the data dir is made by us, then used by pgserver's user
        command = ["bash", "-c", RACE_ROUND, "round", str(round_dir), str(free_port()), *openpieces_command()]
        if as_root:
            etc = fresh_dir / f"etc{number}"
            _without_pgserver_user(etc)
            command = [
                "unshare",
                "--mount",
                "--propagation",
                "private",
                "bash",
                "-c",
                'mount --bind "$0" /etc && exec "$@"',
                str(etc),
                *command,
            ]
        done = subprocess.run(command, env=user_env(), capture_output=True, text=True, timeout=300, check=False)
        logs = {
            name: (round_dir / name).read_text(errors="replace")[-2000:]
            for name in ("serve.log", "create.log", "wait.log")
            if (round_dir / name).exists()
        }
        assert done.stdout.strip().splitlines()[-1:] == ["created=0 ready=0 status=200"], (number, done, logs)


WALK_THROUGH = DOCS / "walk-through.md"
WALK_KEY = "sk-walk-through-key-0123456789abcdefghijklmnop"


@pytest.mark.slow
def test_the_walk_through_runs_as_written(fresh_dir: Path) -> None:
    """docs/walk-through.md, every bash block in order in one shell, against a live server on a
    database of its own."""
    with fresh_database() as database_url:
        run_migrations(database_url)
        _walk_through(fresh_dir, database_url)


def _walk_through(fresh_dir: Path, database_url: str) -> None:
    blocks = re.findall(r"```bash\n(.*?)```", WALK_THROUGH.read_text(), re.S)
    assert len(blocks) >= 7
    env = {
        "AP_DATABASE_URL": database_url,
        "AP_DATA_DIR": str(fresh_dir / "data"),
        "AP_BOOTSTRAP_API_KEY": WALK_KEY,
        "AP_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
    }
    with running_server(env) as base_url:
        port = base_url.rsplit(":", 1)[1]
        script = "\n".join(block.replace("8080", port) for block in blocks) + '\necho "ids $PROJECT $FLOW"\n'
        done = subprocess.run(
            ["bash", "-c", "set -euo pipefail\n" + script],
            env=user_env(KEY=WALK_KEY),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, (done.stdout, done.stderr)
        lines = done.stdout.strip().splitlines()
        _, project_id, flow_id = lines[-1].split()
        assert lines[-2] == "ENABLED True LOCKED"  # what the page says the last line prints
        assert lines[-5:-2] == ["200", "200", "200"]
        planned = json.loads(lines[0])
        assert planned["displayName"] == "Acme Corporation" and planned["plan"]["piecesFilterType"] == "ALLOWED"
        # As the page says: a piece the plan does not allow is refused.
        headers = {"Authorization": f"Bearer {WALK_KEY}"}
        slack = {
            "type": "ADD_ACTION",
            "request": {
                "parentStep": "step_1",
                "action": {
                    "name": "step_2",
                    "type": "PIECE",
                    "valid": True,
                    "displayName": "Slack",
                    "settings": {
                        "pieceName": "@activepieces/piece-slack",
                        "pieceVersion": "0.5.0",
                        "actionName": "send_channel_message",
                        "input": {},
                        "propertySettings": {},
                    },
                },
            },
        }
        refused = httpx.post(f"{base_url}/api/v1/flows/{flow_id}", json=slack, headers=headers, timeout=30)
        assert (refused.status_code, refused.json()["code"]) == (404, "ENTITY_NOT_FOUND"), refused.text
        assert (
            httpx.get(f"{base_url}/api/v1/projects/{project_id}", headers=headers).json()["externalId"] == "acme-corp"
        )
