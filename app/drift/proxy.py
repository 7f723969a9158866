"""The recorder: a proxy that forwards every request to a real Activepieces with the user's key and
writes each exchange to the recording as soon as it has the answer (a stopped recorder loses none)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.drift.recording import Exchange, body_of, redacted_exchange

# Not forwarded either way: they describe one hop (or, for Authorization, the user's own key is sent).
_REQUEST_HEADERS_DROPPED = frozenset({"host", "authorization", "content-length", "connection", "accept-encoding"})
_RESPONSE_HEADERS_KEPT = frozenset({"content-type"})
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def recorder_app(target: str, api_key: str, out: IO[str], *, timeout: float = 60.0) -> Starlette:
    """An ASGI app forwarding to `target` (the server's base URL, e.g. https://cloud.activepieces.com)."""
    client = httpx.AsyncClient(base_url=target.rstrip("/"), timeout=timeout)
    writing = asyncio.Lock()  # concurrent requests: one whole line at a time

    async def forward(request: Request) -> Response:
        content = await request.body()
        headers = {name: value for name, value in request.headers.items() if name not in _REQUEST_HEADERS_DROPPED}
        headers["authorization"] = f"Bearer {api_key}"
        query = list(request.query_params.multi_items())
        try:
            answer = await client.request(
                request.method, request.url.path, params=query, content=content, headers=headers
            )
        except httpx.HTTPError as exc:
            # Not recorded: it says nothing about the server, only that it was not reached.
            message = f"openpieces record: {target} did not answer: {exc.__class__.__name__}"
            return Response(message, status_code=502, media_type="text/plain")
        exchange = Exchange(
            method=request.method,
            path=request.url.path,
            query=query,
            requestBody=body_of(content),
            status=answer.status_code,
            responseBody=body_of(answer.content),
        )
        async with writing:
            out.write(redacted_exchange(exchange, [api_key]).to_json() + "\n")
            out.flush()
        kept = {name: value for name, value in answer.headers.items() if name in _RESPONSE_HEADERS_KEPT}
        return Response(answer.content, status_code=answer.status_code, headers=kept)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await client.aclose()

    return Starlette(routes=[Route("/{path:path}", forward, methods=_METHODS)], lifespan=lifespan)


def run_recorder(target: str, api_key: str, out_path: Path, listener: socket.socket) -> None:
    """Serve the recorder on a bound socket until interrupted, writing `out_path` afresh."""
    with out_path.open("w", encoding="utf-8") as out:
        config = uvicorn.Config(recorder_app(target, api_key, out), log_level="warning", access_log=False)
        uvicorn.Server(config).run(sockets=[listener])
