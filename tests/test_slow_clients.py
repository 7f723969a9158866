"""Slow and malformed clients against a real `openpieces serve`, over raw sockets: a request's head
and body have deadlines (failed before: slow-header and slow-body connections stayed open
forever), an oversized head gets the error envelope (failed before: uvicorn's plain-text 400)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.processes import running_server

pytestmark = pytest.mark.slow

HEAD_TIMEOUT = 1.0
BODY_TIMEOUT = 2.0
# Deadlines fire late on a busy 2-core machine: how long we wait at most for one.
PATIENCE = 15.0


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    env = {
        "AP_DATABASE_URL": database_url,
        "AP_DATA_DIR": str(tmp_path_factory.mktemp("slow")),
        "AP_HEADERS_TIMEOUT_SECONDS": str(HEAD_TIMEOUT),
        "AP_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT),
        "AP_LOG_REQUESTS": "false",
    }
    with running_server(env) as base_url:
        yield base_url, int(base_url.rsplit(":", 1)[1])


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=PATIENCE)
    return sock


def read_all(sock: socket.socket) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and how long that took."""
    started = time.monotonic()
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks), time.monotonic() - started


def envelope(raw: bytes) -> tuple[int, dict]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    assert b"content-type: application/json" in head.lower()
    return status, json.loads(body)


def test_a_silent_connection_is_closed(server: tuple[str, int]) -> None:
    _, port = server
    with connect(port) as sock:
        raw, waited = read_all(sock)
    assert raw == b""
    assert waited < PATIENCE


def test_slow_headers_get_408(server: tuple[str, int]) -> None:
    _, port = server
    with connect(port) as sock:
        sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n")
        # A byte now and then does not keep the connection: the deadline is for the whole head.
        for _ in range(4):
            time.sleep(HEAD_TIMEOUT / 3)
            try:
                sock.sendall(b"X")
            except OSError:
                break
        raw, _ = read_all(sock)
    status, body = envelope(raw)
    assert (status, body["statusCode"], body["code"]) == (408, 408, "REQUEST_TIMEOUT")


def test_a_slow_body_gets_408(server: tuple[str, int]) -> None:
    _, port = server
    with connect(port) as sock:
        sock.sendall(
            b"POST /v1/projects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-nobody\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"displayName\""
        )
        started = time.monotonic()
        raw, _ = read_all(sock)
    assert time.monotonic() - started < PATIENCE
    # The key is checked before the body is read: the 401 may come first, then the deadline closes.
    status = int(raw.split(b" ", 2)[1])
    assert status in (401, 408), raw


def test_a_slow_body_on_an_open_route_gets_408(server: tuple[str, int]) -> None:
    _, port = server
    with connect(port) as sock:
        sock.sendall(
            b"POST /v1/health HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n"
        )
        raw, waited = read_all(sock)
    assert waited < PATIENCE
    assert raw  # an answer (404 for POST on health, or 408), then the connection is closed


def test_a_600_kb_url_gets_the_error_envelope(server: tuple[str, int]) -> None:
    _, port = server
    with connect(port) as sock:
        sock.sendall(b"GET /v1/projects?x=" + b"a" * 600_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        raw, _ = read_all(sock)
    status, body = envelope(raw)
    assert status == 431
    assert body == {
        "statusCode": 431,
        "code": "VALIDATION",
        "params": {"message": "request line and headers must NOT exceed 65536 bytes"},
    }


def test_garbage_gets_the_error_envelope(server: tuple[str, int]) -> None:
    _, port = server
    with connect(port) as sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        raw, _ = read_all(sock)
    status, body = envelope(raw)
    assert (status, body["code"]) == (400, "VALIDATION")


def test_many_slow_clients_are_dropped_while_others_are_served(server: tuple[str, int]) -> None:
    base_url, port = server
    slow = []
    for _ in range(200):
        sock = connect(port)
        sock.sendall(b"GET /v1/health HTTP/1.1\r\n")
        slow.append(sock)
    assert httpx.get(f"{base_url}/v1/health", timeout=PATIENCE).status_code == 200
    deadline = time.monotonic() + PATIENCE * 2
    for sock in slow:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        raw, _ = read_all(sock)
        assert raw.startswith(b"HTTP/1.1 408 ")
        sock.close()


def test_keep_alive_requests_still_work(server: tuple[str, int]) -> None:
    base_url, _ = server
    with httpx.Client(base_url=base_url, timeout=PATIENCE) as client:
        for _ in range(3):
            assert client.get("/v1/health").status_code == 200
