"""Shared fixtures: one fresh PostgreSQL database per run, the app driven over HTTP, and a new
platform (tenant) per test, so tests never see each other's rows."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from app.kit.config import Settings
from app.kit.crypto import new_encoded_key
from app.kit.db import Database, run_migrations
from app.main import create_app
from app.projects.provisioning import PlatformProvisioning
from tests import docker_images, fidelity
from tests import flow_oracle as oracle_state
from tests.pg import describe_test_server, fresh_database


def pytest_configure(config: pytest.Config) -> None:
    # Every httpx request of the run is checked against the real schemas (tests/fidelity.py).
    fidelity.install()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> object:
    bad_input = item.get_closest_marker("sends_invalid_requests")
    fidelity.CURRENT = fidelity.TestContext(
        nodeid=item.nodeid,
        bad_input=bad_input is not None,
        accepted_on_purpose=bad_input is not None and bool(bad_input.kwargs.get("accepted")),
        unchecked=item.get_closest_marker("real_schemas_pending") is not None,
    )
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> object:
    result = yield
    # A violation raised inside a request the test caught (or made in another thread) still fails it.
    if fidelity.CURRENT.violations:
        raise fidelity.RealSchemaViolation("\n".join(fidelity.CURRENT.violations))
    return result


def _report_fidelity(terminalreporter: pytest.TerminalReporter) -> None:
    terminalreporter.section("fidelity to the real Activepieces schemas")
    for line in fidelity.summary_lines():
        terminalreporter.write_line(line)


# Fixed for the run, so a test can open what the server sealed.
TEST_ENCRYPTION_KEY = new_encoded_key()


def pytest_report_header() -> str:
    return describe_test_server()


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    with fresh_database() as url:
        run_migrations(url)
        yield url


@pytest.fixture(scope="session")
async def app(database_url: str) -> AsyncIterator[object]:
    application = create_app(
        Settings(database_url=database_url, run_migrations=False, encryption_key=TEST_ENCRYPTION_KEY)
    )
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
def db(app: object) -> Database:
    return app.state.db  # type: ignore[attr-defined,no-any-return]


@dataclass
class Tenant:
    platform_id: str
    owner_id: str
    api_key: str
    client: httpx.AsyncClient


TenantFactory = Callable[..., Awaitable[Tenant]]


@pytest.fixture
async def make_tenant(app: object, db: Database) -> AsyncIterator[TenantFactory]:
    """Creates platforms (with owner, personal project and key) and clients bound to their keys."""
    clients: list[httpx.AsyncClient] = []

    async def make(edition: str = "ENTERPRISE", name: str = "Test Platform") -> Tenant:
        created = await PlatformProvisioning(db).create_platform(name, edition)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
            base_url="http://testserver",
            headers={"Authorization": f"Bearer {created.api_key}"},
        )
        clients.append(client)
        return Tenant(created.platform_id, created.owner_id, created.api_key, client)

    yield make
    for client in clients:
        await client.aclose()


async def personal_project_id(tenant: Tenant) -> str:
    """The id of the platform owner's PERSONAL project (every platform has exactly one)."""
    page = (await tenant.client.get("/v1/projects", params={"types": "PERSONAL"})).json()
    return str(page["data"][0]["id"])


@pytest.fixture
async def tenant(make_tenant: TenantFactory) -> Tenant:
    return await make_tenant()


@pytest.fixture
async def anonymous(app: object) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
        base_url="http://testserver",
    ) as client:
        yield client


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Which database the run used (again, after the results), and the differential flow oracle
    says loudly when it could not run, and what it checked; then what the real schemas checked
    (tests/fidelity.py)."""
    terminalreporter.write_line(describe_test_server())
    for line in docker_images.USED:  # which base images the image tests ran on (tests/test_image.py)
        terminalreporter.write_line(line)
    _report_fidelity(terminalreporter)
    for reason in oracle_state.UNAVAILABLE:
        terminalreporter.write_sep("!", "FLOW ORACLE SKIPPED", red=True, bold=True)
        terminalreporter.write_line(f"the differential flow oracle did not run: {reason}", red=True, bold=True)
    checked = oracle_state.CHECKED
    if checked["sequences"]:
        kept = ", ".join(f"{rule}: {count}" for rule, count in sorted(checked["kept"].items())) or "none"
        terminalreporter.write_line(
            f"flow oracle: {checked['sequences']} sequences, {checked['operations']} operations compared "
            f"with @activepieces/shared {oracle_state.PINNED_VERSION}; kept differences met: {kept}"
        )
    for run in checked["runs"]:  # each set: its seed (AP_ORACLE_SEED replays it) and its time
        terminalreporter.write_line(f"flow oracle, {run}")
