"""The admin API, seeding, and the pytest fixture: what makes openpieces easy to point a CI at. The
admin app runs on its own database (a reset empties every table)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app.admin.seed import SeedError, load_seed_file
from app.kit.config import Settings
from app.kit.crypto import new_encoded_key
from app.kit.db import run_migrations
from app.main import create_app
from tests.pg import fresh_database
from tests.processes import run_cli, run_pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_SEED = ROOT / "examples" / "seed.yaml"
ADMIN_TOKEN = "admin-token-for-tests-0123456789"
BOOTSTRAP_KEY = "sk-bootstrap-admin-tests-0123456789abcdef"
ACME_KEY = "sk-acme-seed-key-0123456789abcdef"
ENVELOPE = {"statusCode", "code", "params"}


class AdminWorld:
    def __init__(self, app: Any) -> None:
        self.app = app
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        self.admin = httpx.AsyncClient(
            transport=transport, base_url="http://testserver", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        )
        self.anonymous = httpx.AsyncClient(transport=transport, base_url="http://testserver")

    def client(self, api_key: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),  # type: ignore[arg-type]
            base_url="http://testserver",
            headers={"Authorization": f"Bearer {api_key}"},
        )


@pytest.fixture(scope="module")
def admin_database_url() -> Iterator[str]:
    # Its own database: a reset empties every table.
    with fresh_database() as database_url:
        run_migrations(database_url)
        yield database_url


@pytest.fixture(scope="module")
async def world(admin_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AdminWorld]:
    settings = Settings(
        database_url=admin_database_url,
        run_migrations=False,
        encryption_key=new_encoded_key(),
        admin_token=ADMIN_TOKEN,
        bootstrap_api_key=BOOTSTRAP_KEY,
        seed_file=EXAMPLE_SEED,
        data_dir=tmp_path_factory.mktemp("admin"),
        log_requests=False,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        world = AdminWorld(app)
        yield world
        await world.admin.aclose()
        await world.anonymous.aclose()


@pytest.fixture(autouse=True)
async def clean_slate(world: AdminWorld) -> None:
    response = await world.admin.post("/admin/reset")
    assert response.status_code == 200, response.text


# --- on and off, and the token


async def test_admin_is_not_there_without_a_token(anonymous: httpx.AsyncClient) -> None:
    for method, path in (("GET", "/admin/platforms"), ("POST", "/admin/reset"), ("GET", "/admin/requests")):
        response = await anonymous.request(method, path, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        assert response.status_code == 404
        assert response.json()["code"] == "ENTITY_NOT_FOUND"


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", "Basic abc", f"Bearer {BOOTSTRAP_KEY}"])
async def test_admin_needs_its_token(world: AdminWorld, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = await world.anonymous.get("/admin/platforms", headers=headers)
    assert response.status_code == 401
    assert set(response.json()) == ENVELOPE and response.json()["code"] == "AUTHENTICATION"


# --- platforms and keys


async def test_platforms_over_http(world: AdminWorld) -> None:
    created = await world.admin.post("/admin/platforms", json={"name": "Tenant 1", "edition": "PRO"})
    assert created.status_code == 201
    body = created.json()
    assert set(body) == {"platformId", "ownerId", "apiKey"} and body["apiKey"].startswith("sk-")
    async with world.client(body["apiKey"]) as tenant:
        projects = (await tenant.get("/v1/projects")).json()["data"]
        assert [p["type"] for p in projects] == ["PERSONAL"] and projects[0]["platformId"] == body["platformId"]

    listed = (await world.admin.get("/admin/platforms")).json()
    mine = [p for p in listed if p["id"] == body["platformId"]]
    assert mine == [
        {
            "id": body["platformId"],
            "name": "Tenant 1",
            "edition": "PRO",
            "ownerId": body["ownerId"],
            "created": mine[0]["created"],
        }
    ]

    second = await world.admin.post(f"/admin/platforms/{body['platformId']}/api-keys")
    assert second.status_code == 201 and second.json()["platformId"] == body["platformId"]
    async with world.client(second.json()["apiKey"]) as tenant:
        assert (await tenant.get("/v1/projects")).status_code == 200

    deleted = await world.admin.delete(f"/admin/platforms/{body['platformId']}")
    assert deleted.status_code == 204
    async with world.client(body["apiKey"]) as tenant:
        assert (await tenant.get("/v1/projects")).status_code == 401
    again = await world.admin.delete(f"/admin/platforms/{body['platformId']}")
    assert again.status_code == 404 and again.json()["params"]["entityType"] == "platform"
    keyless = await world.admin.post(f"/admin/platforms/{'p' * 21}/api-keys")
    assert keyless.status_code == 404


async def test_a_fixed_key_and_validation(world: AdminWorld) -> None:
    fixed = "sk-fixed-key-for-my-suite-000001"
    created = await world.admin.post("/admin/platforms", json={"name": "Fixed", "apiKey": fixed})
    assert created.status_code == 201 and created.json()["apiKey"] == fixed
    bad = await world.admin.post("/admin/platforms", json={"name": "X", "edition": "GOLD"})
    assert bad.status_code == 400 and bad.json()["code"] == "VALIDATION"
    empty = await world.admin.post("/admin/platforms", json={"name": ""})
    assert empty.status_code == 400


# --- users


async def test_users_over_http(world: AdminWorld) -> None:
    tenant = (await world.admin.post("/admin/platforms", json={"name": "With users"})).json()
    platform_id = tenant["platformId"]
    async with world.client(tenant["apiKey"]) as client:
        team = (await client.post("/v1/projects", json={"displayName": "Team"})).json()
        created = await world.admin.post(
            f"/admin/platforms/{platform_id}/users",
            json={
                "email": "ada@example.com",
                "firstName": "Ada",
                "lastName": "Lovelace",
                "platformRole": "OPERATOR",
                "externalId": "ada-1",
                "status": "ACTIVE",
                "projects": [{"projectId": team["id"], "projectRole": "EDITOR"}],
            },
        )
        assert created.status_code == 201, created.text
        user = created.json()
        assert (user["email"], user["platformRole"], user["externalId"]) == ("ada@example.com", "OPERATOR", "ada-1")
        assert user["platformId"] == platform_id and user["personalProjectId"]
        [listed] = (await client.get("/v1/users", params={"externalId": "ada-1"})).json()["data"]
        assert listed == {k: v for k, v in user.items() if k != "personalProjectId"}
        personal = (await client.get(f"/v1/projects/{user['personalProjectId']}")).json()
        assert (personal["type"], personal["ownerId"], personal["displayName"]) == (
            "PERSONAL",
            user["id"],
            "Ada's Project",
        )
        analytics = (await client.get(f"/v1/projects/{team['id']}")).json()["analytics"]
        assert (analytics["totalUsers"], analytics["activeUsers"]) == (1, 1)
        mine = (await client.get("/v1/projects", params={"externalUserId": "ada-1"})).json()["data"]
        assert {p["id"] for p in mine} == {team["id"], user["personalProjectId"]}

        inactive = await world.admin.post(
            f"/admin/platforms/{platform_id}/users",
            json={
                "email": "bob@example.com",
                "status": "INACTIVE",
                "personalProject": False,
                "projects": [{"projectId": team["id"]}],
            },
        )
        assert inactive.status_code == 201 and inactive.json()["personalProjectId"] is None
        assert inactive.json()["platformRole"] == "MEMBER"
        analytics = (await client.get(f"/v1/projects/{team['id']}")).json()["analytics"]
        assert (analytics["totalUsers"], analytics["activeUsers"]) == (2, 1)


async def test_creating_users_refuses_duplicates_foreign_projects_and_bad_input(world: AdminWorld) -> None:
    one = (await world.admin.post("/admin/platforms", json={"name": "One"})).json()
    two = (await world.admin.post("/admin/platforms", json={"name": "Two"})).json()
    url = f"/admin/platforms/{one['platformId']}/users"
    assert (await world.admin.post(url, json={"email": "a@example.com", "externalId": "a"})).status_code == 201
    same_email = await world.admin.post(url, json={"email": "A@Example.com"})
    assert same_email.status_code == 409
    assert same_email.json() == {
        "statusCode": 409,
        "code": "EXISTING_USER",
        "params": {"email": "A@Example.com", "platformId": one["platformId"]},
    }
    same_external = await world.admin.post(url, json={"email": "b@example.com", "externalId": "a"})
    assert same_external.status_code == 400 and same_external.json()["code"] == "VALIDATION"
    # Another platform may use both.
    other = await world.admin.post(
        f"/admin/platforms/{two['platformId']}/users", json={"email": "a@example.com", "externalId": "a"}
    )
    assert other.status_code == 201
    async with world.client(two["apiKey"]) as client:
        foreign = (await client.post("/v1/projects", json={"displayName": "Theirs"})).json()
    cross = await world.admin.post(url, json={"email": "c@example.com", "projects": [{"projectId": foreign["id"]}]})
    assert cross.status_code == 404 and cross.json()["params"]["entityType"] == "project"
    missing = await world.admin.post(f"/admin/platforms/{'p' * 21}/users", json={"email": "d@example.com"})
    assert missing.status_code == 404 and missing.json()["params"]["entityType"] == "platform"
    bad = await world.admin.post(url, json={"email": "nope", "platformRole": "OWNER", "status": "GONE", "x": 1})
    assert bad.status_code == 400 and bad.json()["code"] == "VALIDATION"
    message = bad.json()["params"]["message"]
    assert all(field in message for field in ("email", "platformRole", "status", "x"))
    async with world.client(one["apiKey"]) as client:
        emails = sorted(u["email"] for u in (await client.get("/v1/users")).json()["data"])
    assert emails == ["a@example.com", f"owner+{one['platformId'].lower()}@openpieces.local"]


# --- reset and seed


async def test_reset_removes_everything_and_restores_bootstrap_and_seed(world: AdminWorld) -> None:
    async with world.client(BOOTSTRAP_KEY) as bootstrap:
        before = (await bootstrap.get("/v1/projects")).json()["data"]
        made = await bootstrap.post("/v1/projects", json={"displayName": "Temporary"})
        assert made.status_code == 201
    extra = (await world.admin.post("/admin/platforms", json={"name": "Gone"})).json()

    started = time.perf_counter()
    response = await world.admin.post("/admin/reset")
    elapsed_ms = (time.perf_counter() - started) * 1000
    assert response.status_code == 200
    report = response.json()
    assert report["emptiedMs"] < 1000 and elapsed_ms < 10_000
    assert report["seeded"] == {"platforms": 2, "projects": 2, "users": 2, "globalConnections": 1, "flows": 2}

    async with world.client(extra["apiKey"]) as gone:
        assert (await gone.get("/v1/projects")).status_code == 401
    async with world.client(BOOTSTRAP_KEY) as bootstrap:
        after = (await bootstrap.get("/v1/projects")).json()["data"]
        assert [p["type"] for p in after] == ["PERSONAL"] and after[0]["id"] != before[0]["id"]
    names = sorted(p["name"] for p in (await world.admin.get("/admin/platforms")).json())
    assert names == ["Acme", "Bootstrap Platform", "Globex"]


async def test_the_seed_makes_what_it_says(world: AdminWorld) -> None:
    async with world.client(ACME_KEY) as acme:
        projects = {
            p["externalId"]: p for p in (await acme.get("/v1/projects", params={"types": "TEAM"})).json()["data"]
        }
        assert set(projects) == {"acme-sales", "acme-support"}
        assert projects["acme-sales"]["metadata"] == {"team": "sales"}
        support = (await acme.get(f"/v1/projects/{projects['acme-support']['id']}")).json()
        assert support["plan"]["piecesFilterType"] == "ALLOWED"
        [connection] = (await acme.get("/v1/global-connections")).json()["data"]
        assert connection["externalId"] == "acme-slack" and connection["preSelectForNewProjects"] is True
        assert sorted(connection["projectIds"]) == sorted(p["id"] for p in projects.values())
        flows = (await acme.get("/v1/flows", params={"projectId": projects["acme-sales"]["id"]})).json()["data"]
        [digest] = flows
        assert digest["externalId"] == "daily-digest" and digest["status"] == "ENABLED"
        assert digest["publishedVersionId"] == digest["version"]["id"] and digest["version"]["state"] == "LOCKED"
        assert digest["version"]["connectionIds"] == ["acme-slack"]
        assert digest["triggerSource"]["schedule"]["cronExpression"] == "0 9 * * *"
        assert connection["flowIds"] == [digest["id"]]
        users = {u["externalId"]: u for u in (await acme.get("/v1/users")).json()["data"] if u["externalId"]}
        assert set(users) == {"acme-ada", "acme-bob"}
        assert (users["acme-ada"]["firstName"], users["acme-ada"]["status"]) == ("Ada", "ACTIVE")
        assert users["acme-bob"]["status"] == "INACTIVE"
        sales = (await acme.get(f"/v1/projects/{projects['acme-sales']['id']}")).json()["analytics"]
        assert (sales["totalUsers"], sales["activeUsers"]) == (2, 1)
        ada = (await acme.get("/v1/projects", params={"externalUserId": "acme-ada"})).json()["data"]
        assert sorted(p["type"] for p in ada) == ["PERSONAL", "TEAM"]
        bob = (await acme.get("/v1/projects", params={"externalUserId": "acme-bob"})).json()["data"]
        assert sorted(p["externalId"] for p in bob) == ["acme-sales", "acme-support"]
    async with world.app.state.db.read() as conn:
        sealed = await conn.scalar(text("SELECT value_encrypted FROM app_connection WHERE external_id = 'acme-slack'"))
    assert "xoxb" not in sealed


async def test_seeding_again_changes_nothing(world: AdminWorld) -> None:
    from app.admin.seed import apply_seed

    state = world.app.state
    made = await apply_seed(state.db, state.secrets, state.seed)
    assert made == {"platforms": 0, "projects": 0, "users": 0, "globalConnections": 0, "flows": 0}


def write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content)
    return path


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("platforms:\n  - name: X\n    apiKeys: [sk-short]\n", ":3: platforms.0.apiKeys.0: String should match pattern"),  # noqa: E501
        ("platforms:\n  - name: X\n    apiKeys: [sk-aaaaaaaaaaaaaaaaaaaa]\n    colour: red\n", ":4: platforms.0.colour: Extra inputs are not permitted"),  # noqa: E501
        ("platforms:\n  - name: X\n    edition: GOLD\n    apiKeys: [sk-aaaaaaaaaaaaaaaaaaaa]\n", ":3: platforms.0.edition: Input should be"),  # noqa: E501
        ("platforms: [\n", ": not valid YAML or JSON"),
        ("platforms:\n  - name: X\n    apiKeys: [sk-aaaaaaaaaaaaaaaaaaaa]\n    users:\n      - externalId: u\n        email: u@example.com\n        projects: [nowhere]\n", ":7: platforms.0.users.0.projects.0: no project with externalId 'nowhere'"),  # noqa: E501
        ("platforms:\n  - name: X\n    apiKeys: [sk-aaaaaaaaaaaaaaaaaaaa]\n    users:\n      - externalId: u\n        email: not-an-email\n", ":6: platforms.0.users.0.email: String should match pattern"),  # noqa: E501
        ("platforms:\n  - name: X\n    apiKeys: [sk-aaaaaaaaaaaaaaaaaaaa]\n    flows:\n      - project: nowhere\n        externalId: f\n        displayName: F\n", ":5: platforms.0.flows.0.project: no project with externalId 'nowhere'"),  # noqa: E501
        ("platforms:\n  - name: X\n    apiKeys: [sk-aaaaaaaaaaaaaaaaaaaa]\n    globalConnections:\n      - externalId: c\n        displayName: C\n        pieceName: p\n        type: BASIC_AUTH\n        value: {type: BASIC_AUTH, username: u}\n", ":9: platforms.0.globalConnections.0.value.password: Field required"),  # noqa: E501
        ('{"platforms": [{"name": "X", "apiKeys": []}]}', ":1: platforms.0.apiKeys: List should have at least 1 item"),
    ],
)  # fmt: skip
def test_bad_seed_files_name_the_file_line_and_field(tmp_path: Path, content: str, expected: str) -> None:
    path = write(tmp_path, "seed.yaml", content)
    with pytest.raises(SeedError) as caught:
        load_seed_file(path)
    assert str(caught.value).startswith(str(path))
    assert expected in str(caught.value), str(caught.value)


async def test_a_bad_seed_file_stops_start_up_and_the_cli(tmp_path: Path, database_url: str) -> None:
    path = write(tmp_path, "seed.yaml", "platforms:\n  - name: X\n    apiKeys: [nope]\n")
    app = create_app(Settings(database_url=database_url, run_migrations=False, seed_file=path, data_dir=tmp_path))

    async def start() -> None:
        async with app.router.lifespan_context(app):
            pass

    with pytest.raises(SeedError, match=r"seed.yaml:3: platforms.0.apiKeys.0"):
        await start()
    env = {"AP_DATABASE_URL": database_url, "AP_DATA_DIR": str(tmp_path)}
    cli = run_cli("seed", str(path), env=env)
    assert cli.returncode == 2 and "seed.yaml:3: platforms.0.apiKeys.0" in cli.stderr
    serve = run_cli("serve", "--port", "1", env={**env, "AP_SEED_FILE": str(path)})
    assert serve.returncode == 2 and "seed.yaml:3" in serve.stderr


def test_the_seed_command_is_idempotent(tmp_path: Path) -> None:
    with fresh_database() as database_url:
        env = {"AP_DATABASE_URL": database_url, "AP_DATA_DIR": str(tmp_path)}
        first = run_cli("seed", str(EXAMPLE_SEED), env=env)
        assert first.returncode == 0, first.stderr
        made = {"platforms": 2, "projects": 2, "users": 2, "globalConnections": 1, "flows": 2}
        assert json.loads(first.stdout)["made"] == made
        second = run_cli("seed", str(EXAMPLE_SEED), env=env)
        assert json.loads(second.stdout)["made"] == dict.fromkeys(made, 0)


# --- faults and the request log


async def test_faults_fire_exactly_times_and_only_on_matching_requests(world: AdminWorld) -> None:
    added = await world.admin.post(
        "/admin/faults", json={"path_pattern": "/v1/projects", "method": "GET", "status": 503, "times": 2}
    )
    assert added.status_code == 201 and added.json()["remaining"] == 2
    async with world.client(BOOTSTRAP_KEY) as client:
        other = await client.get("/v1/flows/count", params={"projectId": "x"})
        assert other.status_code == 404  # another path: untouched
        created = await client.post("/v1/projects", json={"displayName": "During faults"})
        assert created.status_code == 201  # another method: untouched
        first = await client.get("/v1/projects")
        second = await client.get("/api/v1/projects")  # either prefix is the same route
        third = await client.get("/v1/projects")
    for response in (first, second):
        assert response.status_code == 503
        assert response.json() == {
            "statusCode": 503,
            "code": "SERVICE_UNAVAILABLE",
            "params": {"message": "Injected fault"},
        }
    assert third.status_code == 200
    assert [p["displayName"] for p in third.json()["data"] if p["type"] == "TEAM"] == ["During faults"]
    assert (await world.admin.get("/admin/faults")).json()[0]["remaining"] == 0


async def test_delays_and_custom_codes_and_clearing(world: AdminWorld) -> None:
    await world.admin.post("/admin/faults", json={"path_pattern": "/v1/projects/*", "delay_ms": 300})
    await world.admin.post(
        "/admin/faults",
        json={"path_pattern": "/v1/global-connections*", "status": 429, "code": "QUOTA_EXCEEDED", "times": 5},
    )
    async with world.client(BOOTSTRAP_KEY) as client:
        project_id = (await client.get("/v1/projects")).json()["data"][0]["id"]
        started = time.perf_counter()
        slow = await client.get(f"/v1/projects/{project_id}")
        assert slow.status_code == 200 and time.perf_counter() - started >= 0.3
        limited = await client.get("/v1/global-connections")
        assert limited.status_code == 429 and limited.json()["code"] == "QUOTA_EXCEEDED"
        assert (await world.admin.delete("/admin/faults")).status_code == 204
        assert (await client.get("/v1/global-connections")).status_code == 200
    nothing = await world.admin.post("/admin/faults", json={"path_pattern": "/v1/*"})
    assert nothing.status_code == 400


async def test_the_request_log_says_what_was_called_and_nothing_secret(world: AdminWorld) -> None:
    async with world.client(BOOTSTRAP_KEY) as client:
        project_id = (await client.get("/v1/projects")).json()["data"][0]["id"]
        await client.post(
            "/api/v1/global-connections",
            json={
                "displayName": "Secret",
                "pieceName": "@activepieces/piece-slack",
                "type": "SECRET_TEXT",
                "value": {"type": "SECRET_TEXT", "secret_text": "very-secret-value"},
                "scope": "PLATFORM",
                "projectIds": [project_id],
            },
            headers={"X-Request-Id": "log-me-1"},
        )
        await client.get("/v1/flows", params={"projectId": project_id, "name": "query-secret"})
    await world.anonymous.get("/docs")  # not an API path: not logged
    response = await world.admin.get("/admin/requests", params={"limit": 2})
    assert response.status_code == 200
    first, second = response.json()
    assert set(first) == {"method", "path", "status", "ms", "requestId", "bodySize"}
    assert (first["method"], first["path"], first["status"], first["requestId"]) == (
        "POST",
        "/api/v1/global-connections",
        201,
        "log-me-1",
    )
    assert first["bodySize"] > 0 and isinstance(first["ms"], float)
    assert (second["method"], second["path"], second["status"]) == ("GET", "/v1/flows", 200)
    everything = (await world.admin.get("/admin/requests", params={"limit": 1000})).text
    assert (
        "very-secret-value" not in everything and BOOTSTRAP_KEY not in everything and "query-secret" not in everything
    )


# --- the pytest fixture, used as a user would


def test_the_pytest_fixture_from_a_separate_test_file(tmp_path: Path) -> None:
    example = ROOT / "examples" / "test_with_openpieces.py"
    # The test-target page shows this very file.
    assert example.read_text().strip() in (ROOT / "docs" / "test-target.md").read_text()
    copy = tmp_path / "test_users_suite.py"
    copy.write_text(example.read_text())
    result = run_pytest(copy)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout


def test_the_context_manager_cleans_up() -> None:
    from app.testing import openpieces_server

    with openpieces_server(edition="PRO") as server:
        assert server.startup_seconds < 30
        listed = httpx.get(f"{server.api_url}/projects", headers={"Authorization": f"Bearer {server.api_key}"})
        assert listed.status_code == 200
        user = server.create_user("ada@example.com", firstName="Ada", externalId="ada-1")
        assert user["platformId"] == server.platform_id() and user["externalId"] == "ada-1"
        users = httpx.get(f"{server.api_url}/users", headers={"Authorization": f"Bearer {server.api_key}"}).json()
        assert user["id"] in [u["id"] for u in users["data"]]
        server.reset()
        data_dir = server.data_dir
    assert not data_dir.exists()
