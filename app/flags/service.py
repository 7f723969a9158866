"""The server's flags (`GET /v1/flags`): what a client may read about this server before, or
instead of, asking for anything else. Every value is computed from this server's own state: its
version, its settings, the caller's platform (its edition and plan) and the URL it was reached at.

An anonymous caller gets the server's flags; a caller with a key gets them as its platform sees
them (the real server's enterprise hook does the same per platform)."""

from __future__ import annotations

from typing import Any

from app import __version__
from app.kit.config import Settings
from app.platforms.plans import AP_EDITION, is_open_source, plan_limits
from app.platforms.repository import PlatformRow
from app.platforms.service import PlatformService

# The real server's `ApEnvironment.PRODUCTION`: this server has no development mode.
ENVIRONMENT = "prod"
# The real `PieceSyncMode` for a server that syncs no piece catalogue.
PIECES_SYNC_NONE = "NONE"


def server_edition(settings: Settings) -> str:
    """The edition an anonymous caller is told: the one this server gives the platforms it creates
    by itself (`AP_BOOTSTRAP_EDITION`)."""
    return AP_EDITION.get(settings.bootstrap_edition, "ce")


def compute_flags(
    *, settings: Settings, public_url: str, platform: PlatformRow | None, user_created: bool
) -> dict[str, Any]:
    """`public_url`: the server's address as the client reached it, ending in `/`."""
    edition = AP_EDITION.get(platform.edition, "ce") if platform is not None else server_edition(settings)
    flags: dict[str, Any] = {
        "ENVIRONMENT": ENVIRONMENT,
        "EDITION": edition,
        "CURRENT_VERSION": __version__,
        # This server looks nothing up on the internet: the newest release it knows is its own.
        "LATEST_VERSION": __version__,
        "PUBLIC_URL": public_url,
        "WEBHOOK_URL_PREFIX": f"{public_url}api/v1/webhooks",
        "THIRD_PARTY_AUTH_PROVIDER_REDIRECT_URL": f"{public_url}redirect",
        "THIRD_PARTY_AUTH_PROVIDERS_TO_SHOW_MAP": {},
        # No sign-in page, no e-mail, no billing, no telemetry: API keys are the only credentials.
        "EMAIL_AUTH_ENABLED": False,
        "CLOUD_AUTH_ENABLED": False,
        "SMTP_CONFIGURED": False,
        "SHOW_BILLING_PAGE": False,
        "TELEMETRY_ENABLED": False,
        "SHOW_POWERED_BY_IN_FORM": False,
        "SHOW_COMMUNITY": edition == "ce",
        "PRIVATE_PIECES_ENABLED": edition != "ce",
        "PIECES_SYNC_MODE": PIECES_SYNC_NONE,
        "SUPPORTED_APP_WEBHOOKS": [],
        # Flows are stored and edited here, never run: no step code, no agents.
        "ALLOW_NPM_PACKAGES_IN_CODE_STEP": False,
        "AGENTS_CONFIGURED": False,
        "USER_CREATED": user_created,
    }
    if platform is not None:
        plan = plan_limits(platform.edition, platform.team_projects_limit)
        flags["THIRD_PARTY_AUTH_PROVIDERS_TO_SHOW_MAP"] = {"google": False, "saml": False}
        flags["SAML_AUTH_ACS_URL"] = f"{public_url}api/v1/authn/saml/acs"
        flags["SHOW_POWERED_BY_IN_FORM"] = plan["showPoweredBy"]
        flags["SHOW_COMMUNITY"] = is_open_source(platform.edition)
        flags["SHOW_PROJECT_MEMBERS"] = plan["projectRolesEnabled"]
    return flags


class FlagService:
    def __init__(self, settings: Settings, platforms: PlatformService) -> None:
        self.settings = settings
        self.platforms = platforms

    async def get(self, platform_id: str | None, public_url: str) -> dict[str, Any]:
        platform = await self.platforms.get_row(platform_id) if platform_id is not None else None
        user_created = True if platform is not None else await self.platforms.any_user()
        return compute_flags(
            settings=self.settings, public_url=public_url, platform=platform, user_created=user_created
        )
