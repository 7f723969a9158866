"""Replaying a recording against an openpieces server, on a platform of its own, and the report."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from app.drift.compare import CURSOR_PARAMETER, Correspondence, Difference, compare_answers, describe
from app.drift.recording import Exchange, body_of
from app.testing import openpieces_server


@dataclass
class DriftReport:
    target: str
    exchanges: int = 0
    differences: list[Difference] = field(default_factory=list)

    def as_json(self) -> str:
        body = {
            "target": self.target,
            "exchanges": self.exchanges,
            "differences": [difference.as_dict() for difference in self.differences],
        }
        return json.dumps(body, ensure_ascii=False, indent=2)

    def as_text(self) -> str:
        count = len(self.differences)
        summary = (
            f"replayed {self.exchanges} requests against {self.target}: "
            f"{'no difference' if count == 0 else f'{count} difference' + ('s' if count > 1 else '')}"
        )
        return "\n".join([summary, *(describe(difference) for difference in self.differences)])


def _request_of(exchange: Exchange, correspondence: Correspondence) -> dict[str, Any]:
    query = [
        (
            name,
            correspondence.translate_cursor(value)
            if name == CURSOR_PARAMETER
            else correspondence.translate_text(value),
        )
        for name, value in exchange.query
    ]
    request: dict[str, Any] = {"params": query}
    body = correspondence.translate(exchange.requestBody)
    if isinstance(body, str):
        request["content"] = body.encode()
    elif body is not None:
        request["content"] = json.dumps(body).encode()
        request["headers"] = {"content-type": "application/json"}
    return request


def replay(exchanges: list[Exchange], client: httpx.Client, target: str) -> DriftReport:
    """Sends each recorded request, in order, in the replay's ids, and compares the answers."""
    correspondence = Correspondence()
    report = DriftReport(target=target, exchanges=len(exchanges))
    for number, exchange in enumerate(exchanges, start=1):
        path = correspondence.translate_text(exchange.path)
        answer = client.request(exchange.method, path, **_request_of(exchange, correspondence))
        report.differences += compare_answers(
            number,
            exchange.method,
            exchange.path,
            (exchange.status, exchange.responseBody),
            (answer.status_code, body_of(answer.content)),
            correspondence,
        )
    return report


@dataclass(frozen=True)
class ReplayTarget:
    base_url: str
    api_key: str
    described: str  # for the report


@contextmanager
def given_platform(base_url: str, api_key: str) -> Iterator[ReplayTarget]:
    """The platform of `api_key`, as it is: the replay adds to what it already has."""
    yield ReplayTarget(base_url, api_key, base_url)


@contextmanager
def fresh_platform(base_url: str, admin_token: str, edition: str) -> Iterator[ReplayTarget]:
    """A new platform on a running openpieces with its admin API on (left there, to look at)."""
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {admin_token}"}) as admin:
        created = admin.post("/admin/platforms", json={"name": "Drift replay", "edition": edition})
        created.raise_for_status()
    platform = created.json()
    yield ReplayTarget(base_url, platform["apiKey"], f"{base_url} (new platform {platform['platformId']})")


@contextmanager
def own_server(edition: str) -> Iterator[ReplayTarget]:
    """A server of its own on an embedded PostgreSQL in a temp dir, removed afterwards."""
    with openpieces_server(edition=edition) as server:
        yield ReplayTarget(server.base_url, server.api_key, f"a new openpieces server ({edition} platform)")


def replay_on(target: ReplayTarget, exchanges: list[Exchange], *, timeout: float = 60.0) -> DriftReport:
    headers = {"Authorization": f"Bearer {target.api_key}"}
    with httpx.Client(base_url=target.base_url, headers=headers, timeout=timeout) as client:
        return replay(exchanges, client, target.described)
