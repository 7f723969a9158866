"""`AP_COMPAT=server`: every row of the contract's "Two answers" table, as the real server answers
it (the documented answers are what the rest of the suite checks)."""

from __future__ import annotations

import base64

import httpx
import pytest

from tests.conftest import Tenant, TenantFactory, personal_project_id


async def test_a_rule_failure_has_no_status_code_and_validation_is_409(tenant: Tenant) -> None:
    response = await tenant.client.delete(f"/v1/projects/{await personal_project_id(tenant)}")
    assert response.status_code == 409
    assert response.json() == {"code": "VALIDATION", "params": {"message": "Personal projects cannot be deleted"}}


async def test_no_team_projects_on_the_plan_is_409(make_tenant: TenantFactory) -> None:
    community = await make_tenant(edition="COMMUNITY")
    response = await community.client.post("/v1/projects", json={"displayName": "Team"})
    assert response.status_code == 409
    assert response.json() == {
        "code": "VALIDATION",
        "params": {"message": "Team projects are not available on your current plan"},
    }


async def test_feature_disabled_is_402(make_tenant: TenantFactory) -> None:
    pro = await make_tenant(edition="PRO")
    assert (await pro.client.post("/v1/projects", json={"displayName": "One"})).status_code == 201
    response = await pro.client.post("/v1/projects", json={"displayName": "Two"})
    assert response.status_code == 402
    assert response.json()["code"] == "FEATURE_DISABLED"
    assert "statusCode" not in response.json()


async def test_conflicts_keep_409_without_status_code(tenant: Tenant) -> None:
    assert (await tenant.client.post("/v1/projects", json={"displayName": "A", "externalId": "x"})).status_code == 201
    response = await tenant.client.post("/v1/projects", json={"displayName": "B", "externalId": "x"})
    assert response.status_code == 409
    assert response.json() == {"code": "PROJECT_EXTERNAL_ID_ALREADY_EXISTS", "params": {"externalId": "x"}}


def fastify_validation(message: str) -> dict:
    return {"statusCode": 400, "code": "FST_ERR_VALIDATION", "error": "Bad Request", "message": message}


@pytest.mark.sends_invalid_requests("each body is one the real CreatePlatformProjectRequest refuses")
@pytest.mark.parametrize(
    ("method", "path", "body", "message"),
    [
        ("post", "/v1/projects", {}, "body/displayName Invalid input: expected string, received undefined"),
        (
            "post",
            "/v1/projects",
            {"displayName": "a.b"},
            "body/displayName Invalid string: must match pattern /^[^./]+$/",
        ),
        (
            "post",
            "/v1/projects",
            {"displayName": 5, "externalId": 7},
            "body/displayName Invalid input: expected string, received number, "
            "body/externalId Invalid input: expected string, received number",
        ),
        (
            "post",
            "/v1/projects/zzzzzzzzzzzzzzzzzzzzz",
            {"maxConcurrentJobs": 1.5},
            "body/maxConcurrentJobs Invalid input: expected int, received number",
        ),
        ("get", "/v1/projects?limit=abc", None, "querystring/limit Invalid input: expected number, received NaN"),
        ("get", "/v1/projects?types=X", None, 'querystring/types/0 Invalid option: expected one of "TEAM"|"PERSONAL"'),
    ],
)
async def test_a_request_shape_failure_is_fastifys_body_with_zod_wording(
    tenant: Tenant, method: str, path: str, body: dict | None, message: str
) -> None:
    response = await tenant.client.request(method.upper(), path, json=body)
    assert response.status_code == 400
    assert response.json() == fastify_validation(message)


@pytest.mark.sends_invalid_requests("sends a body that is not JSON")
async def test_a_body_that_is_not_json_is_fastifys_json_error(tenant: Tenant) -> None:
    response = await tenant.client.post("/v1/projects", content=b"{bad", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json() == {
        "statusCode": 400,
        "code": "FST_ERR_CTP_INVALID_JSON_BODY",
        "error": "Bad Request",
        "message": "Body is not valid JSON but content-type is set to 'application/json'",
    }


async def test_another_platforms_project_is_403_on_get_and_update(make_tenant: TenantFactory) -> None:
    owner, stranger = await make_tenant(), await make_tenant()
    project_id = await personal_project_id(owner)
    for response in (
        await stranger.client.get(f"/v1/projects/{project_id}"),
        await stranger.client.post(f"/v1/projects/{project_id}", json={"displayName": "Mine"}),
    ):
        assert response.status_code == 403
        assert response.json() == {
            "code": "AUTHORIZATION",
            "params": {
                "message": "Service is not allowed to access this project",
                "projectId": project_id,
                "platformId": stranger.platform_id,
            },
        }


async def test_another_platforms_flow_is_403_on_get_update_and_delete(make_tenant: TenantFactory) -> None:
    owner, stranger = await make_tenant(), await make_tenant()
    created = await owner.client.post(
        "/v1/flows", json={"displayName": "F", "projectId": await personal_project_id(owner)}
    )
    flow_id = created.json()["id"]
    for response in (
        await stranger.client.get(f"/v1/flows/{flow_id}"),
        await stranger.client.post(
            f"/v1/flows/{flow_id}", json={"type": "CHANGE_NAME", "request": {"displayName": "x"}}
        ),
        await stranger.client.delete(f"/v1/flows/{flow_id}"),
    ):
        assert response.status_code == 403
        assert response.json() == {
            "code": "AUTHORIZATION",
            "params": {"message": "Service is not allowed to access this project", "platformId": stranger.platform_id},
        }
    assert (await owner.client.get(f"/v1/flows/{flow_id}")).json()["version"]["displayName"] == "F"


@pytest.mark.parametrize("path", ["/v1/projects", "/v1/global-connections"])
async def test_an_undecodable_cursor_is_the_first_page(tenant: Tenant, path: str) -> None:
    first = await tenant.client.get(path)
    garbage = base64.urlsafe_b64encode(b"not a cursor at all").decode()
    for cursor in (garbage, "%%%", "bmV4dF8yMDI2LTAxLTAxX3g"):
        response = await tenant.client.get(path, params={"cursor": cursor})
        assert response.status_code == 200
        assert response.json() == first.json()


async def test_a_path_id_that_is_not_an_id_is_404(tenant: Tenant) -> None:
    response = await tenant.client.get("/v1/projects/platforms")
    assert response.status_code == 404
    assert response.json() == {
        "code": "ENTITY_NOT_FOUND",
        "params": {"entityType": "project", "entityId": "platforms", "message": "Project not found"},
    }
    flow = await tenant.client.delete("/v1/flows/short")
    assert flow.status_code == 404
    assert flow.json()["params"]["entityType"] == "flow"
    connection = await tenant.client.post("/v1/global-connections/x", json={"displayName": "y"})
    assert connection.status_code == 404
    assert connection.json()["params"]["entityType"] == "app_connection"


async def test_a_bearer_token_without_the_sk_prefix_is_invalid_bearer_token(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/v1/projects", headers={"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x"})
    assert response.status_code == 401
    assert response.json() == {
        "code": "INVALID_BEARER_TOKEN",
        "params": {"message": "invalid access token or session expired"},
    }
    unknown_key = await anonymous.get("/v1/projects", headers={"Authorization": "Bearer sk-" + "a" * 40})
    assert unknown_key.status_code == 401
    assert unknown_key.json() == {"code": "AUTHENTICATION", "params": {"message": "invalid api key"}}


async def test_flow_versions_refuse_an_api_key(tenant: Tenant) -> None:
    created = await tenant.client.post(
        "/v1/flows", json={"displayName": "F", "projectId": await personal_project_id(tenant)}
    )
    response = await tenant.client.get(f"/v1/flows/{created.json()['id']}/versions")
    assert response.status_code == 403
    assert response.json() == {
        "code": "AUTHORIZATION",
        "params": {"message": "principal is not allowed for this route"},
    }


async def test_an_unknown_route_is_fastifys_404(tenant: Tenant) -> None:
    response = await tenant.client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.json() == {
        "message": "Route GET:/v1/nothing-here not found",
        "error": "Not Found",
        "statusCode": 404,
    }


@pytest.mark.sends_invalid_requests("sends a body over the size limit")
async def test_a_body_over_the_limit_is_fastifys_413(tenant: Tenant) -> None:
    response = await tenant.client.post(
        "/v1/projects", content=b"{" + b" " * (6 * 1024 * 1024) + b"}", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json() == {
        "statusCode": 413,
        "code": "FST_ERR_CTP_BODY_TOO_LARGE",
        "error": "Payload Too Large",
        "message": "Request body is too large",
    }


async def test_another_platforms_project_named_by_a_flow_request_is_403(make_tenant: TenantFactory) -> None:
    owner, stranger = await make_tenant(), await make_tenant()
    project_id = await personal_project_id(owner)
    forbidden = {
        "code": "AUTHORIZATION",
        "params": {
            "message": "Service is not allowed to access this project",
            "projectId": project_id,
            "platformId": stranger.platform_id,
        },
    }
    for response in (
        await stranger.client.get("/v1/flows", params={"projectId": project_id}),
        await stranger.client.get("/v1/flows/count", params={"projectId": project_id}),
        await stranger.client.post("/v1/flows", json={"displayName": "F", "projectId": project_id}),
    ):
        assert (response.status_code, response.json()) == (403, forbidden)
    assert (await owner.client.get("/v1/flows", params={"projectId": project_id})).json()["data"] == []


@pytest.mark.sends_invalid_requests("sends a bad body to a malformed id")
async def test_a_malformed_id_with_a_bad_body_is_the_bodys_400(tenant: Tenant) -> None:
    # Fastify validates params (any string), then the body: the body's failure is what is answered.
    response = await tenant.client.post("/v1/projects/platforms", json={"displayName": 5})
    assert response.status_code == 400
    assert response.json()["message"] == "body/displayName Invalid input: expected string, received number"


@pytest.mark.sends_invalid_requests("each body is one the real union refuses")
@pytest.mark.parametrize(
    "body",
    [
        {"displayName": "c", "pieceName": "p", "scope": "PLATFORM", "type": "SECRET_TEXT"},
        {"displayName": "c", "pieceName": "p", "projectIds": [], "type": "SECRET_TEXT", "value": {}},
        {"displayName": "c"},
    ],
)
async def test_a_union_body_fails_as_the_union(tenant: Tenant, body: dict) -> None:
    # The real upsert body is a z.union: zod reports the union, not what is wrong inside it.
    response = await tenant.client.post("/v1/global-connections", json=body)
    assert response.status_code == 400
    assert response.json() == fastify_validation("body/ Invalid input")
    operation = await tenant.client.post("/v1/flows/zzzzzzzzzzzzzzzzzzzzz", json={"type": "CHANGE_NAME", "request": {}})
    assert operation.json() == fastify_validation("body/ Invalid input")


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": ""}])
async def test_no_bearer_token_is_an_anonymous_principal_refused_with_403(
    anonymous: httpx.AsyncClient, headers: dict
) -> None:
    # The real server authenticates a request without a bearer token as an anonymous principal,
    # which every route of this API refuses (authorize.ts: assertPrinicpalIsOneOf).
    response = await anonymous.get("/v1/projects", headers=headers)
    assert response.status_code == 403
    assert response.json() == {
        "code": "AUTHORIZATION",
        "params": {"message": "principal is not allowed for this route"},
    }


async def test_a_malformed_bearer_token_is_invalid_bearer_token(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/v1/projects", headers={"Authorization": "Bearer two words"})
    assert response.status_code == 401
    assert response.json()["code"] == "INVALID_BEARER_TOKEN"


@pytest.mark.sends_invalid_requests("sends bodies that are not JSON")
@pytest.mark.parametrize(
    ("content", "content_type", "status", "code", "message"),
    [
        (
            b"",
            "application/json",
            400,
            "FST_ERR_CTP_EMPTY_JSON_BODY",
            "Body cannot be empty when content-type is set to 'application/json'",
        ),
        (
            b'{"displayName": "x"}',
            "text/plain",
            400,
            "FST_ERR_VALIDATION",
            "body/ Invalid input: expected object, received string",
        ),
        (b"<project/>", "application/xml", 415, "FST_ERR_CTP_INVALID_MEDIA_TYPE", "Unsupported Media Type"),
    ],
)
async def test_bodies_fastify_cannot_parse_as_json(
    tenant: Tenant, content: bytes, content_type: str, status: int, code: str, message: str
) -> None:
    response = await tenant.client.post("/v1/projects", content=content, headers={"Content-Type": content_type})
    assert response.status_code == status
    error = {400: "Bad Request", 415: "Unsupported Media Type"}[status]
    assert response.json() == {"statusCode": status, "code": code, "error": error, "message": message}


async def test_paths_outside_the_activepieces_api_keep_their_answers(anonymous: httpx.AsyncClient) -> None:
    # The admin API (off here: no token) and other paths of this server's own have no real-server
    # counterpart: their answers do not change with the switch.
    response = await anonymous.get("/admin/platforms")
    assert response.status_code == 404
    assert response.json()["statusCode"] == 404 and response.json()["code"] == "ENTITY_NOT_FOUND"
