"""HTTP for `/v1/users` (the real platform-user controller): parse, call the service, answer."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from app.edge.auth import principal_of
from app.edge.http import ApiRoute, ApJSONResponse, compat_of
from app.kit.ids import ID_PATTERN
from app.users.schemas import SeekPageUsers, UpdateUserRequest, UserWithMetaInformation
from app.users.service import UserService

router = APIRouter(prefix="/users", tags=["users"], route_class=ApiRoute)

UserId = Annotated[str, Path(pattern=ID_PATTERN, description="The user id")]

DEFAULT_PAGE_SIZE = 10
# The real server takes any number; a page never holds more than this, and `next` carries on.
MAX_PAGE_SIZE = 1000


def service_of(http: Request) -> UserService:
    return UserService(http.app.state.db)


@router.get("", response_model=SeekPageUsers, summary="List users", description="The platform's users, newest first.")
async def list_users(
    http: Request,
    limit: int = Query(DEFAULT_PAGE_SIZE, ge=1),
    cursor: str | None = Query(None),
    externalId: str | None = Query(None, description="only the user with this externalId"),
) -> Response:
    body = await service_of(http).list(
        principal_of(http),
        limit=min(limit, MAX_PAGE_SIZE),
        cursor=compat_of(http.app).cursor(cursor),
        external_id=externalId,
    )
    return ApJSONResponse(body)


@router.post(
    "/{id}",
    response_model=UserWithMetaInformation,
    summary="Update user",
    description="Changes a user's `status`, `platformRole` or `externalId`.",
)
async def update_user(id: UserId, body: UpdateUserRequest, http: Request) -> Response:
    return ApJSONResponse(await service_of(http).update(principal_of(http), id, body))


@router.delete(
    "/{id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete user",
    description="Deletes the user with their personal project and their project memberships.",
)
async def delete_user(id: UserId, http: Request) -> Response:
    await service_of(http).delete(principal_of(http), id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
