"""HTTP for `/v1/flags`: the server's flags, for any caller (a key is optional)."""

from typing import Any

from fastapi import APIRouter, Request, Response

from app.edge.auth import optional_principal_of
from app.edge.http import ApiRoute, ApJSONResponse
from app.flags.service import FlagService

router = APIRouter(prefix="/flags", tags=["flags"], route_class=ApiRoute)


def service_of(http: Request) -> FlagService:
    return FlagService(http.app.state.settings, http.app.state.platform_service)


@router.get(
    "",
    response_model=dict[str, Any],
    summary="Get the server's flags",
    description=(
        "A map of flag (`ApFlagId`) to value: edition, version, public URLs and features. Answers "
        "without a key too; with one, as the key's platform sees them."
    ),
)
async def get_flags(http: Request) -> Response:
    principal = optional_principal_of(http)
    public_url = str(http.base_url)
    flags = await service_of(http).get(principal.platform_id if principal is not None else None, public_url)
    return ApJSONResponse(flags)
