"""`/v1/projects`: every rule, with exact status codes and bodies."""

import asyncio
import re

import pytest
from sqlalchemy import text

from tests.conftest import Tenant, TenantFactory

ID_RE = re.compile(r"^[0-9a-zA-Z]{21}$")
TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
COLORS = {
    "RED", "BLUE", "YELLOW", "PURPLE", "GREEN", "PINK", "VIOLET", "ORANGE", "DARK_GREEN", "CYAN", "LAVENDER",
    "DEEP_ORANGE",
}  # fmt: skip


def validation(message: str) -> dict:
    return {"statusCode": 400, "code": "VALIDATION", "params": {"message": message}}


def not_found(project_id: str) -> dict:
    return {
        "statusCode": 404,
        "code": "ENTITY_NOT_FOUND",
        "params": {"entityType": "project", "entityId": project_id, "message": "Project not found"},
    }


async def create(tenant: Tenant, **body) -> dict:
    response = await tenant.client.post("/v1/projects", json={"displayName": "Project", **body})
    assert response.status_code == 201, response.text
    return response.json()


async def personal_project(tenant: Tenant) -> dict:
    page = (await tenant.client.get("/v1/projects", params={"types": "PERSONAL"})).json()
    assert len(page["data"]) == 1
    return page["data"][0]


# --- create


async def test_create_returns_the_full_project(tenant: Tenant) -> None:
    response = await tenant.client.post(
        "/v1/projects",
        json={"displayName": "Sales Team", "externalId": "ext_sales_01", "maxConcurrentJobs": 5, "metadata": {"a": 1}},
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {
        "id", "created", "updated", "ownerId", "displayName", "platformId", "type", "externalId", "metadata",
        "maxConcurrentJobs", "releasesEnabled", "icon", "notifyStatus", "poolId", "plan", "usage", "analytics",
        # The newest real Project's fields.
        "notifyFlowOwnerOnFailure", "pieceSetId", "workerGroupId", "executionDataRetentionDays", "sensitive",
    }  # fmt: skip
    assert ID_RE.match(body["id"])
    assert TS_RE.match(body["created"]) and TS_RE.match(body["updated"])
    assert body["ownerId"] == tenant.owner_id
    assert body["platformId"] == tenant.platform_id
    assert body["displayName"] == "Sales Team"
    assert body["type"] == "TEAM"
    assert body["externalId"] == "ext_sales_01"
    assert body["metadata"] == {"a": 1}
    assert body["maxConcurrentJobs"] == 5
    assert body["releasesEnabled"] is False
    assert body["icon"]["color"] in COLORS
    assert body["notifyStatus"] == "NEVER"
    assert body["poolId"] is None
    # The newest real defaults (project.entity.ts, project.ts).
    assert (body["notifyFlowOwnerOnFailure"], body["sensitive"]) == (False, False)
    assert (body["pieceSetId"], body["workerGroupId"], body["executionDataRetentionDays"]) == (None, None, None)
    plan = body["plan"]
    assert set(plan) == {
        "id", "created", "updated", "projectId", "name", "locked", "piecesFilterType", "pieces", "tasks", "aiCredits",
        "activeFlowsLimit",
    }  # fmt: skip
    assert plan["activeFlowsLimit"] is None
    assert ID_RE.match(plan["id"]) and plan["id"] != body["id"]
    assert plan["projectId"] == body["id"]
    assert (plan["locked"], plan["piecesFilterType"], plan["pieces"]) == (False, "NONE", [])
    assert set(body["usage"]) == {"tasks", "aiCredits", "nextLimitResetDate"}
    assert TS_RE.match(body["usage"]["nextLimitResetDate"])
    # No members (the real server does not make the owner one) and no flows yet.
    assert body["analytics"] == {
        "totalUsers": 0, "activeUsers": 0, "totalFlows": 0, "activeFlows": 0, "lastFlowUpdated": None,
    }  # fmt: skip


async def test_create_minimal_defaults(tenant: Tenant) -> None:
    body = await create(tenant, displayName="Only a name")
    assert (body["externalId"], body["metadata"], body["maxConcurrentJobs"]) == (None, None, None)


@pytest.mark.sends_invalid_requests("each body is one the real CreatePlatformProjectRequest refuses")
@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "body must have required property 'displayName'"),
        ({"displayName": "a.b"}, 'body/displayName must match pattern "^[^./]+$"'),
        ({"displayName": "a/b"}, 'body/displayName must match pattern "^[^./]+$"'),
        ({"displayName": ""}, 'body/displayName must match pattern "^[^./]+$"'),
        ({"displayName": 12}, "body/displayName must be string"),
        ({"displayName": "ok", "maxConcurrentJobs": 0}, "body/maxConcurrentJobs must be > 0"),
        ({"displayName": "ok", "maxConcurrentJobs": -3}, "body/maxConcurrentJobs must be > 0"),
        (
            {"displayName": "ok", "maxConcurrentJobs": 9007199254740992},
            "body/maxConcurrentJobs must be <= 9007199254740991",
        ),
        ({"displayName": "ok", "maxConcurrentJobs": 1.5}, "body/maxConcurrentJobs must be integer"),
        ({"displayName": "ok", "maxConcurrentJobs": "many"}, "body/maxConcurrentJobs must be integer"),
        ({"displayName": "ok", "metadata": [1]}, "body/metadata must be object"),
        ({"displayName": "ok", "externalId": 5}, "body/externalId must be string"),
        ({"displayName": "ok", "globalConnectionExternalIds": "x"}, "body/globalConnectionExternalIds must be array"),
    ],
)
async def test_create_validation(tenant: Tenant, body: dict, message: str) -> None:
    response = await tenant.client.post("/v1/projects", json=body)
    assert response.status_code == 400
    assert response.json() == validation(message)


@pytest.mark.sends_invalid_requests("sends bodies that are not JSON objects")
async def test_create_rejects_non_json_and_non_object_bodies(tenant: Tenant) -> None:
    not_json = await tenant.client.post("/v1/projects", content=b"{nope", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 400
    assert not_json.json() == validation("body must be valid JSON")
    array = await tenant.client.post("/v1/projects", json=[1, 2])
    assert array.status_code == 400
    assert array.json()["code"] == "VALIDATION"
    listing = (await tenant.client.get("/v1/projects", params={"types": "TEAM"})).json()
    assert listing["data"] == []


async def test_create_max_concurrent_jobs_bounds_accepted(tenant: Tenant) -> None:
    assert (await create(tenant, maxConcurrentJobs=9007199254740991))["maxConcurrentJobs"] == 9007199254740991
    assert (await create(tenant, maxConcurrentJobs=1))["maxConcurrentJobs"] == 1
    assert (await create(tenant, maxConcurrentJobs=None))["maxConcurrentJobs"] is None


async def test_create_ignores_unknown_fields_and_always_makes_team(tenant: Tenant) -> None:
    body = await create(tenant, type="PERSONAL", platformId="x" * 21, ownerId="y", bogus=True)
    assert body["type"] == "TEAM"
    assert body["platformId"] == tenant.platform_id
    assert "bogus" not in body


async def test_duplicate_external_id_is_refused_within_a_platform_only(make_tenant: TenantFactory) -> None:
    a, b = await make_tenant(), await make_tenant()
    await create(a, externalId="tenant-1")
    duplicate = await a.client.post("/v1/projects", json={"displayName": "Again", "externalId": "tenant-1"})
    assert duplicate.status_code == 409
    assert duplicate.json() == {
        "statusCode": 409,
        "code": "PROJECT_EXTERNAL_ID_ALREADY_EXISTS",
        "params": {"externalId": "tenant-1"},
    }
    # Another platform may use the same externalId.
    await create(b, externalId="tenant-1")


# --- edition limits


async def test_community_edition_cannot_create_team_projects(make_tenant: TenantFactory) -> None:
    tenant = await make_tenant("COMMUNITY")
    response = await tenant.client.post("/v1/projects", json={"displayName": "Team"})
    assert response.status_code == 400
    assert response.json() == validation("Team projects are not available on your current plan")


async def test_pro_edition_allows_exactly_one_team_project(make_tenant: TenantFactory) -> None:
    tenant = await make_tenant("PRO")
    await create(tenant)
    response = await tenant.client.post("/v1/projects", json={"displayName": "Second"})
    assert response.status_code == 400
    assert response.json() == {
        "statusCode": 400,
        "code": "FEATURE_DISABLED",
        "params": {
            "message": "Maximum limit of 1 team project reached for this plan. "
            "Upgrade your plan to add more team projects."
        },
    }


async def test_pro_limit_holds_under_20_concurrent_creates(make_tenant: TenantFactory) -> None:
    tenant = await make_tenant("PRO")
    responses = await asyncio.gather(
        *(tenant.client.post("/v1/projects", json={"displayName": f"Race {i}"}) for i in range(20))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [400] * 19
    assert {r.json()["code"] for r in responses if r.status_code == 400} == {"FEATURE_DISABLED"}
    team = (await tenant.client.get("/v1/projects", params={"types": "TEAM"})).json()["data"]
    assert len(team) == 1


async def test_external_id_unique_under_concurrent_creates(tenant: Tenant) -> None:
    responses = await asyncio.gather(
        *(tenant.client.post("/v1/projects", json={"displayName": f"P{i}", "externalId": "same"}) for i in range(15))
    )
    assert sorted(r.status_code for r in responses) == [201] + [409] * 14
    found = (await tenant.client.get("/v1/projects", params={"externalId": "same"})).json()["data"]
    assert len(found) == 1


async def test_enterprise_edition_is_unlimited(tenant: Tenant) -> None:
    for i in range(3):
        await create(tenant, displayName=f"Team {i}")
    assert len((await tenant.client.get("/v1/projects", params={"types": "TEAM"})).json()["data"]) == 3


# --- get


async def test_get_returns_what_create_returned(tenant: Tenant) -> None:
    created = await create(tenant, externalId="g1", metadata={"k": "v"})
    response = await tenant.client.get(f"/v1/projects/{created['id']}")
    assert response.status_code == 200
    assert response.json() == created


async def test_get_unknown_and_malformed_ids(tenant: Tenant) -> None:
    missing = "a" * 21
    response = await tenant.client.get(f"/v1/projects/{missing}")
    assert response.status_code == 404
    assert response.json() == not_found(missing)
    malformed = await tenant.client.get("/v1/projects/short")
    assert malformed.status_code == 400
    assert malformed.json() == validation('params/id must match pattern "^[0-9a-zA-Z]{21}$"')


# --- update


async def test_update_applies_each_field(tenant: Tenant) -> None:
    project = await create(tenant, externalId="before", metadata={"old": True}, maxConcurrentJobs=3)
    response = await tenant.client.post(
        f"/v1/projects/{project['id']}",
        json={
            "displayName": "Sales & Marketing",
            "releasesEnabled": True,
            "externalId": "after",
            "metadata": {"new": 1},
            "icon": {"color": "BLUE"},
            "plan": {"piecesFilterType": "ALLOWED", "pieces": ["@activepieces/piece-slack"]},
            "maxConcurrentJobs": 10,
            "unknownField": "ignored",
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["displayName"] == "Sales & Marketing"
    assert body["releasesEnabled"] is True
    assert body["externalId"] == "after"
    assert body["metadata"] == {"new": 1}
    assert body["icon"] == {"color": "BLUE"}
    assert body["plan"]["piecesFilterType"] == "ALLOWED"
    assert body["plan"]["pieces"] == ["@activepieces/piece-slack"]
    assert body["maxConcurrentJobs"] == 10
    assert body["updated"] >= project["updated"]
    assert (await tenant.client.get(f"/v1/projects/{project['id']}")).json() == body


async def test_update_is_partial(tenant: Tenant) -> None:
    project = await create(tenant, externalId="keep", metadata={"keep": 1}, maxConcurrentJobs=7)
    await tenant.client.post(
        f"/v1/projects/{project['id']}", json={"plan": {"piecesFilterType": "ALLOWED", "pieces": ["a"]}}
    )
    body = (await tenant.client.post(f"/v1/projects/{project['id']}", json={"plan": {"pieces": ["b", "c"]}})).json()
    assert (body["externalId"], body["metadata"], body["maxConcurrentJobs"]) == ("keep", {"keep": 1}, 7)
    assert body["displayName"] == project["displayName"]
    assert body["plan"]["piecesFilterType"] == "ALLOWED"
    assert body["plan"]["pieces"] == ["b", "c"]
    unchanged = (await tenant.client.post(f"/v1/projects/{project['id']}", json={})).json()
    assert unchanged["plan"] == body["plan"]
    cleared = (await tenant.client.post(f"/v1/projects/{project['id']}", json={"maxConcurrentJobs": None})).json()
    assert cleared["maxConcurrentJobs"] is None


@pytest.mark.sends_invalid_requests("each body is one the real UpdateProjectPlatformRequest refuses")
@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"displayName": "no.dots"}, 'body/displayName must match pattern "^[^./]+$"'),
        ({"maxConcurrentJobs": 0}, "body/maxConcurrentJobs must be > 0"),
        ({"icon": {"color": "MAUVE"}}, "body/icon/color must be equal to one of the allowed values"),
        (
            {"plan": {"piecesFilterType": "SOME"}},
            "body/plan/piecesFilterType must be equal to one of the allowed values",
        ),
        ({"plan": {"pieces": "slack"}}, "body/plan/pieces must be array"),
        ({"releasesEnabled": "perhaps"}, "body/releasesEnabled must be boolean"),
    ],
)
async def test_update_validation(tenant: Tenant, body: dict, message: str) -> None:
    project = await create(tenant)
    response = await tenant.client.post(f"/v1/projects/{project['id']}", json=body)
    assert response.status_code == 400
    assert response.json() == validation(message)
    assert (await tenant.client.get(f"/v1/projects/{project['id']}")).json() == project


async def test_update_to_a_taken_external_id_is_refused(tenant: Tenant) -> None:
    await create(tenant, externalId="taken")
    other = await create(tenant, externalId="mine")
    response = await tenant.client.post(f"/v1/projects/{other['id']}", json={"externalId": "taken"})
    assert response.status_code == 409
    assert response.json() == {
        "statusCode": 409,
        "code": "PROJECT_EXTERNAL_ID_ALREADY_EXISTS",
        "params": {"externalId": "taken"},
    }
    assert (await tenant.client.get(f"/v1/projects/{other['id']}")).json()["externalId"] == "mine"
    # Setting a project's own externalId again is fine.
    same = await tenant.client.post(f"/v1/projects/{other['id']}", json={"externalId": "mine"})
    assert same.status_code == 200


@pytest.mark.sends_invalid_requests(
    "externalId null clears it; the real schema takes strings only (a leniency)", accepted=True
)
async def test_update_blank_external_id_leaves_it(tenant: Tenant) -> None:
    project = await create(tenant, externalId="kept")
    for blank in ("", "   "):
        body = (await tenant.client.post(f"/v1/projects/{project['id']}", json={"externalId": blank})).json()
        assert body["externalId"] == "kept"
    cleared = (await tenant.client.post(f"/v1/projects/{project['id']}", json={"externalId": None})).json()
    assert cleared["externalId"] is None


async def test_personal_project_keeps_name_and_icon(tenant: Tenant) -> None:
    personal = await personal_project(tenant)
    other_color = "RED" if personal["icon"]["color"] != "RED" else "BLUE"
    response = await tenant.client.post(
        f"/v1/projects/{personal['id']}",
        json={"displayName": "Renamed", "icon": {"color": other_color}, "metadata": {"m": 1}},
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["displayName"], body["icon"]) == (personal["displayName"], personal["icon"])
    assert body["metadata"] == {"m": 1}


async def test_update_unknown_project_is_404(tenant: Tenant) -> None:
    missing = "b" * 21
    response = await tenant.client.post(f"/v1/projects/{missing}", json={"displayName": "x"})
    assert response.status_code == 404
    assert response.json() == not_found(missing)


# --- delete


async def test_delete_team_project(tenant: Tenant) -> None:
    project = await create(tenant)
    response = await tenant.client.delete(f"/v1/projects/{project['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert (await tenant.client.get(f"/v1/projects/{project['id']}")).status_code == 404
    again = await tenant.client.delete(f"/v1/projects/{project['id']}")
    assert again.status_code == 404
    assert again.json() == not_found(project["id"])


async def test_personal_project_cannot_be_deleted(tenant: Tenant) -> None:
    personal = await personal_project(tenant)
    assert personal["ownerId"] == tenant.owner_id
    response = await tenant.client.delete(f"/v1/projects/{personal['id']}")
    assert response.status_code == 400
    assert response.json() == validation("Personal projects cannot be deleted")
    assert (await tenant.client.get(f"/v1/projects/{personal['id']}")).status_code == 200


async def test_deleting_frees_the_external_id(tenant: Tenant) -> None:
    project = await create(tenant, externalId="reuse-me")
    await tenant.client.delete(f"/v1/projects/{project['id']}")
    await create(tenant, externalId="reuse-me")


# --- tenancy


async def test_other_platforms_projects_do_not_exist(make_tenant: TenantFactory) -> None:
    a, b = await make_tenant(), await make_tenant()
    theirs = await create(b, externalId="b-secret", displayName="B only")
    pid = theirs["id"]
    assert (await a.client.get(f"/v1/projects/{pid}")).json() == not_found(pid)
    update = await a.client.post(f"/v1/projects/{pid}", json={"displayName": "hijacked"})
    assert (update.status_code, update.json()) == (404, not_found(pid))
    delete = await a.client.delete(f"/v1/projects/{pid}")
    assert (delete.status_code, delete.json()) == (404, not_found(pid))
    for params in ({}, {"externalId": "b-secret"}, {"displayName": "B only"}):
        listed = (await a.client.get("/v1/projects", params=params)).json()["data"]
        assert pid not in {p["id"] for p in listed}
    assert (await b.client.get(f"/v1/projects/{pid}")).json() == theirs


# --- list


async def test_list_filters(tenant: Tenant) -> None:
    alpha = await create(tenant, displayName="Alpha Marketing", externalId="x-alpha")
    beta = await create(tenant, displayName="beta marketing", externalId="x-beta")
    await create(tenant, displayName="Gamma")
    personal = await personal_project(tenant)

    async def ids(**params) -> list[str]:
        response = await tenant.client.get("/v1/projects", params=params)
        assert response.status_code == 200
        return [p["id"] for p in response.json()["data"]]

    assert await ids(displayName="MARKET") == [alpha["id"], beta["id"]]  # by name, as the real server
    assert await ids(displayName="%") == await ids()  # `%` is a wildcard, as on the real server
    assert await ids(externalId="x-alpha") == [alpha["id"]]
    assert await ids(externalId="x-al") == []
    assert await ids(types="PERSONAL") == [personal["id"]]
    assert len(await ids(types=["PERSONAL", "TEAM"])) == 4
    assert len(await ids(types="TEAM")) == 3


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": 0}, "querystring/limit must be >= 1"),
        ({"limit": 101}, "querystring/limit must be <= 100"),
        ({"limit": -5}, "querystring/limit must be >= 1"),
        ({"limit": "ten"}, "querystring/limit must be integer"),
        ({"types": "ROBOT"}, "querystring/types/0 must be equal to one of the allowed values"),
        ({"cursor": "not-a-cursor"}, "querystring/cursor is not a valid cursor"),
        ({"cursor": "bmV4dF9nYXJiYWdl"}, "querystring/cursor is not a valid cursor"),
    ],
)
async def test_list_validation(tenant: Tenant, params: dict, message: str) -> None:
    response = await tenant.client.get("/v1/projects", params=params)
    assert response.status_code == 400
    assert response.json() == validation(message)


async def list_page(tenant: Tenant, limit: int, cursor: str | None) -> dict:
    params: dict = {"limit": limit}
    if cursor is not None:
        params["cursor"] = cursor
    response = await tenant.client.get("/v1/projects", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_pagination_walks_120_projects_both_ways(tenant: Tenant) -> None:
    for i in range(119):  # plus the personal project
        await create(tenant, displayName=f"Project {i:03d}")

    forward: list[dict] = []
    cursor = None
    while True:
        page = await list_page(tenant, 7, cursor)
        forward.append(page)
        assert (page["previous"] is None) == (len(forward) == 1)
        cursor = page["next"]
        if cursor is None:
            break
    ids = [p["id"] for page in forward for p in page["data"]]
    assert len(ids) == 120 and len(set(ids)) == 120
    assert [len(page["data"]) for page in forward] == [7] * 17 + [1]

    # As the real server: the PERSONAL project first, then the team projects by name.
    names = [(p["type"], p["displayName"]) for page in forward for p in page["data"]]
    assert names == [("PERSONAL", names[0][1])] + [("TEAM", f"Project {i:03d}") for i in range(119)]

    # From the last page, `previous` leads back through the same pages until it is null.
    backward: list[dict] = []
    cursor = forward[-1]["previous"]
    while cursor is not None:
        page = await list_page(tenant, 7, cursor)
        backward.append(page)
        cursor = page["previous"]
    assert [[p["id"] for p in page["data"]] for page in reversed(backward)] == [
        [p["id"] for p in page["data"]] for page in forward[:-1]
    ]
    assert backward[-1]["previous"] is None and backward[-1]["next"] is not None


async def test_limit_defaults_to_50_and_single_page_has_null_cursors(tenant: Tenant) -> None:
    first = await list_page(tenant, 50, None)
    assert (len(first["data"]), first["next"], first["previous"]) == (1, None, None)
    for i in range(55):
        await create(tenant, displayName=f"P{i}")
    default = (await tenant.client.get("/v1/projects")).json()
    assert len(default["data"]) == 50 and default["next"] is not None and default["previous"] is None
    rest = await list_page(tenant, 50, default["next"])
    assert len(rest["data"]) == 6 and rest["next"] is None and rest["previous"] is not None


async def test_cursor_survives_deletion_of_its_row(tenant: Tenant) -> None:
    for i in range(5):
        await create(tenant, displayName=f"P{i}")
    first = await list_page(tenant, 2, None)
    await tenant.client.delete(f"/v1/projects/{first['data'][-1]['id']}")
    second = await list_page(tenant, 2, first["next"])
    assert len(second["data"]) == 2
    assert not {p["id"] for p in second["data"]} & {p["id"] for p in first["data"]}


async def test_external_user_id_filters_to_that_users_projects(make_tenant: TenantFactory, db) -> None:
    """As the real server: the platform's user with that externalId, and the projects it owns or is a
    member of. No route of this API makes users, so the owner gets its externalId in the database."""
    tenant = await make_tenant()
    other = await make_tenant()
    team = await create(tenant, displayName="Team of the owner")
    personal = await personal_project(tenant)
    async with db.transaction() as conn:
        await conn.execute(
            text('UPDATE "user" SET external_id = :ext WHERE id IN (:a, :b)'),
            {"ext": "owner-ext-1", "a": tenant.owner_id, "b": other.owner_id},
        )

    response = await tenant.client.get("/v1/projects", params={"externalUserId": "owner-ext-1"})
    assert response.status_code == 200, response.text
    page = response.json()
    assert sorted(p["id"] for p in page["data"]) == sorted([team["id"], personal["id"]])
    assert page["next"] is None and page["previous"] is None

    # Another platform's user with the same externalId does not widen it; an unknown one is an empty page.
    unknown = await tenant.client.get("/v1/projects", params={"externalUserId": "nobody-has-this"})
    assert unknown.status_code == 200
    assert unknown.json() == {"data": [], "next": None, "previous": None}
    combined = await tenant.client.get("/v1/projects", params={"externalUserId": "owner-ext-1", "types": "PERSONAL"})
    assert [p["id"] for p in combined.json()["data"]] == [personal["id"]]


# --- the newest real project fields (UpdateProjectPlatformRequest takes three of them)


async def test_update_sets_and_clears_the_newer_real_fields(tenant: Tenant) -> None:
    project = await create(tenant)
    body = {"notifyFlowOwnerOnFailure": True, "workerGroupId": "group-eu", "executionDataRetentionDays": 30}
    response = await tenant.client.post(f"/v1/projects/{project['id']}", json=body)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert {key: updated[key] for key in body} == body
    assert (await tenant.client.get(f"/v1/projects/{project['id']}")).json() == updated
    # null clears the two nullable ones; leaving a field out keeps it.
    response = await tenant.client.post(
        f"/v1/projects/{project['id']}", json={"workerGroupId": None, "executionDataRetentionDays": None}
    )
    cleared = response.json()
    assert (cleared["workerGroupId"], cleared["executionDataRetentionDays"]) == (None, None)
    assert cleared["notifyFlowOwnerOnFailure"] is True
    # Fields the real update request does not take are ignored, as every unknown field is.
    response = await tenant.client.post(f"/v1/projects/{project['id']}", json={"sensitive": True, "pieceSetId": "x"})
    assert (response.json()["sensitive"], response.json()["pieceSetId"]) == (False, None)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"executionDataRetentionDays": 0}, "body/executionDataRetentionDays must be > 0"),
        ({"executionDataRetentionDays": 1.5}, "body/executionDataRetentionDays must be integer"),
        ({"notifyFlowOwnerOnFailure": "yes"}, "body/notifyFlowOwnerOnFailure must be boolean"),
        ({"workerGroupId": 7}, "body/workerGroupId must be string"),
    ],
)
async def test_update_refuses_newer_fields_of_the_wrong_type(tenant: Tenant, body: dict, message: str) -> None:
    project = await create(tenant)
    response = await tenant.client.post(f"/v1/projects/{project['id']}", json=body)
    assert response.status_code == 400
    assert response.json() == validation(message)


async def test_last_flow_updated_is_the_newest_flow_update(tenant: Tenant) -> None:
    project = await create(tenant)
    assert project["analytics"]["lastFlowUpdated"] is None
    response = await tenant.client.post("/v1/flows", json={"displayName": "F", "projectId": project["id"]})
    assert response.status_code == 201
    flow = response.json()
    analytics = (await tenant.client.get(f"/v1/projects/{project['id']}")).json()["analytics"]
    assert analytics["lastFlowUpdated"] == flow["updated"]
    assert TS_RE.match(analytics["lastFlowUpdated"])
