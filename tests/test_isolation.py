"""Tenant isolation, as a matrix: every route called with platform A's key on platform B's ids (in
the path, in bodies, in list filters) answers 404 or the real server's refusal, and B's data is
byte-for-byte the same afterwards."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import Tenant, TenantFactory

SECRET_VALUE = {"type": "SECRET_TEXT", "secret_text": "b-secret"}


@dataclass
class World:
    tenant: Tenant
    personal_id: str
    team_id: str
    flow_id: str
    version_id: str
    folder_id: str
    connection_id: str
    connection_external_id: str


async def build(tenant: Tenant, tag: str) -> World:
    client = tenant.client
    personal_id = (await client.get("/v1/projects", params={"types": "PERSONAL"})).json()["data"][0]["id"]
    team = (await client.post("/v1/projects", json={"displayName": f"Team {tag}", "externalId": f"team-{tag}"})).json()
    flow = (
        await client.post(
            "/v1/flows",
            json={"displayName": f"Flow {tag}", "projectId": team["id"], "folderName": f"Folder {tag}"},
        )
    ).json()
    connection = (
        await client.post(
            "/v1/global-connections",
            json={
                "displayName": f"Conn {tag}",
                "pieceName": "@activepieces/piece-slack",
                "type": "SECRET_TEXT",
                "value": SECRET_VALUE,
                "scope": "PLATFORM",
                "projectIds": [team["id"]],
                "externalId": f"conn-{tag}",
            },
        )
    ).json()
    return World(
        tenant=tenant,
        personal_id=personal_id,
        team_id=team["id"],
        flow_id=flow["id"],
        version_id=flow["version"]["id"],
        folder_id=flow["folderId"],
        connection_id=connection["id"],
        connection_external_id=connection["externalId"],
    )


async def snapshot(world: World) -> dict[str, Any]:
    """Everything B can see of itself, as B's own key reads it."""
    client = world.tenant.client
    projects = (await client.get("/v1/projects", params={"limit": 100})).json()
    state: dict[str, Any] = {"projects": projects, "flows": {}, "connections": None}
    for project in projects["data"]:
        state[project["id"]] = (await client.get(f"/v1/projects/{project['id']}")).json()
        flows = (await client.get("/v1/flows", params={"projectId": project["id"], "limit": 100})).json()
        state["flows"][project["id"]] = flows
        for flow in flows["data"]:
            state[flow["id"]] = (await client.get(f"/v1/flows/{flow['id']}")).json()
        folders = (await client.get("/v1/folders", params={"projectId": project["id"], "limit": 100})).json()
        state["folders"] = {**state.get("folders", {}), project["id"]: folders}
        for folder in folders["data"]:
            state[folder["id"]] = (await client.get(f"/v1/folders/{folder['id']}")).json()
    state["connections"] = (await client.get("/v1/global-connections", params={"limit": 100})).json()
    state["users"] = (await client.get("/v1/users", params={"limit": 100})).json()
    return state


@pytest.fixture
async def worlds(make_tenant: TenantFactory) -> tuple[World, World]:
    a = await build(await make_tenant(), "a")
    b = await build(await make_tenant(), "b")
    return a, b


def not_found(entity_type: str, entity_id: str, message: str) -> dict:
    return {
        "statusCode": 404,
        "code": "ENTITY_NOT_FOUND",
        "params": {"entityType": entity_type, "entityId": entity_id, "message": message},
    }


def step(name: str) -> dict:
    return {"name": name, "displayName": name, "type": "CODE", "settings": {}}


def calls(a: World, b: World) -> list[tuple[str, str, dict | None, dict | None, int, dict | None]]:
    """(method, path, query, body, expected status, expected body or None to check the envelope)."""
    project_404 = not_found("project", b.team_id, "Project not found")
    flow_404 = not_found("flow", b.flow_id, "Flow not found")
    connection_404 = not_found("app_connection", b.connection_id, "App connection not found")
    folder_404 = not_found("folder", b.folder_id, f"Folder {b.folder_id} is not found")
    flow_op = {"type": "CHANGE_NAME", "request": {"displayName": "Hijacked"}}
    connection_body = {
        "displayName": "Mine",
        "pieceName": "@activepieces/piece-slack",
        "type": "SECRET_TEXT",
        "value": {"type": "SECRET_TEXT", "secret_text": "a-secret"},
        "scope": "PLATFORM",
    }
    return [
        # projects by path
        ("GET", f"/v1/projects/{b.team_id}", None, None, 404, project_404),
        ("POST", f"/v1/projects/{b.team_id}", None, {"displayName": "Hijacked"}, 404, project_404),
        ("DELETE", f"/v1/projects/{b.team_id}", None, None, 404, project_404),
        ("DELETE", f"/v1/projects/{b.personal_id}", None, None, 404, None),
        # flows by path, and B's ids in A's flow operations
        ("GET", f"/v1/flows/{b.flow_id}", None, None, 404, flow_404),
        ("GET", f"/v1/flows/{b.flow_id}/template", None, None, 404, flow_404),
        ("POST", f"/v1/flows/{b.flow_id}", None, flow_op, 404, flow_404),
        ("DELETE", f"/v1/flows/{b.flow_id}", None, None, 404, flow_404),
        ("GET", f"/v1/flows/{a.flow_id}", {"versionId": b.version_id}, None, 404, None),
        ("POST", f"/v1/flows/{a.flow_id}", None, {"type": "USE_AS_DRAFT", "request": {"versionId": b.version_id}}, 404, None),  # noqa: E501
        ("POST", f"/v1/flows/{a.flow_id}", None, {"type": "CHANGE_FOLDER", "request": {"folderId": b.folder_id}}, 404, None),  # noqa: E501
        ("POST", f"/v1/flows/{a.flow_id}", None, {"type": "UPDATE_OWNER", "request": {"ownerId": b.tenant.owner_id}}, 404, None),  # noqa: E501
        # flows: B's project or folder in bodies and queries
        ("POST", "/v1/flows", None, {"displayName": "x", "projectId": b.team_id}, 404, project_404),
        ("POST", "/v1/flows", None, {"displayName": "x", "projectId": a.team_id, "folderId": b.folder_id}, 404, None),
        ("GET", "/v1/flows", {"projectId": b.team_id}, None, 404, project_404),
        ("GET", "/v1/flows/count", {"projectId": b.team_id}, None, 404, project_404),
        # folders by path, B's project in folder bodies and queries, B's folders in A's flow lists
        ("GET", f"/v1/folders/{b.folder_id}", None, None, 404, folder_404),
        ("POST", f"/v1/folders/{b.folder_id}", None, {"displayName": "Hijacked"}, 404, folder_404),
        ("DELETE", f"/v1/folders/{b.folder_id}", None, None, 404, folder_404),
        ("POST", "/v1/folders", None, {"displayName": "Folder b", "projectId": b.team_id}, 404, project_404),
        ("GET", "/v1/folders", {"projectId": b.team_id}, None, 404, project_404),
        ("GET", "/v1/flows", {"projectId": a.team_id, "folderId": b.folder_id}, None, 200, {"data": [], "next": None, "previous": None}),  # noqa: E501
        ("GET", "/v1/flows", {"projectId": a.team_id, "folderIds": [b.folder_id]}, None, 200, {"data": [], "next": None, "previous": None}),  # noqa: E501
        ("GET", "/v1/flows/count", {"projectId": a.team_id, "folderId": b.folder_id}, None, 200, 0),
        # connections by path, and B's projects in A's connections
        ("POST", f"/v1/global-connections/{b.connection_id}", None, {"displayName": "Hijacked"}, 404, connection_404),
        ("DELETE", f"/v1/global-connections/{b.connection_id}", None, None, 404, connection_404),
        ("POST", "/v1/global-connections", None, {**connection_body, "projectIds": [b.team_id]}, 404, project_404),
        (
            "POST",
            f"/v1/global-connections/{a.connection_id}",
            None,
            {"displayName": "Mine", "projectIds": [b.team_id]},
            404,
            project_404,
        ),
        # users by path (B's owner)
        ("POST", f"/v1/users/{b.tenant.owner_id}", None, {"platformRole": "MEMBER"}, 404, not_found("user", b.tenant.owner_id, "User not found")),  # noqa: E501
        ("DELETE", f"/v1/users/{b.tenant.owner_id}", None, None, 404, not_found("user", b.tenant.owner_id, "User not found")),  # noqa: E501
        # B's externalIds from A's side: A gets its own rows, never B's
        ("POST", "/v1/global-connections", None, {**connection_body, "externalId": b.connection_external_id, "projectIds": [a.team_id]}, 201, None),  # noqa: E501
        ("POST", "/v1/projects", None, {"displayName": "Linked", "globalConnectionExternalIds": ["conn-b"]}, 201, None),
        ("POST", f"/v1/projects/{a.team_id}", None, {"globalConnectionExternalIds": ["conn-b"]}, 200, None),
        ("POST", "/v1/projects", None, {"displayName": "Same key", "externalId": "team-b"}, 201, None),
        # list filters with B's values find nothing of B's
        ("GET", "/v1/projects", {"externalId": "team-b"}, None, 200, None),
        ("GET", "/v1/global-connections", {"displayName": "Conn b"}, None, 200, {"data": [], "next": None, "previous": None}),  # noqa: E501
        ("GET", "/v1/flows", {"projectId": a.team_id, "connectionExternalIds": "conn-b"}, None, 200, {"data": [], "next": None, "previous": None}),  # noqa: E501
    ]  # fmt: skip


async def test_platform_a_cannot_see_or_touch_platform_b(worlds: tuple[World, World]) -> None:
    a, b = worlds
    before = await snapshot(b)
    for method, path, query, body, status, expected in calls(a, b):
        response = await a.tenant.client.request(method, path, params=query, json=body)
        assert response.status_code == status, (method, path, body, response.text)
        answer = response.json() if response.content else None
        if expected is not None:
            assert answer == expected, (method, path, answer)
        if status >= 400:
            assert set(answer) == {"statusCode", "code", "params"}
        if status == 200 and method == "GET" and path == "/v1/projects":
            assert all(p["platformId"] == a.tenant.platform_id for p in answer["data"])
    assert await snapshot(b) == before
    # What A made with B's externalIds is A's alone.
    mine = (await a.tenant.client.get("/v1/global-connections", params={"limit": 100})).json()["data"]
    assert {c["platformId"] for c in mine} == {a.tenant.platform_id}
    assert "b-secret" not in str(mine)


@pytest.mark.parametrize("prefix", ["/v1", "/api/v1"])
async def test_unknown_ids_look_exactly_like_other_platforms_ids(worlds: tuple[World, World], prefix: str) -> None:
    a, b = worlds
    for kind, foreign in (("projects", b.team_id), ("flows", b.flow_id)):
        other = await a.tenant.client.get(f"{prefix}/{kind}/{foreign}")
        unknown = await a.tenant.client.get(f"{prefix}/{kind}/{'z' * 21}")
        assert other.status_code == unknown.status_code == 404
        assert other.json()["params"]["entityType"] == unknown.json()["params"]["entityType"]
        assert other.json()["params"]["message"] == unknown.json()["params"]["message"]
