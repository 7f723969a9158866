"""Response shapes of `/v1/platforms` (`PlatformWithoutSensitiveData` of `@activepieces/shared`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from app.kit.serialization import iso
from app.platforms.plans import plan_limits
from app.platforms.repository import PlatformRow

TeamProjectsLimit = Literal["NONE", "ONE", "UNLIMITED"]

# The look a platform has until it is given its own (the real server's default theme).
DEFAULT_PRIMARY_COLOR = "#6e41e2"
DEFAULT_FULL_LOGO_URL = "https://cdn.activepieces.com/brand/full-logo.png"
DEFAULT_FAV_ICON_URL = "https://cdn.activepieces.com/brand/favicon.ico"
DEFAULT_LOGO_ICON_URL = "https://cdn.activepieces.com/brand/logo.svg"


class PlatformPlanLimits(BaseModel):
    plan: str | None
    includedAiCredits: int
    lastFreeAiCreditsRenewalDate: str | None
    tablesEnabled: bool
    eventStreamingEnabled: bool
    aiCreditsAutoTopUpState: Literal["enabled", "disabled"]
    aiCreditsAutoTopUpThreshold: int | None
    aiCreditsAutoTopUpCreditsToAdd: int | None
    maxAutoTopUpCreditsMonthly: int | None
    environmentsEnabled: bool
    analyticsEnabled: bool
    showPoweredBy: bool
    auditLogEnabled: bool
    embeddingEnabled: bool
    agentsEnabled: bool
    aiProvidersEnabled: bool
    chatEnabled: bool
    dataManipulationEnabled: bool
    managePiecesEnabled: bool
    manageTemplatesEnabled: bool
    customAppearanceEnabled: bool
    teamProjectsLimit: TeamProjectsLimit
    projectRolesEnabled: bool
    globalConnectionsEnabled: bool
    customRolesEnabled: bool
    apiKeysEnabled: bool
    ssoEnabled: bool
    secretManagersEnabled: bool
    scimEnabled: bool
    licenseKey: str | None
    licenseExpiresAt: str | None
    stripeCustomerId: str | None
    stripeSubscriptionId: str | None
    stripeSubscriptionStatus: str | None
    stripeSubscriptionStartDate: int | None
    stripeSubscriptionEndDate: int | None
    stripeSubscriptionCancelDate: int | None
    projectsLimit: int | None
    activeFlowsLimit: int | None
    dedicatedWorkers: dict[str, bool] | None
    canary: bool
    customDomainsEnabled: bool
    workerGroupId: str | None


class PlatformUsage(BaseModel):
    totalAiCreditsUsed: int
    totalAiCreditsUsedThisMonth: int
    aiCreditsRemaining: int
    aiCreditsLimit: int
    activeFlows: int


class FederatedAuthProviders(BaseModel):
    saml: dict[str, Any] | None


class PlatformWithoutSensitiveData(BaseModel):
    id: str
    created: str
    updated: str
    ownerId: str
    name: str
    primaryColor: str
    themeColors: dict[str, Any] | None
    logoIconUrl: str
    fullLogoUrl: str
    favIconUrl: str
    filteredPieceNames: list[str]
    filteredPieceBehavior: Literal["ALLOWED", "BLOCKED"]
    cloudAuthEnabled: bool
    googleAuthEnabled: bool
    enforceAllowedAuthDomains: bool
    allowedAuthDomains: list[str]
    allowedEmbedOrigins: list[str]
    ssoDomain: str | None
    ssoDomainVerification: dict[str, Any] | None
    federatedAuthProviders: FederatedAuthProviders | None
    emailAuthEnabled: bool
    pinnedPieces: list[str]
    pieceSelectorConfig: dict[str, Any] | None
    plan: PlatformPlanLimits
    usage: PlatformUsage | None = None


def usage_body(plan: dict[str, Any], active_flows: int) -> dict[str, Any]:
    """What the platform has used: no AI credits (this server runs no AI steps), and its enabled flows."""
    limit = int(plan["includedAiCredits"])
    return {
        "totalAiCreditsUsed": 0,
        "totalAiCreditsUsedThisMonth": 0,
        "aiCreditsRemaining": limit,
        "aiCreditsLimit": limit,
        "activeFlows": active_flows,
    }


def platform_body(row: PlatformRow, active_flows: int | None) -> dict[str, Any]:
    """The platform as the real server shows it; `active_flows` None: no usage (the open-source
    edition has none)."""
    plan = plan_limits(row.edition, row.team_projects_limit)
    body: dict[str, Any] = {
        "id": row.id,
        "created": iso(row.created),
        "updated": iso(row.updated),
        "ownerId": row.owner_id,
        "name": row.name,
        "primaryColor": DEFAULT_PRIMARY_COLOR,
        "themeColors": None,
        "logoIconUrl": DEFAULT_LOGO_ICON_URL,
        "fullLogoUrl": DEFAULT_FULL_LOGO_URL,
        "favIconUrl": DEFAULT_FAV_ICON_URL,
        "filteredPieceNames": [],
        "filteredPieceBehavior": "BLOCKED",
        # Users sign in to no page of this server: keys are its only credentials.
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
        "plan": plan,
    }
    if active_flows is not None:
        body["usage"] = usage_body(plan, active_flows)
    return body
