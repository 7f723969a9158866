"""Small builders shared by the translated upstream tests (the upstream tests' mocks, as requests)."""

from __future__ import annotations

from typing import Any

from tests.conftest import Tenant, personal_project_id

SCHEDULE_PIECE = "@activepieces/piece-schedule"


async def a_project_id(tenant: Tenant) -> str:
    """The project the upstream test context comes with: the platform's PERSONAL project."""
    return await personal_project_id(tenant)


async def create_team_project(tenant: Tenant, display_name: str = "Team", **body: Any) -> dict[str, Any]:
    response = await tenant.client.post("/v1/projects", json={"displayName": display_name, **body})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def create_flow(tenant: Tenant, display_name: str = "test flow", **body: Any) -> dict[str, Any]:
    project_id = body.pop("projectId", None) or await a_project_id(tenant)
    response = await tenant.client.post(
        "/v1/flows", json={"displayName": display_name, "projectId": project_id, **body}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def operate(tenant: Tenant, flow_id: str, kind: str, request: dict[str, Any]) -> Any:
    return await tenant.client.post(f"/v1/flows/{flow_id}", json={"type": kind, "request": request})


def schedule_trigger(valid: bool = True) -> dict[str, Any]:
    return {
        "type": "PIECE_TRIGGER",
        "name": "trigger",
        "displayName": "Schedule",
        "valid": valid,
        "settings": {
            "pieceName": SCHEDULE_PIECE,
            "pieceVersion": "0.1.5",
            "triggerName": "every_hour",
            "input": {"run_on_weekends": False},
            "propertySettings": {"run_on_weekends": {"type": "MANUAL"}},
        },
    }


def code_action(name: str, display_name: str = "Code Step", returns: str = "true", **settings: Any) -> dict[str, Any]:
    return {
        "type": "CODE",
        "name": name,
        "displayName": display_name,
        "valid": True,
        "skip": False,
        "settings": {
            "input": {},
            "sourceCode": {"code": f"export const code = async () => {{ return {returns}; }}", "packageJson": "{}"},
            **settings,
        },
    }


async def published_flow(tenant: Tenant, status: str) -> dict[str, Any]:
    """A flow whose schedule-triggered version is published, left in `status` (the upstream tests
    save such a flow and version straight into the database)."""
    flow = await create_flow(tenant)
    assert (await operate(tenant, flow["id"], "UPDATE_TRIGGER", schedule_trigger())).status_code == 200
    published = await operate(tenant, flow["id"], "LOCK_AND_PUBLISH", {"status": status})
    assert published.status_code == 200, published.text
    return dict(published.json())


def secret_text_connection(project_ids: list[str], display_name: str = "test-global-connection") -> dict[str, Any]:
    return {
        "displayName": display_name,
        "pieceName": "@activepieces/piece-slack",
        "projectIds": project_ids,
        "scope": "PLATFORM",
        "type": "SECRET_TEXT",
        "value": {"type": "SECRET_TEXT", "secret_text": "test-secret-text"},
    }


async def create_global_connection(
    tenant: Tenant, project_ids: list[str], display_name: str = "conn"
) -> dict[str, Any]:
    response = await tenant.client.post(
        "/api/v1/global-connections", json=secret_text_connection(project_ids, display_name)
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def list_global_connections(tenant: Tenant) -> list[dict[str, Any]]:
    response = await tenant.client.get("/api/v1/global-connections", params={"limit": 100})
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


async def add_user(db: Any, tenant: Tenant, email: str | None = None, **fields: Any) -> dict[str, Any]:
    """A user of the tenant's platform, as the admin API makes one (the upstream tests' mockBasicUser)."""
    from app.kit.ids import new_id
    from app.users.schemas import NewUser
    from app.users.service import UserService

    new_user = NewUser.model_validate({"email": email or f"user-{new_id().lower()}@example.com", **fields})
    return await UserService(db).create(tenant.platform_id, new_user)
