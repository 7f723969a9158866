"""HTTP for `/v1/platforms`: parse, call the service, answer."""

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from app.edge.auth import principal_of
from app.edge.http import ApiRoute, ApJSONResponse
from app.kit.ids import ID_PATTERN
from app.platforms.schemas import PlatformWithoutSensitiveData
from app.platforms.service import PlatformService

router = APIRouter(prefix="/platforms", tags=["platforms"], route_class=ApiRoute)

PlatformId = Annotated[str, Path(pattern=ID_PATTERN, description="The platform id: the key's own")]


def service_of(http: Request) -> PlatformService:
    # Composed by `app.main`, with what the domains above platforms supply.
    service: PlatformService = http.app.state.platform_service
    return service


@router.get(
    "/{id}",
    response_model=PlatformWithoutSensitiveData,
    summary="Get platform",
    description="The key's own platform, with its plan (and usage, on a licensed edition). Never a secret.",
)
async def get_platform(id: PlatformId, http: Request) -> Response:
    return ApJSONResponse(await service_of(http).get(principal_of(http), id))
