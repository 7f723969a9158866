"""The database refusing new connections (its `max_connections`, or a role's connection limit) is an
outage to the client: the 503 envelope it can retry on, never a 500."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from app.kit.config import Settings
from app.kit.db import to_plain_url
from app.main import create_app
from tests.conftest import TEST_ENCRYPTION_KEY


@pytest.fixture
async def no_connections_url(database_url: str) -> AsyncIterator[str]:
    """A URL of the test database for a role that may open no connection at all: every connect is
    refused with SQLSTATE 53300, the same error a full `max_connections` gives."""
    role = f"ap_no_conn_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(to_plain_url(database_url))
    try:
        await admin.execute(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 0")
        user_part, _, rest = database_url.partition("@")
        yield f"{user_part.split('://')[0]}://{role}@{rest}"
    finally:
        await admin.execute(f"DROP ROLE IF EXISTS {role}")
        await admin.close()


async def test_too_many_connections_is_503_not_500(no_connections_url: str) -> None:
    application = create_app(
        Settings(database_url=no_connections_url, run_migrations=False, encryption_key=TEST_ENCRYPTION_KEY)
    )
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            for path in ("/v1/health", "/v1/projects"):
                response = await client.get(path, headers={"Authorization": "Bearer sk-any-key-at-all-0123456789"})
                assert response.status_code == 503, (path, response.text)
                assert response.json() == {
                    "statusCode": 503,
                    "code": "SERVICE_UNAVAILABLE",
                    "params": {"message": "The database is unavailable, try again shortly"},
                }
