"""The drift report: `openpieces record` in front of a second openpieces standing in for the real
Activepieces, the shipped scenario through it, then `openpieces diff` of that recording against
this server, with and without a deliberate difference (a fault injected through the admin API).
Real processes throughout; the comparison rules themselves are tested on their own below."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.drift.compare import Correspondence, compare_answers
from app.drift.recording import REDACTED, Exchange, read_recording, redacted_exchange
from app.testing import serving
from tests.pg import fresh_database
from tests.processes import free_port, openpieces_command, run_cli, running_server

REAL_KEY = "sk-drift-standin-real-0123456789abcdefghij"
ADMIN_TOKEN = "drift-admin-token-0123456789"


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The scenario, recorded through `openpieces record` against the stand-in for the real one."""
    work = tmp_path_factory.mktemp("drift")
    out = work / "recording.jsonl"
    with fresh_database() as real_database:
        env = {"AP_DATABASE_URL": real_database, "AP_DATA_DIR": str(work), "AP_BOOTSTRAP_API_KEY": REAL_KEY}
        with running_server(env) as real_url:
            port = free_port()
            command = [*openpieces_command(), "record", "--target", real_url, "--key", REAL_KEY]
            with serving(
                [*command, "--listen", str(port), "--out", str(out)],
                env={"PATH": "/usr/bin:/bin", "AP_DATA_DIR": str(work)},
                ready_url=f"http://127.0.0.1:{port}/v1/health",
                log_path=work / "recorder.log",
            ):
                # No key: the recorder sends its own.
                ran = run_cli("scenario", "--target", f"http://127.0.0.1:{port}", env={})
                assert ran.returncode == 0, ran.stderr
        yield out


@pytest.mark.slow
def test_the_recording_holds_the_scenario_and_no_secret(recording: Path) -> None:
    text = recording.read_text()
    assert REAL_KEY not in text and "xoxb-drift-scenario" not in text
    exchanges = read_recording(recording)
    assert exchanges[0].method == "GET" and exchanges[0].path == "/v1/health"  # the readiness probe
    scenario = exchanges[1:]
    assert len(scenario) == 48
    statuses = {(exchange.method, exchange.path.split("/")[3], exchange.status) for exchange in scenario}
    # Every route's main answers, and errors.
    for route in ("projects", "flows", "global-connections"):
        assert {("POST", route, 201), ("GET", route, 200), ("POST", route, 400), ("DELETE", route, 204)} <= statuses
    assert {("GET", "projects", 404), ("POST", "flows", 200), ("GET", "flows", 404)} <= statuses
    created = next(exchange for exchange in scenario if exchange.path == "/api/v1/global-connections")
    assert created.requestBody["value"] == {"type": "SECRET_TEXT", "secret_text": REDACTED}
    paged = [exchange for exchange in scenario if any(name == "cursor" for name, _ in exchange.query)]
    assert len(paged) == 3  # a second page of each list


@pytest.mark.slow
def test_diff_against_a_server_of_its_own_finds_nothing(recording: Path) -> None:
    ran = run_cli("diff", str(recording), env={})
    assert (ran.returncode, ran.stdout.splitlines()[0].split(": ")[-1]) == (0, "no difference"), ran.stdout + ran.stderr


@pytest.mark.slow
def test_diff_finds_the_injected_difference_and_nothing_else(recording: Path, tmp_path: Path) -> None:
    with fresh_database() as database:
        env = {"AP_DATABASE_URL": database, "AP_DATA_DIR": str(tmp_path), "AP_ADMIN_TOKEN": ADMIN_TOKEN}
        with running_server(env) as url:
            fault = {"path_pattern": "/v1/flows/count", "method": "GET", "status": 503, "code": "DRIFT", "times": 1}
            added = httpx.post(f"{url}/admin/faults", json=fault, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
            assert added.status_code == 201, added.text
            ran = run_cli("diff", str(recording), "--target", url, "--admin-token", ADMIN_TOKEN, "--json", env={})
            text = run_cli("diff", str(recording), "--target", url, "--admin-token", ADMIN_TOKEN, env={})
    assert ran.returncode == 1, ran.stdout + ran.stderr
    count = next(
        number for number, exchange in enumerate(read_recording(recording), 1) if exchange.path.endswith("/flows/count")
    )
    where = {"exchange": count, "method": "GET", "path": "/api/v1/flows/count"}
    assert json.loads(ran.stdout)["differences"] == [
        {**where, "where": "status", "kind": "status", "recorded": 200, "replayed": 503},
        {
            **where,
            "where": "",
            "kind": "type",
            "recorded": 2,
            "replayed": {"statusCode": 503, "code": "DRIFT", "params": {"message": "Injected fault"}},
        },
    ]
    # The fault fired once: the second run finds nothing.
    assert (text.returncode, text.stdout.splitlines()[0].split(": ")[-1]) == (0, "no difference"), text.stdout


# --- the rules, on their own


def _compare(
    recorded: object,
    replayed: object,
    correspondence: Correspondence | None = None,
    status: tuple[int, int] = (200, 200),
) -> list[tuple[str, str, object, object]]:
    found = compare_answers(
        1, "GET", "/x", (status[0], recorded), (status[1], replayed), correspondence or Correspondence()
    )
    return [(difference.where, difference.kind, difference.recorded, difference.replayed) for difference in found]


A1, A2, B1, B2 = "a" * 20 + "1", "a" * 20 + "2", "b" * 20 + "1", "b" * 20 + "2"


def test_ids_pair_up_on_first_sight_and_a_reference_to_the_wrong_row_is_found() -> None:
    pairs = Correspondence()
    assert (
        _compare(
            {"id": A1, "created": "2024-01-10T10:00:00.000Z"}, {"id": B1, "created": "2026-12-03T12:00:00Z"}, pairs
        )
        == []
    )
    assert _compare({"id": A2}, {"id": B2}, pairs) == []
    # A1 is B1 now: a reference to A1 answered with B2 points at the other row.
    assert _compare({"projectId": A1, "ids": [A1, A2]}, {"projectId": B2, "ids": [B1, B2]}, pairs) == [
        ("/projectId", "id", A1, B2)
    ]
    # Inside a text too (an error's message), and a later request says the replay's ids.
    assert _compare({"message": f"Flow {A2} not found"}, {"message": f"Flow {B1} not found"}, pairs) == [
        ("/message", "id", f"Flow {A2} not found", f"Flow {B1} not found")
    ]
    assert pairs.translate_text(f"/v1/flows/{A1}") == f"/v1/flows/{B1}"
    assert pairs.translate({"projectIds": [A2, "0" * 21]}) == {"projectIds": [B2, "0" * 21]}


def test_timestamps_and_cursors_match_by_kind_and_everything_else_exactly() -> None:
    pairs = Correspondence()
    recorded = {
        "data": [],
        "updated": "2024-01-10T10:00:00.000Z",
        "next": "Y3Vyc29y",
        "previous": None,
        "n": 2,
        "kept": True,
    }
    assert _compare(recorded, {**recorded, "updated": "2026-12-03T12:53:22.028Z", "next": "b3RoZXI"}, pairs) == []
    assert pairs.translate_cursor("Y3Vyc29y") == "b3RoZXI"
    replayed = {"data": [], "updated": "yesterday", "next": None, "previous": "cA", "n": "2", "extra": [1]}
    assert _compare(recorded, replayed) == [
        ("/updated", "timestamp", "2024-01-10T10:00:00.000Z", "yesterday"),
        ("/next", "type", "Y3Vyc29y", None),
        ("/previous", "type", None, "cA"),
        ("/n", "type", 2, "2"),
        ("/kept", "missing", True, None),
        ("/extra", "extra", None, [1]),
    ]
    assert _compare([1, {"a/b": "x", "next": "a"}, 3], [1, {"a/b": "y", "next": "b"}], status=(200, 201)) == [
        ("status", "status", 200, 201),
        ("/1/a~1b", "value", "x", "y"),
        ("/1/next", "value", "a", "b"),  # no page: a value like any other
        ("/2", "missing", 3, None),
    ]
    # A new project's colour is drawn at random.
    assert _compare({"icon": {"color": "RED"}}, {"icon": {"color": "BLUE"}}) == []
    assert _compare({"icon": {"color": "RED"}}, {"icon": {"color": None}}) == [("/icon/color", "type", "RED", None)]


def test_the_recording_keeps_no_key_and_no_connection_secret() -> None:
    key = "sk-" + "k" * 40
    exchange = Exchange(
        method="POST",
        path="/api/v1/global-connections",
        query=[("echo", key)],
        requestBody={"type": "OAUTH2", "value": {"type": "OAUTH2", "client_secret": "s3", "props": {"a": "b"}}},
        status=201,
        responseBody={"displayName": f"made with {key}", "value": {"type": "OAUTH2", "access_token": "t0"}},
    )
    kept = redacted_exchange(exchange, [key])
    assert kept.query == [("echo", REDACTED)]
    assert kept.requestBody == {
        "type": "OAUTH2",
        "value": {"type": "OAUTH2", "client_secret": REDACTED, "props": {"a": REDACTED}},
    }
    assert kept.responseBody == {
        "displayName": f"made with {REDACTED}",
        "value": {"type": "OAUTH2", "access_token": REDACTED},
    }
    # A flow's step input named `value` is no secret.
    flow = Exchange(method="POST", path="/api/v1/flows/x", requestBody={"value": "kept"}, status=200)
    assert redacted_exchange(flow, [key]).requestBody == {"value": "kept"}


@pytest.mark.slow
def test_diff_refuses_what_is_no_recording(tmp_path: Path) -> None:
    empty, broken = tmp_path / "empty.jsonl", tmp_path / "broken.jsonl"
    empty.write_text("")
    broken.write_text('{"method": "GET", "path": "/v1/health", "status": 200}\n{"path": "/v1/projects"}\n')
    ran = run_cli("diff", str(empty), env={})
    assert (ran.returncode, ran.stderr.strip()) == (2, f"error: {empty} holds no exchange: nothing was recorded")
    ran = run_cli("diff", str(broken), env={})
    assert (ran.returncode, ran.stderr.strip()) == (
        2,
        f"error: {broken}:2: not an exchange of a recording (no 'method')",
    )
    ran = run_cli("diff", str(broken), "--key", "sk-x", env={})
    assert ran.returncode == 2 and "--key is a key of the --target server" in ran.stderr
