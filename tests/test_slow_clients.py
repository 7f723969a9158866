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
            b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"displayName"'
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
            b'Transfer-Encoding: chunked\r\n\r\n5\r\n{"a":\r\n'
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


SEND_TIMEOUT = 2.0
SEND_KEY = "sk-send-deadline-key-0123456789abcdefghijklmnop"


def test_a_response_the_client_does_not_read_is_dropped_after_the_send_deadline(tmp_path_factory) -> None:
    """A client that asks for a big page and never reads it held the response (and its memory) for
    as long as it liked; now the response is dropped once writing has waited AP_SEND_TIMEOUT_SECONDS."""
    from app.kit.db import run_migrations
    from tests.pg import fresh_database

    with fresh_database() as database_url:
        run_migrations(database_url)
        env = {
            "AP_DATABASE_URL": database_url,
            "AP_DATA_DIR": str(tmp_path_factory.mktemp("send")),
            "AP_BOOTSTRAP_API_KEY": SEND_KEY,
            "AP_SEND_TIMEOUT_SECONDS": str(SEND_TIMEOUT),
            "AP_LOG_REQUESTS": "false",
        }
        with running_server(env) as base_url:
            headers = {"Authorization": f"Bearer {SEND_KEY}"}
            # A page of ~6 MB: more than the kernel's socket buffers (up to 4 MB) can take.
            for number in range(100):
                made = httpx.post(
                    f"{base_url}/v1/projects",
                    json={"displayName": f"Big {number}", "metadata": {"blob": "x" * 60_000}},
                    headers=headers,
                    timeout=30,
                )
                assert made.status_code == 201, made.text
            whole = httpx.get(f"{base_url}/v1/projects?limit=100", headers=headers, timeout=30)
            assert whole.status_code == 200 and len(whole.content) > 6_000_000  # a reader gets it all

            port = int(base_url.rsplit(":", 1)[1])
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connecting: a small window
            sock.settimeout(PATIENCE)
            sock.connect(("127.0.0.1", port))
            try:
                request = f"GET /v1/projects?limit=100 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {SEND_KEY}\r\n\r\n"
                sock.sendall(request.encode())
                time.sleep(SEND_TIMEOUT + 3)  # not reading
                raw, _ = read_all(sock)
            finally:
                sock.close()
            head, _, body = raw.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200"), head[:200]
            length = int(
                next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
            )
            assert length == len(whole.content)
            assert len(body) < length  # dropped: the rest never came, the connection was closed
            # The server is fine and serves the next client.
            assert httpx.get(f"{base_url}/v1/health", timeout=10).status_code == 200
