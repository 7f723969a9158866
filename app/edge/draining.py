"""Deploys without dropped requests: what a replica does between SIGTERM and exiting.

1. SIGTERM: the replica is *draining*. `/v1/health` answers 503, so a load balancer takes it out,
   and every response closes its connection, so no client keeps one open to it. It still serves
   for `AP_SHUTDOWN_DELAY_SECONDS` (default 0), the time a load balancer needs to notice.
2. Then uvicorn's graceful shutdown: the listening socket closes (no new connection is accepted),
   idle connections close after a moment in which a request already on its way is still served
   (app/edge/server.py), and in-flight requests get up to `AP_SHUTDOWN_TIMEOUT_SECONDS` (default
   30) to finish before they are cancelled.
3. The lifespan ends: the request log is flushed, the database pools close, the process exits.

A second SIGTERM (or SIGINT) skips the delay.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

log = logging.getLogger("openpieces.draining")

SignalHandler = Callable[[int, FrameType | None], Any]


class Drain:
    def __init__(self, delay_seconds: float = 0.0) -> None:
        self.delay_seconds = delay_seconds
        self.draining = False
        self._previous: SignalHandler | None = None

    def install(self) -> None:
        """Put draining in front of the server's own SIGTERM handler. Only under a server that
        handles SIGTERM itself (uvicorn, which `openpieces serve` runs); elsewhere (an app in a test
        client) the process's signals are left alone."""
        if threading.current_thread() is not threading.main_thread():
            return
        previous = signal.getsignal(signal.SIGTERM)
        if not callable(previous) or not _is_server_handler(previous):
            return
        self._previous = previous
        loop = asyncio.get_running_loop()

        def on_sigterm(signum: int, frame: FrameType | None) -> None:
            if self.draining or self.delay_seconds <= 0:
                self.draining = True
                previous(signum, frame)
                return
            self.draining = True
            log.info("draining", extra={"delaySeconds": self.delay_seconds})
            # Signal handlers run between two bytecodes of the loop's thread: hand over to the loop.
            loop.call_soon_threadsafe(loop.call_later, self.delay_seconds, previous, signum, frame)

        signal.signal(signal.SIGTERM, on_sigterm)

    def uninstall(self) -> None:
        if self._previous is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self._previous)
            self._previous = None


def _is_server_handler(handler: SignalHandler) -> bool:
    owner = getattr(handler, "__self__", None)
    return type(owner).__module__.startswith("uvicorn.")
