"""What a platform's edition gives it: the plan limits of `PlatformWithoutSensitiveData.plan`, read
from the platform's row (its edition and team-project limit) and what this server serves to it.

Every platform here works through API keys and may hold global connections, whatever its edition,
so those features are on for all. COMMUNITY is the open-source plan (no team projects here);
PRO adds the paid features of a single team; ENTERPRISE has them all, with unlimited team projects.
"""

from __future__ import annotations

from typing import Any

COMMUNITY = "COMMUNITY"
PRO = "PRO"
ENTERPRISE = "ENTERPRISE"

# The real `ApEdition` each edition runs as: the open-source build, or the licensed one.
AP_EDITION = {COMMUNITY: "ce", PRO: "ee", ENTERPRISE: "ee"}

# Features a platform has on every edition of this server.
_ALWAYS = {
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
}
# Paid features, by edition.
_PAID = (
    "analyticsEnabled",
    "auditLogEnabled",
    "embeddingEnabled",
    "customAppearanceEnabled",
    "projectRolesEnabled",
    "customRolesEnabled",
    "ssoEnabled",
)
_PAID_BY_EDITION: dict[str, frozenset[str]] = {
    COMMUNITY: frozenset(),
    PRO: frozenset({"analyticsEnabled", "customAppearanceEnabled", "projectRolesEnabled"}),
    ENTERPRISE: frozenset(_PAID),
}
_PLAN_NAME = {COMMUNITY: None, PRO: "standard", ENTERPRISE: "enterprise"}


def plan_limits(edition: str, team_projects_limit: str) -> dict[str, Any]:
    """`PlatformPlanLimits` of a platform: its edition's features and its own team-project limit."""
    paid = _PAID_BY_EDITION.get(edition, frozenset())
    return {
        "plan": _PLAN_NAME.get(edition),
        "includedAiCredits": 0,
        "lastFreeAiCreditsRenewalDate": None,
        "aiCreditsAutoTopUpState": "disabled",
        "aiCreditsAutoTopUpThreshold": None,
        "aiCreditsAutoTopUpCreditsToAdd": None,
        "maxAutoTopUpCreditsMonthly": None,
        **_ALWAYS,
        **{feature: feature in paid for feature in _PAID},
        # This server renders no forms or pages that could carry the badge.
        "showPoweredBy": False,
        "teamProjectsLimit": team_projects_limit,
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


def is_open_source(edition: str) -> bool:
    return AP_EDITION.get(edition, "ce") == "ce"
