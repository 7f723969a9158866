"""Translated from `packages/server/api/test/integration/ce/flags/flags.test.ts`
(activepieces/activepieces), over HTTP, with the real server's answers."""

from __future__ import annotations

import httpx

from tests.conftest import Tenant


# flags.test.ts: "Flags API" / "GET /v1/flags" / "should return flags with expected keys and value types"
async def test_should_return_flags_with_expected_keys_and_value_types(anonymous: httpx.AsyncClient) -> None:
    # Upstream sends no credentials at all: the route takes every principal, anonymous ones too.
    response = await anonymous.get("/v1/flags")
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body["ENVIRONMENT"], str)
    assert isinstance(body["WEBHOOK_URL_PREFIX"], str)


# The same case with a platform API key (the principal this API serves): the same keys and types.
async def test_should_return_flags_with_expected_keys_and_value_types_with_an_api_key(tenant: Tenant) -> None:
    response = await tenant.client.get("/api/v1/flags")
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body["ENVIRONMENT"], str)
    assert isinstance(body["WEBHOOK_URL_PREFIX"], str)
