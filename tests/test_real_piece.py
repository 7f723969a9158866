"""The real "Activepieces Platform" piece against a live `openpieces serve` (tests/real_piece/README.md).

The piece is not published on npm; it runs from its own source, copied in at test time and never
committed, with the connection a user would give it: this server's `/api/v1` as its Base URL and a
platform API key. Each of its project actions, and its custom API call on each people route (users,
project members, project roles, user invitations), must succeed and answer what the route answers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.npm_packages import NodeMissing
from tests.processes import running_server
from tests.real_piece import piece
from tests.real_piece.piece import api_call

pytestmark = pytest.mark.slow

PIECE_KEY = "sk-real-piece-0123456789abcdefghijklmnopqrst"
ADMIN_TOKEN = "real-piece-admin-token"


@dataclass
class LiveServer:
    base_url: str
    platform_id: str

    @property
    def api(self) -> str:
        """What a user types as the piece's Base URL."""
        return f"{self.base_url}/api/v1"

    def get(self, path: str, **params: str) -> Any:
        answer = httpx.get(f"{self.api}{path}", headers={"Authorization": f"Bearer {PIECE_KEY}"}, params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        answer = httpx.post(f"{self.api}{path}", headers={"Authorization": f"Bearer {PIECE_KEY}"}, json=body)
        assert answer.status_code in (200, 201), answer.text
        return answer.json()

    def new_user(self, email: str) -> dict[str, Any]:
        """A platform user, as if they had signed in (the real server makes users by sign-up)."""
        answer = httpx.post(
            f"{self.base_url}/admin/platforms/{self.platform_id}/users",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            json={"email": email, "firstName": "Real", "lastName": "Piece"},
        )
        assert answer.status_code == 201, answer.text
        return answer.json()

    def run(self, *calls: tuple[str, dict[str, Any]]) -> list[Any]:
        """Runs the piece's actions with a connection to this server; every one must succeed."""
        outcomes = piece.run(self.api, PIECE_KEY, *calls)
        failed = [(call[0], outcome.error) for call, outcome in zip(calls, outcomes, strict=True) if outcome.error]
        assert not failed, failed
        return [outcome.output for outcome in outcomes]


@pytest.fixture(scope="module")
def toolchain() -> None:
    try:
        piece.install()
    except NodeMissing as exc:
        pytest.fail(str(exc))  # a machine without node must not pass quietly


@pytest.fixture(scope="module")
def real_piece(toolchain: None) -> None:
    try:
        piece.provide_source()
    except piece.SourceMissing as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def server(real_piece: None, database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("real-piece")
    env = {
        "AP_DATABASE_URL": database_url,
        "AP_DATA_DIR": str(data_dir),
        "AP_BOOTSTRAP_API_KEY": PIECE_KEY,
        "AP_ADMIN_TOKEN": ADMIN_TOKEN,
    }
    with running_server(env) as base_url:
        headers = {"Authorization": f"Bearer {PIECE_KEY}"}
        page = httpx.get(f"{base_url}/v1/projects", headers=headers).json()
        yield LiveServer(base_url, page["data"][0]["platformId"])


def answered(output: Any) -> tuple[int, Any]:
    """The custom API call's output: the route's status and body (headers aside)."""
    return (output["status"], output["body"])


def test_the_project_actions(server: LiveServer) -> None:
    [created] = server.run(("create_project", {"display_name": "Made by the piece"}))
    assert (created["displayName"], created["type"], created["platformId"]) == (
        "Made by the piece",
        "TEAM",
        server.platform_id,
    )
    assert created == server.get(f"/projects/{created['id']}") | {"updated": created["updated"]}

    update = {"id": created["id"], "display_name": "Renamed by the piece", "notify_status": "ALWAYS", "team_members": 3}
    updated, listed = server.run(("update_project", update), ("list_project", {}))
    # The piece sends displayName and plan.teamMembers (a field the real plan no longer has, ignored).
    assert updated == server.get(f"/projects/{created['id']}")
    assert updated["displayName"] == "Renamed by the piece"
    assert listed == server.get("/projects")
    assert created["id"] in [project["id"] for project in listed["data"]]


def test_the_custom_api_call_on_users(server: LiveServer) -> None:
    user = server.new_user("piece-user@example.com")
    listed, changed = server.run(
        api_call("GET", "/users"),
        api_call("POST", f"/users/{user['id']}", body={"platformRole": "OPERATOR", "status": "INACTIVE"}),
    )
    status, page = answered(listed)
    assert status == 200
    assert user["id"] in [entry["id"] for entry in page["data"]]
    assert answered(changed)[0] == 200
    assert (answered(changed)[1]["platformRole"], answered(changed)[1]["status"]) == ("OPERATOR", "INACTIVE")

    [deleted] = server.run(api_call("DELETE", f"/users/{user['id']}"))
    assert deleted["status"] == 204
    assert user["id"] not in [entry["id"] for entry in server.get("/users")["data"]]


def test_the_custom_api_call_on_project_roles(server: LiveServer) -> None:
    listed, created = server.run(
        api_call("GET", "/project-roles"),
        api_call("POST", "/project-roles", body={"name": "Piece role", "permissions": ["READ_FLOW"], "type": "CUSTOM"}),
    )
    # Listed before the piece made its own role: the platform's default roles.
    status, page = answered(listed)
    assert (status, [(role["name"], role["type"]) for role in page["data"]]) == (
        200,
        [("Admin", "DEFAULT"), ("Editor", "DEFAULT"), ("Viewer", "DEFAULT")],
    )
    status, role = answered(created)
    assert (status, role["name"], role["permissions"], role["type"]) == (201, "Piece role", ["READ_FLOW"], "CUSTOM")

    fetched, renamed, members, deleted = server.run(
        api_call("GET", f"/project-roles/{role['id']}"),
        api_call("POST", f"/project-roles/{role['id']}", body={"name": "Piece role 2"}),
        api_call("GET", f"/project-roles/{role['id']}/project-members"),
        api_call("DELETE", "/project-roles/Piece role 2"),
    )
    assert answered(fetched) == (200, role)
    assert (answered(renamed)[0], answered(renamed)[1]["name"]) == (200, "Piece role 2")
    assert answered(members) == (200, {"data": [], "next": None, "previous": None})
    assert deleted["status"] == 200
    assert "Piece role 2" not in [entry["name"] for entry in server.get("/project-roles")["data"]]


def test_the_custom_api_call_on_invitations_and_project_members(server: LiveServer) -> None:
    project = server.post("/projects", {"displayName": "Invited to"})
    user = server.new_user("piece-member@example.com")
    invite_member = {"email": user["email"], "type": "PROJECT", "projectId": project["id"], "projectRole": "Editor"}
    invite_stranger = invite_member | {"email": "piece-stranger@example.com"}
    # An invitation of a platform user's email makes them a member at once; anyone else's waits.
    member_invited, stranger_invited, invitations, members = server.run(
        api_call("POST", "/user-invitations", body=invite_member),
        api_call("POST", "/user-invitations", body=invite_stranger),
        api_call("GET", "/user-invitations", query={"type": "PROJECT", "projectId": project["id"]}),
        api_call("GET", "/project-members", query={"projectId": project["id"]}),
    )
    assert (answered(member_invited)[0], answered(member_invited)[1]["status"]) == (201, "ACCEPTED")
    status, pending = answered(stranger_invited)
    assert (status, pending["status"], pending["email"]) == (201, "PENDING", "piece-stranger@example.com")
    assert answered(invitations) == (200, server.get("/user-invitations", type="PROJECT", projectId=project["id"]))
    assert [entry["email"] for entry in answered(invitations)[1]["data"]] == ["piece-stranger@example.com"]
    status, page = answered(members)
    assert status == 200
    [member] = [entry for entry in page["data"] if entry["userId"] == user["id"]]
    assert member["projectRole"]["name"] == "Editor"

    role_changed, revoked, removed = server.run(
        api_call("POST", f"/project-members/{member['id']}", body={"role": "Viewer"}),
        api_call("DELETE", f"/user-invitations/{pending['id']}"),
        api_call("DELETE", f"/project-members/{member['id']}"),
    )
    assert (answered(role_changed)[0], answered(role_changed)[1]["projectRoleId"]) == (
        200,
        member_role(server, "Viewer"),
    )
    assert (revoked["status"], removed["status"]) == (204, 204)
    assert user["id"] not in [
        entry["userId"] for entry in server.get("/project-members", projectId=project["id"])["data"]
    ]
    assert server.get("/user-invitations", type="PROJECT", projectId=project["id"])["data"] == []


def member_role(server: LiveServer, name: str) -> str:
    return next(role["id"] for role in server.get("/project-roles")["data"] if role["name"] == name)
