"""HTTP for `/v1/global-connections`: parse, call the service, answer."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from app.edge.auth import principal_of
from app.edge.http import ApiRoute, ApJSONResponse, compat_of
from app.edge.limits import MAX_QUERY_LIST_ITEMS
from app.global_connections.schemas import (
    AppConnectionScope,
    AppConnectionStatus,
    AppConnectionWithoutSensitiveData,
    SeekPageConnections,
    UpdateGlobalConnectionRequest,
    UpsertGlobalConnectionBody,
)
from app.global_connections.service import GlobalConnectionService
from app.kit.ids import ID_PATTERN

router = APIRouter(prefix="/global-connections", tags=["global-connections"], route_class=ApiRoute)

ConnectionId = Annotated[str, Path(pattern=ID_PATTERN, description="The connection id")]

DEFAULT_PAGE_SIZE = 10
# The real server takes any number; a page never holds more than this, and `next` carries on.
MAX_PAGE_SIZE = 1000


def service_of(http: Request) -> GlobalConnectionService:
    return GlobalConnectionService(
        http.app.state.db,
        http.app.state.secrets,
        upsert_matches_projects=compat_of(http.app).upsert_matches_projects,
    )


@router.post(
    "",
    response_model=AppConnectionWithoutSensitiveData,
    status_code=status.HTTP_201_CREATED,
    summary="Upsert a global connection",
    description="Creates a connection, or updates the platform's connection with the same `externalId`.",
)
async def upsert_global_connection(body: UpsertGlobalConnectionBody, http: Request) -> Response:
    connection = await service_of(http).upsert(principal_of(http), body.root)
    return ApJSONResponse(connection, status_code=status.HTTP_201_CREATED)


@router.post("/{id}", response_model=AppConnectionWithoutSensitiveData, summary="Update a global connection")
async def update_global_connection(id: ConnectionId, body: UpdateGlobalConnectionRequest, http: Request) -> Response:
    return ApJSONResponse(await service_of(http).update(principal_of(http), id, body))


@router.get("", response_model=SeekPageConnections, summary="List global connections")
async def list_global_connections(
    http: Request,
    limit: int = Query(DEFAULT_PAGE_SIZE, ge=1),
    cursor: str | None = Query(None),
    pieceName: str | None = Query(None),
    displayName: str | None = Query(None),
    status: list[AppConnectionStatus] | None = Query(None, max_length=MAX_QUERY_LIST_ITEMS),
    scope: AppConnectionScope | None = Query(None, description="Accepted; the list is always the global connections."),
) -> Response:
    del scope  # validated only: the real server lists global connections whatever it says
    body = await service_of(http).list(
        principal_of(http),
        limit=min(limit, MAX_PAGE_SIZE),
        cursor=compat_of(http.app).cursor(cursor),
        piece_name=pieceName,
        display_name=displayName,
        statuses=[s.value for s in status] if status else None,
    )
    return ApJSONResponse(body)


@router.delete(
    "/{id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response, summary="Delete a global connection"
)
async def delete_global_connection(id: ConnectionId, http: Request) -> Response:
    await service_of(http).delete(principal_of(http), id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
