"""`/v1/users`: a platform's users through its API key, with exact status codes and bodies (the
documented answers; `tests/upstream/` has the real server's), and what a user's rows mean to the
projects: their analytics and the `externalUserId` filter."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from sqlalchemy import text

from app.kit.db import Database
from app.kit.ids import new_id
from app.users.schemas import NewUser
from app.users.service import UserService
from tests.conftest import Tenant, TenantFactory

ID_RE = re.compile(r"^[0-9a-zA-Z]{21}$")
TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
USER_FIELDS = {
    "id", "email", "firstName", "lastName", "status", "externalId", "platformId", "platformRole", "created",
    "updated", "lastActiveDate", "imageUrl",
}  # fmt: skip


def validation(message: str) -> dict[str, Any]:
    return {"statusCode": 400, "code": "VALIDATION", "params": {"message": message}}


def not_found(user_id: str) -> dict[str, Any]:
    return {
        "statusCode": 404,
        "code": "ENTITY_NOT_FOUND",
        "params": {"entityType": "user", "entityId": user_id, "message": "User not found"},
    }


async def add_user(db: Database, tenant: Tenant, email: str | None = None, **fields: Any) -> dict[str, Any]:
    new_user = NewUser.model_validate({"email": email or f"u-{new_id().lower()}@example.com", **fields})
    return await UserService(db).create(tenant.platform_id, new_user)


async def all_users(tenant: Tenant, **params: Any) -> list[dict[str, Any]]:
    users: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = (
            await tenant.client.get("/v1/users", params={**params, **({"cursor": cursor} if cursor else {})})
        ).json()
        users += page["data"]
        cursor = page["next"]
        if cursor is None:
            return users


# --- shapes


async def test_a_user_has_the_real_fields(tenant: Tenant, db: Database) -> None:
    user = await add_user(db, tenant, "Ada@Example.com", firstName="Ada", lastName="Lovelace", externalId="ada-1")
    listed = (await tenant.client.get("/v1/users", params={"externalId": "ada-1"})).json()
    assert listed["next"] is None and listed["previous"] is None
    [body] = listed["data"]
    assert set(body) == USER_FIELDS
    assert body["id"] == user["id"] and ID_RE.match(body["id"])
    assert body["email"] == "Ada@Example.com"
    assert (body["firstName"], body["lastName"]) == ("Ada", "Lovelace")
    assert (body["status"], body["platformRole"]) == ("ACTIVE", "MEMBER")
    assert body["externalId"] == "ada-1" and body["platformId"] == tenant.platform_id
    assert TS_RE.match(body["created"]) and TS_RE.match(body["updated"])
    assert body["lastActiveDate"] is None and body["imageUrl"] is None


async def test_the_owner_is_listed_as_an_admin(tenant: Tenant) -> None:
    [owner] = (await tenant.client.get("/v1/users")).json()["data"]
    assert owner["id"] == tenant.owner_id
    assert (owner["platformRole"], owner["status"]) == ("ADMIN", "ACTIVE")


# --- list


async def test_list_pages_newest_first_with_cursors(tenant: Tenant, db: Database) -> None:
    made = [(await add_user(db, tenant, personalProject=False))["id"] for _ in range(5)]
    first = (await tenant.client.get("/v1/users", params={"limit": 2})).json()
    assert [user["id"] for user in first["data"]] == made[::-1][:2]
    assert first["previous"] is None and first["next"]
    second = (await tenant.client.get("/v1/users", params={"limit": 2, "cursor": first["next"]})).json()
    assert [user["id"] for user in second["data"]] == made[::-1][2:4]
    back = (await tenant.client.get("/v1/users", params={"limit": 2, "cursor": second["previous"]})).json()
    assert back["data"] == first["data"]
    assert [user["id"] for user in await all_users(tenant, limit=2)] == [*made[::-1], tenant.owner_id]


async def test_list_by_external_id(tenant: Tenant, db: Database) -> None:
    wanted = await add_user(db, tenant, externalId="wanted")
    await add_user(db, tenant, externalId="other")
    listed = (await tenant.client.get("/v1/users", params={"externalId": "wanted"})).json()["data"]
    assert [user["id"] for user in listed] == [wanted["id"]]
    assert (await tenant.client.get("/v1/users", params={"externalId": "nobody"})).json()["data"] == []


async def test_unknown_query_parameters_are_ignored(tenant: Tenant) -> None:
    response = await tenant.client.get("/v1/users", params={"platformId": new_id(), "email": "x@example.com"})
    assert response.status_code == 200
    assert [user["id"] for user in response.json()["data"]] == [tenant.owner_id]


async def test_list_never_shows_another_platforms_users(make_tenant: TenantFactory, db: Database) -> None:
    mine, other = await make_tenant(), await make_tenant()
    theirs = await add_user(db, other, externalId="shared-ext")
    ours = await add_user(db, mine, externalId="shared-ext")
    listed = await all_users(mine)
    assert theirs["id"] not in {user["id"] for user in listed}
    assert [
        u["id"] for u in (await mine.client.get("/v1/users", params={"externalId": "shared-ext"})).json()["data"]
    ] == [ours["id"]]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": "0"}, "querystring/limit must be >= 1"),
        ({"limit": "ten"}, "querystring/limit must be integer"),
        ({"cursor": "not-a-cursor"}, "querystring/cursor is not a valid cursor"),
    ],
)
async def test_bad_list_queries_are_400(tenant: Tenant, params: dict[str, str], message: str) -> None:
    response = await tenant.client.get("/v1/users", params=params)
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION"
    assert response.json()["params"]["message"] == message


# --- update


async def test_update_role_status_and_external_id(tenant: Tenant, db: Database) -> None:
    user = await add_user(db, tenant)
    response = await tenant.client.post(
        f"/v1/users/{user['id']}", json={"platformRole": "OPERATOR", "status": "INACTIVE", "externalId": "e-9"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["platformRole"], body["status"], body["externalId"]) == ("OPERATOR", "INACTIVE", "e-9")
    assert body["updated"] >= user["updated"]
    [listed] = (await tenant.client.get("/v1/users", params={"externalId": "e-9"})).json()["data"]
    assert listed == body


async def test_an_empty_update_changes_nothing_and_unknown_fields_are_ignored(tenant: Tenant, db: Database) -> None:
    user = await add_user(db, tenant, externalId="keep")
    response = await tenant.client.post(f"/v1/users/{user['id']}", json={"email": "new@example.com"})
    assert response.status_code == 200
    body = response.json()
    assert body["email"] == user["email"] and body["externalId"] == "keep"


async def test_the_owner_may_change_role_but_not_be_deactivated(tenant: Tenant) -> None:
    response = await tenant.client.post(f"/v1/users/{tenant.owner_id}", json={"status": "INACTIVE"})
    assert response.status_code == 400
    assert response.json() == validation("Admin cannot be deactivated")
    ok = await tenant.client.post(f"/v1/users/{tenant.owner_id}", json={"status": "ACTIVE", "externalId": "boss"})
    assert ok.status_code == 200 and ok.json()["externalId"] == "boss"


async def test_a_taken_external_id_is_refused(tenant: Tenant, db: Database) -> None:
    await add_user(db, tenant, externalId="taken")
    user = await add_user(db, tenant)
    response = await tenant.client.post(f"/v1/users/{user['id']}", json={"externalId": "taken"})
    assert response.status_code == 400
    assert response.json() == validation("A user with externalId 'taken' already exists on this platform")


async def test_update_of_another_platforms_user_is_404_and_changes_nothing(
    make_tenant: TenantFactory, db: Database
) -> None:
    mine, other = await make_tenant(), await make_tenant()
    theirs = await add_user(db, other)
    response = await mine.client.post(f"/v1/users/{theirs['id']}", json={"status": "INACTIVE"})
    assert response.status_code == 404
    assert response.json() == not_found(theirs["id"])
    response = await mine.client.post(f"/v1/users/{other.owner_id}", json={"platformRole": "MEMBER"})
    assert response.json() == not_found(other.owner_id)
    [still] = [u for u in await all_users(other) if u["id"] == theirs["id"]]
    assert still["status"] == "ACTIVE"


@pytest.mark.sends_invalid_requests("each body is one the real UpdateUserRequestBody refuses")
@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"status": "DELETED"}, "body/status must be equal to one of the allowed values"),
        ({"platformRole": "OWNER"}, "body/platformRole must be equal to one of the allowed values"),
        ({"externalId": 5}, "body/externalId must be string"),
        (
            {"status": "x", "platformRole": "y"},
            "body/status must be equal to one of the allowed values, "
            "body/platformRole must be equal to one of the allowed values",
        ),
    ],
)
async def test_bad_update_bodies_are_400_naming_each_problem(
    tenant: Tenant, db: Database, body: dict[str, Any], message: str
) -> None:
    user = await add_user(db, tenant)
    response = await tenant.client.post(f"/v1/users/{user['id']}", json=body)
    assert response.status_code == 400
    assert response.json() == validation(message)


@pytest.mark.parametrize("method", ["POST", "DELETE"])
async def test_a_path_id_that_is_not_an_id_is_400(tenant: Tenant, method: str) -> None:
    response = await tenant.client.request(method, "/v1/users/not-an-id", json={} if method == "POST" else None)
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION"


async def test_users_need_an_api_key(anonymous: Any) -> None:
    for method, path in (("GET", "/v1/users"), ("POST", f"/v1/users/{new_id()}"), ("DELETE", f"/v1/users/{new_id()}")):
        response = await anonymous.request(method, path, json={} if method == "POST" else None)
        assert response.status_code == 401


# --- delete


async def test_delete_takes_the_personal_project_flows_and_memberships_along(tenant: Tenant, db: Database) -> None:
    team = (await tenant.client.post("/v1/projects", json={"displayName": "Team"})).json()
    user = await add_user(db, tenant, externalId="leaver", projects=[{"projectId": team["id"], "projectRole": "ADMIN"}])
    personal = user["personalProjectId"]
    flow = await tenant.client.post("/v1/flows", json={"displayName": "mine", "projectId": personal})
    assert flow.status_code == 201
    team_flow = (await tenant.client.post("/v1/flows", json={"displayName": "team's", "projectId": team["id"]})).json()

    assert (await tenant.client.delete(f"/v1/users/{user['id']}")).status_code == 204

    assert (await tenant.client.get(f"/v1/projects/{personal}")).status_code == 404
    assert (await tenant.client.get(f"/v1/flows/{flow.json()['id']}")).status_code == 404
    kept = (await tenant.client.get(f"/v1/projects/{team['id']}")).json()
    assert kept["ownerId"] == tenant.owner_id and kept["analytics"]["totalUsers"] == 0
    assert (await tenant.client.get(f"/v1/flows/{team_flow['id']}")).status_code == 200
    assert (await tenant.client.get("/v1/projects", params={"externalUserId": "leaver"})).json()["data"] == []
    async with db.read() as conn:
        rows = await conn.scalar(text("SELECT count(*) FROM project_member WHERE user_id = :u"), {"u": user["id"]})
    assert rows == 0
    # Gone: a second delete, and an update, are 404.
    assert (await tenant.client.delete(f"/v1/users/{user['id']}")).json() == not_found(user["id"])
    assert (await tenant.client.post(f"/v1/users/{user['id']}", json={})).json() == not_found(user["id"])


async def test_a_flow_a_deleted_user_owned_stays_with_no_owner(tenant: Tenant, db: Database) -> None:
    team = (await tenant.client.post("/v1/projects", json={"displayName": "Flows"})).json()
    user = await add_user(db, tenant, projects=[{"projectId": team["id"]}])
    flow = (await tenant.client.post("/v1/flows", json={"displayName": "theirs", "projectId": team["id"]})).json()
    owned = await tenant.client.post(
        f"/v1/flows/{flow['id']}", json={"type": "UPDATE_OWNER", "request": {"ownerId": user["id"]}}
    )
    assert owned.status_code == 200 and owned.json()["ownerId"] == user["id"]
    assert (await tenant.client.delete(f"/v1/users/{user['id']}")).status_code == 204
    kept = await tenant.client.get(f"/v1/flows/{flow['id']}")
    assert kept.status_code == 200 and kept.json()["ownerId"] is None
    # The deleted user can no longer be given a flow.
    again = await tenant.client.post(
        f"/v1/flows/{flow['id']}", json={"type": "UPDATE_OWNER", "request": {"ownerId": user["id"]}}
    )
    assert again.status_code == 404 and again.json()["params"]["entityType"] == "user"


async def test_a_team_project_a_deleted_user_owned_stays_with_the_platform_owner(tenant: Tenant, db: Database) -> None:
    user = await add_user(db, tenant, personalProject=False)
    team = (await tenant.client.post("/v1/projects", json={"displayName": "Handed over"})).json()
    async with db.transaction() as conn:
        await conn.execute(text("UPDATE project SET owner_id = :u WHERE id = :p"), {"u": user["id"], "p": team["id"]})
    assert (await tenant.client.delete(f"/v1/users/{user['id']}")).status_code == 204
    kept = await tenant.client.get(f"/v1/projects/{team['id']}")
    assert kept.status_code == 200 and kept.json()["ownerId"] == tenant.owner_id


async def test_a_deleted_users_team_project_keeps_its_flows_and_stays_listed(tenant: Tenant, db: Database) -> None:
    user = await add_user(db, tenant, personalProject=False)
    team = (await tenant.client.post("/v1/projects", json={"displayName": "Kept with its flows"})).json()
    flow = await tenant.client.post("/v1/flows", json={"displayName": "Kept", "projectId": team["id"]})
    assert flow.status_code == 201
    async with db.transaction() as conn:
        await conn.execute(text("UPDATE project SET owner_id = :u WHERE id = :p"), {"u": user["id"], "p": team["id"]})
    assert (await tenant.client.delete(f"/v1/users/{user['id']}")).status_code == 204
    listed = (await tenant.client.get("/v1/projects", params={"types": "TEAM"})).json()["data"]
    assert team["id"] in [p["id"] for p in listed]
    assert (await tenant.client.get(f"/v1/flows/{flow.json()['id']}")).status_code == 200


async def test_delete_of_another_platforms_user_is_404_and_deletes_nothing(
    make_tenant: TenantFactory, db: Database
) -> None:
    mine, other = await make_tenant(), await make_tenant()
    theirs = await add_user(db, other)
    for user_id in (theirs["id"], other.owner_id, new_id()):
        response = await mine.client.delete(f"/v1/users/{user_id}")
        assert response.status_code == 404
        assert response.json() == not_found(user_id)
    assert {u["id"] for u in await all_users(other)} == {theirs["id"], other.owner_id}


async def test_the_owner_cannot_be_deleted(tenant: Tenant) -> None:
    response = await tenant.client.delete(f"/v1/users/{tenant.owner_id}")
    assert response.status_code == 400
    assert response.json() == validation("Platform owner cannot be deleted")
    assert [u["id"] for u in await all_users(tenant)] == [tenant.owner_id]


async def test_concurrent_deletes_and_updates_of_one_user(tenant: Tenant, db: Database) -> None:
    user = await add_user(db, tenant)
    calls = [tenant.client.delete(f"/v1/users/{user['id']}") for _ in range(5)]
    calls += [tenant.client.post(f"/v1/users/{user['id']}", json={"status": "INACTIVE"}) for _ in range(5)]
    responses = await asyncio.gather(*calls)
    deletes, updates = responses[:5], responses[5:]
    assert sorted(r.status_code for r in deletes) == [204, 404, 404, 404, 404]
    assert all(r.status_code in (200, 404) for r in updates)
    assert [u["id"] for u in await all_users(tenant)] == [tenant.owner_id]


async def test_one_email_and_one_external_id_per_platform_under_concurrent_creates(
    tenant: Tenant, db: Database
) -> None:
    from app.users.service import ExistingUser, UserExternalIdTaken

    async def create(index: int) -> object:
        try:
            return await add_user(db, tenant, f"Same{index % 2}@example.com".lower(), externalId=f"ext-{index}")
        except ExistingUser as exc:
            return exc

    outcomes = await asyncio.gather(*(create(i) for i in range(10)))
    assert sum(isinstance(o, dict) for o in outcomes) == 2
    assert sum(isinstance(o, ExistingUser) for o in outcomes) == 8

    async def same_external(index: int) -> object:
        try:
            return await add_user(db, tenant, externalId="one-ext")
        except UserExternalIdTaken as exc:
            return exc

    outcomes = await asyncio.gather(*(same_external(i) for i in range(10)))
    assert sum(isinstance(o, dict) for o in outcomes) == 1
    assert len(await all_users(tenant)) == 4


# --- what the projects read of a platform's users


async def test_project_analytics_count_members_and_active_ones(tenant: Tenant, db: Database) -> None:
    team = (await tenant.client.post("/v1/projects", json={"displayName": "Counted"})).json()
    assert (team["analytics"]["totalUsers"], team["analytics"]["activeUsers"]) == (0, 0)
    membership = [{"projectId": team["id"]}]
    active = await add_user(db, tenant, projects=membership)
    await add_user(db, tenant, projects=membership, status="INACTIVE")
    analytics = (await tenant.client.get(f"/v1/projects/{team['id']}")).json()["analytics"]
    assert (analytics["totalUsers"], analytics["activeUsers"]) == (2, 1)
    # Deactivating a user takes them out of activeUsers; activating brings them back.
    await tenant.client.post(f"/v1/users/{active['id']}", json={"status": "INACTIVE"})
    analytics = (await tenant.client.get(f"/v1/projects/{team['id']}")).json()["analytics"]
    assert (analytics["totalUsers"], analytics["activeUsers"]) == (2, 0)
    await tenant.client.post(f"/v1/users/{active['id']}", json={"status": "ACTIVE"})
    listed = (await tenant.client.get("/v1/projects", params={"types": "TEAM"})).json()["data"]
    [counted] = [p for p in listed if p["id"] == team["id"]]
    assert (counted["analytics"]["totalUsers"], counted["analytics"]["activeUsers"]) == (2, 1)


async def test_projects_by_external_user_id_follow_the_users_rows(tenant: Tenant, db: Database) -> None:
    team = (await tenant.client.post("/v1/projects", json={"displayName": "Shared"})).json()
    user = await add_user(db, tenant, externalId="ext-user", projects=[{"projectId": team["id"]}])
    listed = (await tenant.client.get("/v1/projects", params={"externalUserId": "ext-user"})).json()["data"]
    assert {p["id"] for p in listed} == {team["id"], user["personalProjectId"]}
    # A new externalId moves the filter with it.
    await tenant.client.post(f"/v1/users/{user['id']}", json={"externalId": "renamed"})
    assert (await tenant.client.get("/v1/projects", params={"externalUserId": "ext-user"})).json()["data"] == []
    listed = (await tenant.client.get("/v1/projects", params={"externalUserId": "renamed"})).json()["data"]
    assert {p["id"] for p in listed} == {team["id"], user["personalProjectId"]}


async def test_external_user_id_of_another_platform_finds_nothing(make_tenant: TenantFactory, db: Database) -> None:
    mine, other = await make_tenant(), await make_tenant()
    await add_user(db, other, externalId="theirs")
    assert (await mine.client.get("/v1/projects", params={"externalUserId": "theirs"})).json()["data"] == []
