"""Translated from `packages/server/api/test/integration/cloud/platform/platform.test.ts`
(activepieces/activepieces), over HTTP with API keys, with the real server's answers.

The "get platform endpoint" cases use a user's token upstream; the route takes a service principal
(an API key) as well (`securityAccess.publicPlatform([USER, SERVICE])`), which is what runs here. The
"update platform endpoint" cases are not translated: `POST /v1/platforms/:id` is for users only."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Tenant, TenantFactory

REAL_SCHEMA = json.loads(
    (Path(__file__).parent.parent / "real_schemas" / "schemas" / "PlatformWithoutSensitiveData.json").read_text()
)


# platform.test.ts: "Platform API" / "get platform endpoint" / "Always Returns non-sensitive information
# for platform"
async def test_always_returns_non_sensitive_information_for_platform(tenant: Tenant) -> None:
    response = await tenant.client.get(f"/v1/platforms/{tenant.platform_id}")
    assert response.status_code == 200
    body = response.json()
    # Upstream counts the keys of its (older) schema; here: exactly the keys of the pinned
    # PlatformWithoutSensitiveData, nothing more (no smtp, no secrets of any provider).
    assert set(body) == set(REAL_SCHEMA["properties"])
    assert body["id"] == tenant.platform_id
    assert body["ownerId"] == tenant.owner_id
    assert body["name"] == "Test Platform"
    assert "smtp" not in body
    # No SAML provider configured: nothing of it is shown, not even an empty object.
    assert body["federatedAuthProviders"] == {"saml": None}
    assert body["primaryColor"] == "#6e41e2"
    assert body["logoIconUrl"] == "https://cdn.activepieces.com/brand/logo.svg"
    assert body["fullLogoUrl"] == "https://cdn.activepieces.com/brand/full-logo.png"
    assert body["favIconUrl"] == "https://cdn.activepieces.com/brand/favicon.ico"
    assert body["plan"]["licenseKey"] is None


# platform.test.ts: "Platform API" / "get platform endpoint" / "Fails if user is not a platform member"
async def test_fails_if_user_is_not_a_platform_member(make_tenant: TenantFactory) -> None:
    mine, other = await make_tenant(), await make_tenant()
    response = await mine.client.get(f"/v1/platforms/{other.platform_id}")
    # Upstream's older trees answered 500 "userPlatformId and paramId should be equal" (an
    # assertEqual); the current controller refuses with 403 AUTHORIZATION before any lookup.
    assert response.status_code == 403
    assert response.json() == {
        "code": "AUTHORIZATION",
        "params": {"message": "You are not authorized to access this platform"},
    }
