"""API-key authentication and authorization, translated from
`packages/server/api/test/integration/cloud/core/authentication-v2.test.ts` and
`packages/server/api/test/integration/cloud/core/security-v2.test.ts` (activepieces/activepieces).
Upstream calls `authenticateOrThrow` / `authorizeOrThrow` directly; here the same cases go over HTTP
with API keys, with the real server's answers."""

from __future__ import annotations

import httpx

from tests.conftest import Tenant, TenantFactory, personal_project_id


# authentication-v2.test.ts: "API Key Authentication" / "should authenticate with valid API key"
async def test_should_authenticate_with_valid_api_key(tenant: Tenant) -> None:
    response = await tenant.client.get("/v1/projects")
    assert response.status_code == 200
    assert {project["platformId"] for project in response.json()["data"]} == {tenant.platform_id}


# authentication-v2.test.ts: "API Key Authentication" / "should throw AUTHENTICATION error for invalid API key"
async def test_should_throw_authentication_error_for_invalid_api_key(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/v1/projects", headers={"Authorization": "Bearer sk-invalid-api-key"})
    assert response.status_code == 401
    assert response.json() == {"code": "AUTHENTICATION", "params": {"message": "invalid api key"}}


# authentication-v2.test.ts: "Access Token Authentication" /
# "should throw INVALID_BEARER_TOKEN error for invalid access token"
async def test_should_throw_invalid_bearer_token_error_for_invalid_access_token(
    anonymous: httpx.AsyncClient,
) -> None:
    response = await anonymous.get("/v1/projects", headers={"Authorization": "Bearer invalid-access-token"})
    assert response.status_code == 401
    assert response.json() == {
        "code": "INVALID_BEARER_TOKEN",
        "params": {"message": "invalid access token or session expired"},
    }


# security-v2.test.ts: "PLATFORM authorization" / "should allow SERVICE principal when adminOnly is true"
# (creating a project is a platform-admin route)
async def test_should_allow_service_principal_when_admin_only_is_true(tenant: Tenant) -> None:
    response = await tenant.client.post("/v1/projects", json={"displayName": "Admin only"})
    assert response.status_code == 201


# security-v2.test.ts: "PROJECT authorization" / "should allow SERVICE principal with access to project platform"
async def test_should_allow_service_principal_with_access_to_project_platform(tenant: Tenant) -> None:
    project_id = await personal_project_id(tenant)
    response = await tenant.client.get("/v1/flows", params={"projectId": project_id})
    assert response.status_code == 200


# security-v2.test.ts: "PROJECT authorization" / "should reject SERVICE principal accessing project from
# different platform"
async def test_should_reject_service_principal_accessing_project_from_different_platform(
    make_tenant: TenantFactory,
) -> None:
    caller, other = await make_tenant(), await make_tenant()
    other_project = await personal_project_id(other)
    response = await caller.client.get(f"/v1/projects/{other_project}")
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "AUTHORIZATION"
    assert body["params"]["message"] == "Service is not allowed to access this project"
