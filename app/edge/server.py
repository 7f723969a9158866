"""uvicorn's HTTP protocol (httptools), with what a production server must add and uvicorn lacks:
a deadline for a request's head and one for its body (uvicorn only times out idle keep-alive
connections, so slow-header and slow-body clients held connections forever), one for a response the
client does not read (it held the response's memory for as long as the client liked), a bound on the
head's size, and the error envelope instead of uvicorn's plain-text 400 for what cannot be parsed.

`openpieces serve` runs uvicorn with `http=GuardedHttpToolsProtocol`."""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.kit.config import get_settings
from app.kit.serialization import json_bytes

# How long a refused connection is still read (and what comes dropped) before it is closed.
_LINGER_SECONDS = 2.0
# A connection idle when the server stops may already carry the client's next request, sent before
# it could see a close: closed at once, that request is lost unanswered (the client reads "server
# disconnected"). For this long such a request is still served, with `connection: close`.
_IDLE_GRACE_SECONDS = 0.5
_REASONS = {400: b"Bad Request", 408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


def _envelope(status: int, code: str, message: str) -> bytes:
    body = json_bytes({"statusCode": status, "code": code, "params": {"message": message}})
    return b"".join(
        [
            b"HTTP/1.1 %d %s\r\n" % (status, _REASONS[status]),
            b"content-type: application/json; charset=utf-8\r\n",
            b"content-length: %d\r\n" % len(body),
            b"connection: close\r\n\r\n",
            body,
        ]
    )


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = get_settings()
        self._head_timeout = settings.headers_timeout_seconds
        self._body_timeout = settings.body_timeout_seconds
        self._max_head = settings.max_head_bytes
        self._send_timeout = settings.send_timeout_seconds
        self._deadline: asyncio.TimerHandle | None = None
        self._send_deadline: asyncio.TimerHandle | None = None
        self._head_size = 0
        self._head_too_large = False
        self._received = False  # a byte of the current request has arrived
        self._discarding = False  # answered and closing: what still comes in is dropped
        self._stopping = False  # the server is shutting down: no request after this one

    # --- deadlines: the head from the connection (or the previous response) on; the body from the
    # end of the head on. Each is a whole-phase deadline, not an idle one: a byte every few
    # seconds does not keep a connection.

    def _arm(self, seconds: float, phase: str) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expired, phase)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self, phase: str) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if phase == "head" and not self._received:
            self.transport.close()  # nothing was asked: close quietly, as an idle keep-alive
            return
        if self.cycle is None or self.cycle.response_complete or not self.cycle.response_started:
            message = f"the request's {'headers' if phase == 'head' else 'body'} did not arrive in time"
            self._reject(_envelope(408, "REQUEST_TIMEOUT", message))
        else:
            self.transport.close()

    def _reject(self, response: bytes) -> None:
        """Answer and close without losing the answer: closing a socket with unread data resets
        it, and the client would see the reset instead of the answer. So the writing side is shut,
        what still arrives is read and dropped for a moment, then the connection is closed."""
        self._disarm()
        self._discarding = True
        self.transport.write(response)
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(_LINGER_SECONDS, self.transport.close)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self._head_timeout, "head")

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self._reading_again()
        super().connection_lost(exc)

    # --- the client must keep reading: writing pauses when its socket and our buffer are full; if it
    # stays paused that long, the response is dropped (abort frees the buffer at once).

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._send_deadline is None:
            self._send_deadline = self.loop.call_later(self._send_timeout, self._not_read)

    def resume_writing(self) -> None:
        self._reading_again()
        super().resume_writing()

    def _reading_again(self) -> None:
        if self._send_deadline is not None:
            self._send_deadline.cancel()
            self._send_deadline = None

    def _not_read(self) -> None:
        self._send_deadline = None
        if not self.transport.is_closing() or self.transport.get_write_buffer_size():
            self.transport.abort()

    def data_received(self, data: bytes) -> None:
        if self._discarding:
            return
        self._received = True
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_size = 0

    def on_url(self, url: bytes) -> None:
        self._count_head(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_head(len(name) + len(value) + 4)
        super().on_header(name, value)

    def _count_head(self, size: int) -> None:
        self._head_size += size
        if self._head_size > self._max_head:
            self._head_too_large = True
            raise ValueError("request head too large")  # httptools stops parsing: send_400_response

    def on_headers_complete(self) -> None:
        self._arm(self._body_timeout, "body")
        super().on_headers_complete()
        if self._stopping and self.cycle is not None:
            self.cycle.keep_alive = False

    # --- graceful shutdown: uvicorn closes idle connections at once; here they get a moment.

    def shutdown(self) -> None:
        self._stopping = True
        if self.cycle is None or self.cycle.response_complete:
            self.loop.call_later(_IDLE_GRACE_SECONDS, self._close_when_idle)
        else:
            super().shutdown()  # in flight: closes after its response

    def _close_when_idle(self) -> None:
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.keep_alive = False  # a request came in the grace: closes after its response
        elif self._received:
            self.loop.call_later(0.1, self._close_when_idle)  # its head is arriving (head deadline bounds it)
        else:
            self.transport.close()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and not self.pipeline:
            self._received = False
            self._arm(self._head_timeout, "head")  # besides uvicorn's (shorter) keep-alive timeout

    def send_400_response(self, msg: str) -> None:
        if self._head_too_large:
            limit = self._max_head
            self._reject(_envelope(431, "VALIDATION", f"request line and headers must NOT exceed {limit} bytes"))
        else:
            self._reject(_envelope(400, "VALIDATION", "request is not valid HTTP"))
