"""The real server's own integration tests, translated (`packages/server/api/test/integration/` in
activepieces/activepieces). They run against an app with `AP_COMPAT=server`, the real server's
answers; the fixtures of `tests/conftest.py` (tenants, clients, the database) are used as they are,
bound to this app."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from app.kit.config import Settings
from app.main import create_app
from tests.conftest import TEST_ENCRYPTION_KEY


@pytest.fixture(scope="session")
async def app(database_url: str) -> AsyncIterator[object]:
    """Overrides the suite's app for this directory: the same database, the real server's answers."""
    application = create_app(
        Settings(
            database_url=database_url,
            run_migrations=False,
            encryption_key=TEST_ENCRYPTION_KEY,
            compat="server",
            log_requests=False,
            # A second app on the shared PostgreSQL: a small pool (the tests send one request at a time).
            db_pool_size=2,
            db_max_overflow=2,
        )
    )
    async with application.router.lifespan_context(application):
        yield application
