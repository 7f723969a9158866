"""`GET /v1/flags` and `GET /v1/platforms/{id}` (documented answers): exact bodies, computed from the
platform's edition and this server's state; another platform's id is invisible."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app import __version__
from tests.conftest import Tenant, TenantFactory
from tests.upstream.helpers import create_flow, published_flow

COMMON_PLAN = {
    "includedAiCredits": 0,
    "lastFreeAiCreditsRenewalDate": None,
    "aiCreditsAutoTopUpState": "disabled",
    "aiCreditsAutoTopUpThreshold": None,
    "aiCreditsAutoTopUpCreditsToAdd": None,
    "maxAutoTopUpCreditsMonthly": None,
    "tablesEnabled": False,
    "eventStreamingEnabled": False,
    "environmentsEnabled": False,
    "agentsEnabled": False,
    "aiProvidersEnabled": False,
    "chatEnabled": False,
    "dataManipulationEnabled": False,
    "managePiecesEnabled": True,
    "manageTemplatesEnabled": False,
    "globalConnectionsEnabled": True,
    "apiKeysEnabled": True,
    "secretManagersEnabled": False,
    "scimEnabled": False,
    "canary": False,
    "customDomainsEnabled": False,
    "showPoweredBy": False,
    "licenseKey": None,
    "licenseExpiresAt": None,
    "stripeCustomerId": None,
    "stripeSubscriptionId": None,
    "stripeSubscriptionStatus": None,
    "stripeSubscriptionStartDate": None,
    "stripeSubscriptionEndDate": None,
    "stripeSubscriptionCancelDate": None,
    "projectsLimit": None,
    "activeFlowsLimit": None,
    "dedicatedWorkers": None,
    "workerGroupId": None,
}
PAID = ("analyticsEnabled", "auditLogEnabled", "embeddingEnabled", "customAppearanceEnabled")
PAID += ("projectRolesEnabled", "customRolesEnabled", "ssoEnabled")
PLANS: dict[str, dict[str, Any]] = {
    "COMMUNITY": {**COMMON_PLAN, "plan": None, "teamProjectsLimit": "NONE", **dict.fromkeys(PAID, False)},
    "PRO": {
        **COMMON_PLAN,
        "plan": "standard",
        "teamProjectsLimit": "ONE",
        **dict.fromkeys(PAID, False),
        "analyticsEnabled": True,
        "customAppearanceEnabled": True,
        "projectRolesEnabled": True,
    },
    "ENTERPRISE": {**COMMON_PLAN, "plan": "enterprise", "teamProjectsLimit": "UNLIMITED", **dict.fromkeys(PAID, True)},
}


def expected_platform(tenant: Tenant, edition: str, body: dict[str, Any], active_flows: int = 0) -> dict[str, Any]:
    expected: dict[str, Any] = {
        "id": tenant.platform_id,
        "created": body["created"],
        "updated": body["updated"],
        "ownerId": tenant.owner_id,
        "name": "Test Platform",
        "primaryColor": "#6e41e2",
        "themeColors": None,
        "logoIconUrl": "https://cdn.activepieces.com/brand/logo.svg",
        "fullLogoUrl": "https://cdn.activepieces.com/brand/full-logo.png",
        "favIconUrl": "https://cdn.activepieces.com/brand/favicon.ico",
        "filteredPieceNames": [],
        "filteredPieceBehavior": "BLOCKED",
        "cloudAuthEnabled": False,
        "googleAuthEnabled": False,
        "enforceAllowedAuthDomains": False,
        "allowedAuthDomains": [],
        "allowedEmbedOrigins": [],
        "ssoDomain": None,
        "ssoDomainVerification": None,
        "federatedAuthProviders": {"saml": None},
        "emailAuthEnabled": False,
        "pinnedPieces": [],
        "pieceSelectorConfig": None,
        "plan": PLANS[edition],
    }
    if edition != "COMMUNITY":
        expected["usage"] = {
            "totalAiCreditsUsed": 0,
            "totalAiCreditsUsedThisMonth": 0,
            "aiCreditsRemaining": 0,
            "aiCreditsLimit": 0,
            "activeFlows": active_flows,
        }
    return expected


def not_found(platform_id: str) -> dict[str, Any]:
    return {
        "statusCode": 404,
        "code": "ENTITY_NOT_FOUND",
        "params": {"entityType": "platform", "entityId": platform_id, "message": "Platform not found"},
    }


# --- GET /v1/platforms/{id}


@pytest.mark.parametrize("edition", ["COMMUNITY", "PRO", "ENTERPRISE"])
async def test_own_platform_with_its_editions_plan(make_tenant: TenantFactory, edition: str) -> None:
    tenant = await make_tenant(edition=edition)
    response = await tenant.client.get(f"/v1/platforms/{tenant.platform_id}")
    assert response.status_code == 200
    body = response.json()
    assert body == expected_platform(tenant, edition, body)
    assert body["created"].endswith("Z") and body["created"] == body["updated"]


async def test_both_prefixes_and_a_trailing_slash_answer_the_same(tenant: Tenant) -> None:
    first = await tenant.client.get(f"/v1/platforms/{tenant.platform_id}")
    assert (await tenant.client.get(f"/api/v1/platforms/{tenant.platform_id}")).json() == first.json()
    assert (await tenant.client.get(f"/v1/platforms/{tenant.platform_id}/")).json() == first.json()


async def test_usage_counts_the_platforms_enabled_flows(make_tenant: TenantFactory) -> None:
    tenant, other = await make_tenant(edition="PRO"), await make_tenant(edition="PRO")
    await published_flow(tenant, "ENABLED")
    await published_flow(tenant, "ENABLED")
    await published_flow(tenant, "DISABLED")
    await create_flow(tenant)
    await published_flow(other, "ENABLED")
    body = (await tenant.client.get(f"/v1/platforms/{tenant.platform_id}")).json()
    assert body == expected_platform(tenant, "PRO", body, active_flows=2)
    assert (await other.client.get(f"/v1/platforms/{other.platform_id}")).json()["usage"]["activeFlows"] == 1


async def test_another_platforms_id_is_not_found(make_tenant: TenantFactory) -> None:
    mine, theirs = await make_tenant(), await make_tenant()
    response = await mine.client.get(f"/v1/platforms/{theirs.platform_id}")
    assert response.status_code == 404
    assert response.json() == not_found(theirs.platform_id)


async def test_an_unknown_id_looks_the_same_as_another_platforms(tenant: Tenant) -> None:
    unknown = "a" * 21
    response = await tenant.client.get(f"/api/v1/platforms/{unknown}")
    assert response.status_code == 404
    assert response.json() == not_found(unknown)


@pytest.mark.sends_invalid_requests("a path id that is no id")
async def test_a_malformed_id_is_400(tenant: Tenant) -> None:
    response = await tenant.client.get("/v1/platforms/not-an-id")
    assert response.status_code == 400
    assert response.json() == {
        "statusCode": 400,
        "code": "VALIDATION",
        "params": {"message": 'params/id must match pattern "^[0-9a-zA-Z]{21}$"'},
    }


async def test_platform_needs_a_key(tenant: Tenant, anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get(f"/v1/platforms/{tenant.platform_id}")
    assert response.status_code == 401
    assert response.json()["code"] == "AUTHENTICATION"
    unknown = await anonymous.get(
        f"/v1/platforms/{tenant.platform_id}", headers={"Authorization": "Bearer sk-" + "x" * 40}
    )
    assert unknown.status_code == 401


# --- GET /v1/flags


def expected_flags(edition: str | None, base: str = "http://testserver/") -> dict[str, Any]:
    """`edition` None: an anonymous caller (the server's default edition, ENTERPRISE)."""
    ap_edition = "ce" if edition == "COMMUNITY" else "ee"
    flags: dict[str, Any] = {
        "ENVIRONMENT": "prod",
        "EDITION": ap_edition,
        "CURRENT_VERSION": __version__,
        "LATEST_VERSION": __version__,
        "PUBLIC_URL": base,
        "WEBHOOK_URL_PREFIX": f"{base}api/v1/webhooks",
        "THIRD_PARTY_AUTH_PROVIDER_REDIRECT_URL": f"{base}redirect",
        "THIRD_PARTY_AUTH_PROVIDERS_TO_SHOW_MAP": {},
        "EMAIL_AUTH_ENABLED": False,
        "CLOUD_AUTH_ENABLED": False,
        "SMTP_CONFIGURED": False,
        "SHOW_BILLING_PAGE": False,
        "TELEMETRY_ENABLED": False,
        "SHOW_POWERED_BY_IN_FORM": False,
        "SHOW_COMMUNITY": ap_edition == "ce",
        "PRIVATE_PIECES_ENABLED": ap_edition != "ce",
        "PIECES_SYNC_MODE": "NONE",
        "SUPPORTED_APP_WEBHOOKS": [],
        "ALLOW_NPM_PACKAGES_IN_CODE_STEP": False,
        "AGENTS_CONFIGURED": False,
        "USER_CREATED": True,
    }
    if edition is not None:
        flags["THIRD_PARTY_AUTH_PROVIDERS_TO_SHOW_MAP"] = {"google": False, "saml": False}
        flags["SAML_AUTH_ACS_URL"] = f"{base}api/v1/authn/saml/acs"
        flags["SHOW_PROJECT_MEMBERS"] = edition != "COMMUNITY"
    return flags


async def test_flags_answer_without_a_key(tenant: Tenant, anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/v1/flags")
    assert response.status_code == 200
    assert response.json() == expected_flags(None)
    assert (await anonymous.get("/api/v1/flags")).json() == expected_flags(None)
    assert (await anonymous.get("/api/v1/flags/")).json() == expected_flags(None)


async def test_another_authorization_scheme_is_anonymous_too(tenant: Tenant, anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/v1/flags", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert response.status_code == 200
    assert response.json() == expected_flags(None)


@pytest.mark.parametrize("edition", ["COMMUNITY", "PRO", "ENTERPRISE"])
async def test_flags_as_the_keys_platform_sees_them(make_tenant: TenantFactory, edition: str) -> None:
    tenant = await make_tenant(edition=edition)
    response = await tenant.client.get("/api/v1/flags")
    assert response.status_code == 200
    assert response.json() == expected_flags(edition)


async def test_two_platforms_each_see_their_own_edition(make_tenant: TenantFactory) -> None:
    community, enterprise = await make_tenant(edition="COMMUNITY"), await make_tenant(edition="ENTERPRISE")
    assert (await community.client.get("/v1/flags")).json()["EDITION"] == "ce"
    assert (await enterprise.client.get("/v1/flags")).json()["EDITION"] == "ee"


async def test_an_unknown_key_is_refused_even_here(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/v1/flags", headers={"Authorization": "Bearer sk-" + "y" * 40})
    assert response.status_code == 401
    assert response.json() == {"statusCode": 401, "code": "AUTHENTICATION", "params": {"message": "invalid api key"}}


async def test_the_public_urls_follow_the_address_the_client_used(tenant: Tenant) -> None:
    response = await tenant.client.get("/v1/flags", headers={"Host": "automations.example.com:8443"})
    assert response.json() == expected_flags("ENTERPRISE", "http://automations.example.com:8443/")


async def test_flags_in_the_openapi_take_no_key(anonymous: httpx.AsyncClient) -> None:
    document = (await anonymous.get("/openapi.json")).json()
    assert document["paths"]["/v1/flags"]["get"]["security"] == [{}, {"bearerAuth": []}]
    assert document["paths"]["/v1/platforms/{id}"]["get"]["security"] == [{"bearerAuth": []}]
    assert document["paths"]["/v1/platforms/{id}"]["get"]["tags"] == ["platforms"]
