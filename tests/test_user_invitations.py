"""User invitations through HTTP (documented answers): the answer and its link, the list and its
filters, deleting, the edition gate, bad input, tenancy, one invitation per email under
concurrency, an existing user accepted at once, and accepting a link through the admin API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from app.kit.config import Settings
from app.kit.db import Database
from app.main import create_app
from app.members.service import DEFAULT_ROLE_IDS
from tests.conftest import TEST_ENCRYPTION_KEY, Tenant, TenantFactory, personal_project_id
from tests.member_fixtures import insert_member, insert_user

ADMIN_TOKEN = "admin-token-for-invitation-tests-0123"
FEATURE_DISABLED = {"statusCode": 400, "code": "FEATURE_DISABLED", "params": {"message": "Feature is disabled"}}


def project_not_found(project_id: str) -> dict[str, object]:
    return {
        "statusCode": 404,
        "code": "ENTITY_NOT_FOUND",
        "params": {"entityType": "project", "entityId": project_id, "message": "Project not found"},
    }


def invitation_not_found(invitation_id: str | None) -> dict[str, object]:
    return {
        "statusCode": 404,
        "code": "ENTITY_NOT_FOUND",
        "params": {
            "entityType": "UserInvitation",
            "entityId": None if invitation_id is None else f"id={invitation_id}",
            "message": "User invitation not found",
        },
    }


@pytest.fixture(scope="module")
async def admin(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The admin API on the suite's database (a second app: the tenants' one has no admin token)."""
    application = create_app(
        Settings(
            database_url=database_url,
            run_migrations=False,
            encryption_key=TEST_ENCRYPTION_KEY,
            admin_token=ADMIN_TOKEN,
            log_requests=False,
            db_pool_size=2,
            db_max_overflow=2,
        )
    )
    async with application.router.lifespan_context(application):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=application),
            base_url="http://testserver",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        ) as client:
            yield client


async def invite_to_project(tenant: Tenant, project_id: str, email: str, role: str = "Editor") -> httpx.Response:
    body = {"type": "PROJECT", "email": email, "projectId": project_id, "projectRole": role}
    return await tenant.client.post("/v1/user-invitations", json=body)


async def listed(tenant: Tenant, **params: object) -> list[dict]:
    response = await tenant.client.get("/v1/user-invitations", params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


async def test_a_project_invitation_is_pending_with_its_role_and_link(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    response = await invite_to_project(tenant, project_id, " Ada@Example.com ")
    assert response.status_code == 201, response.text
    body = response.json()
    editor = (await tenant.client.get(f"/v1/project-roles/{DEFAULT_ROLE_IDS['Editor']}")).json()
    link = body.pop("link")
    assert body == {
        "id": body["id"],
        "created": body["created"],
        "updated": body["created"],
        "email": "ada@example.com",
        "status": "PENDING",
        "type": "PROJECT",
        "platformId": tenant.platform_id,
        "platformRole": None,
        "projectId": project_id,
        "projectRoleId": DEFAULT_ROLE_IDS["Editor"],
        "projectRole": editor,
    }
    assert link.startswith("http://testserver/invitation?token=")
    assert link.endswith("&email=ada%40example.com")
    assert [i["id"] for i in await listed(tenant, type="PROJECT")] == [body["id"]]
    assert await listed(tenant, type="PLATFORM") == []


async def test_a_platform_invitation_has_its_platform_role(tenant: Tenant) -> None:
    body = {"type": "PLATFORM", "email": "grace@example.com", "platformRole": "ADMIN"}
    response = await tenant.client.post("/v1/user-invitations", json=body)
    assert response.status_code == 201, response.text
    invitation = response.json()
    assert invitation["platformRole"] == "ADMIN"
    assert invitation["projectId"] is None and invitation["projectRole"] is None
    assert invitation["projectRoleId"] is None and invitation["status"] == "PENDING"
    assert [i["id"] for i in await listed(tenant, type="PLATFORM")] == [invitation["id"]]


async def test_list_filters_and_pages(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    ids = [(await invite_to_project(tenant, project_id, f"p{n}@example.com")).json()["id"] for n in range(3)]
    assert [i["id"] for i in await listed(tenant, type="PROJECT", projectId=project_id)] == ids
    assert [i["id"] for i in await listed(tenant, type="PROJECT", email="P1@example.com")] == [ids[1]]
    assert [i["id"] for i in await listed(tenant, type="PROJECT", status="PENDING")] == ids
    assert await listed(tenant, type="PROJECT", status="ACCEPTED") == []
    first = (await tenant.client.get("/v1/user-invitations", params={"type": "PROJECT", "limit": 2})).json()
    assert [i["id"] for i in first["data"]] == ids[:2] and first["previous"] is None
    rest = await tenant.client.get("/v1/user-invitations", params={"type": "PROJECT", "cursor": first["next"]})
    assert [i["id"] for i in rest.json()["data"]] == ids[2:]


async def test_inviting_again_updates_the_invitation(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    first = (await invite_to_project(tenant, project_id, "again@example.com", "Viewer")).json()
    second = (await invite_to_project(tenant, project_id, "AGAIN@example.com", "Admin")).json()
    [only] = await listed(tenant, type="PROJECT")
    assert only["id"] == second["id"] == first["id"] and only["projectRole"]["name"] == "Admin"
    assert token_of(first["link"]) != token_of(second["link"])


async def test_concurrent_invitations_of_one_email_make_one_row(tenant: Tenant, db: Database) -> None:
    project_id = await personal_project_id(tenant)
    responses = await asyncio.gather(*(invite_to_project(tenant, project_id, "race@example.com") for _ in range(8)))
    assert [r.status_code for r in responses] == [201] * 8
    async with db.fast_read() as conn:
        count = await conn.fetchval(
            "SELECT count(*) FROM user_invitation WHERE platform_id = $1 AND email = 'race@example.com'",
            tenant.platform_id,
        )
    assert count == 1


async def test_an_existing_user_is_accepted_at_once(tenant: Tenant, db: Database) -> None:
    project_id = await personal_project_id(tenant)
    user_id = await insert_user(db, tenant.platform_id)
    email = f"member+{user_id.lower()}@example.com"
    await insert_member(db, tenant.platform_id, project_id, user_id, role="Viewer")
    response = await invite_to_project(tenant, project_id, email.upper(), "Admin")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "ACCEPTED" and "link" not in body
    assert await listed(tenant, type="PROJECT") == []
    members = (await tenant.client.get("/v1/project-members", params={"projectId": project_id})).json()["data"]
    assert [(m["userId"], m["projectRoleId"]) for m in members] == [(user_id, DEFAULT_ROLE_IDS["Admin"])]

    platform = {"type": "PLATFORM", "email": email, "platformRole": "OPERATOR"}
    accepted = await tenant.client.post("/v1/user-invitations", json=platform)
    assert accepted.status_code == 201 and accepted.json()["status"] == "ACCEPTED"
    users = (await tenant.client.get("/v1/users")).json()["data"]
    assert {u["id"]: u["platformRole"] for u in users}[user_id] == "OPERATOR"


async def test_accepting_a_link_through_the_admin_api(tenant: Tenant, admin: httpx.AsyncClient) -> None:
    project_id = await personal_project_id(tenant)
    invitation = (await invite_to_project(tenant, project_id, "newbie@example.com", "Viewer")).json()
    platform = {"type": "PLATFORM", "email": "newbie@example.com", "platformRole": "ADMIN"}
    await tenant.client.post("/v1/user-invitations", json=platform)
    body = {"token": token_of(invitation["link"]), "firstName": "New", "lastName": "Bie", "externalId": "nb-1"}
    response = await admin.post("/admin/invitations/accept", json=body)
    assert response.status_code == 200, response.text
    accepted = response.json()
    user = accepted["user"]
    assert accepted["registered"] is True
    assert (user["email"], user["firstName"], user["externalId"]) == ("newbie@example.com", "New", "nb-1")
    assert user["personalProjectId"] is not None
    members = (await tenant.client.get("/v1/project-members", params={"projectId": project_id})).json()["data"]
    assert [(m["userId"], m["projectRoleId"]) for m in members] == [(user["id"], DEFAULT_ROLE_IDS["Viewer"])]
    assert await listed(tenant, type="PROJECT") == []
    # The link works once; the platform invitation is still pending.
    again = await admin.post("/admin/invitations/accept", json=body)
    assert (again.status_code, again.json()) == (404, invitation_not_found(None))
    assert len(await listed(tenant, type="PLATFORM")) == 1


async def test_delete(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    invitation = (await invite_to_project(tenant, project_id, "gone@example.com")).json()
    response = await tenant.client.delete(f"/v1/user-invitations/{invitation['id']}")
    assert response.status_code == 204
    assert await listed(tenant, type="PROJECT") == []
    again = await tenant.client.delete(f"/v1/user-invitations/{invitation['id']}")
    assert (again.status_code, again.json()) == (404, invitation_not_found(invitation["id"]))


async def test_project_invitations_need_project_roles(make_tenant: TenantFactory) -> None:
    tenant = await make_tenant(edition="COMMUNITY")
    project_id = await personal_project_id(tenant)
    response = await invite_to_project(tenant, project_id, "x@example.com")
    assert (response.status_code, response.json()) == (400, FEATURE_DISABLED)
    # A platform invitation needs no such feature.
    platform = {"type": "PLATFORM", "email": "x@example.com", "platformRole": "MEMBER"}
    assert (await tenant.client.post("/v1/user-invitations", json=platform)).status_code == 201


async def test_an_unknown_role_name(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    response = await invite_to_project(tenant, project_id, "x@example.com", "No Such Role")
    assert response.status_code == 404
    assert response.json()["params"]["entityType"] == "project_role"


@pytest.mark.sends_invalid_requests("bad input")
async def test_bad_input_names_every_problem(tenant: Tenant) -> None:
    response = await tenant.client.post("/v1/user-invitations", json={"type": "PROJECT", "email": "nope"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "VALIDATION"
    message = body["params"]["message"]
    for field in ("email", "projectId", "projectRole"):
        assert field in message, message
    unknown = await tenant.client.post("/v1/user-invitations", json={"type": "OTHER", "email": "a@b.c"})
    assert unknown.status_code == 400 and unknown.json()["code"] == "VALIDATION"
    platform = await tenant.client.post("/v1/user-invitations", json={"type": "PLATFORM", "email": "a@b.c"})
    assert platform.status_code == 400 and "platformRole" in platform.json()["params"]["message"]
    no_type = await tenant.client.get("/v1/user-invitations")
    assert no_type.status_code == 400 and "type" in no_type.json()["params"]["message"]
    bad = await tenant.client.get("/v1/user-invitations", params={"type": "PROJECT", "status": "X", "limit": 0})
    message = bad.json()["params"]["message"]
    assert bad.status_code == 400 and "status" in message and "limit" in message
    cursor = await tenant.client.get("/v1/user-invitations", params={"type": "PROJECT", "cursor": "garbage"})
    assert cursor.status_code == 400


async def test_another_platforms_invitations_and_projects_are_invisible(
    tenant: Tenant, make_tenant: TenantFactory
) -> None:
    other = await make_tenant()
    other_project_id = await personal_project_id(other)
    theirs = (await invite_to_project(other, other_project_id, "theirs@example.com")).json()
    assert await listed(tenant, type="PROJECT") == []
    response = await invite_to_project(tenant, other_project_id, "mine@example.com")
    assert (response.status_code, response.json()) == (404, project_not_found(other_project_id))
    listing = await tenant.client.get("/v1/user-invitations", params={"type": "PROJECT", "projectId": other_project_id})
    assert (listing.status_code, listing.json()) == (404, project_not_found(other_project_id))
    deleted = await tenant.client.delete(f"/v1/user-invitations/{theirs['id']}")
    assert (deleted.status_code, deleted.json()) == (404, invitation_not_found(theirs["id"]))
    assert [i["id"] for i in await listed(other, type="PROJECT")] == [theirs["id"]]
