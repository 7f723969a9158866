"""`GET /v1/platforms/{id}` and `GET /v1/flags` with the real server's answers (`AP_COMPAT=server`)."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Tenant

FORBIDDEN = {"code": "AUTHORIZATION", "params": {"message": "You are not authorized to access this platform"}}


async def test_an_unknown_platform_id_is_403_as_another_platforms(tenant: Tenant) -> None:
    # The real controller compares the id with the caller's platform before it looks anything up.
    response = await tenant.client.get(f"/v1/platforms/{'b' * 21}")
    assert response.status_code == 403
    assert response.json() == FORBIDDEN


@pytest.mark.sends_invalid_requests("a path id that is no id")
async def test_a_malformed_platform_id_fails_the_id_pattern(tenant: Tenant) -> None:
    # Unlike projects' and flows', the platform route's id is an `ApId`: a pattern zod checks.
    response = await tenant.client.get("/api/v1/platforms/not-an-id")
    assert response.status_code == 400
    assert response.json() == {
        "statusCode": 400,
        "code": "FST_ERR_VALIDATION",
        "error": "Bad Request",
        "message": "params/id Invalid string: must match pattern /^[0-9a-zA-Z]{21}$/",
    }


async def test_own_platform_is_the_same_in_both_modes(tenant: Tenant) -> None:
    response = await tenant.client.get(f"/v1/platforms/{tenant.platform_id}")
    assert response.status_code == 200
    assert response.json()["id"] == tenant.platform_id


async def test_flags_without_a_key_and_an_unknown_key(anonymous: httpx.AsyncClient) -> None:
    assert (await anonymous.get("/v1/flags")).status_code == 200
    refused = await anonymous.get("/v1/flags", headers={"Authorization": "Bearer sk-" + "z" * 40})
    assert refused.status_code == 401
    assert refused.json() == {"code": "AUTHENTICATION", "params": {"message": "invalid api key"}}
