"""HTTP for `/v1/app-connections` (a project's connections): parse, call the service, answer."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from app.app_connections.schemas import (
    AppConnectionScope,
    AppConnectionStatus,
    AppConnectionWithoutSensitiveData,
    ReplaceAppConnectionsRequest,
    SeekPageConnections,
    SeekPageOwners,
    UpdateConnectionValueRequest,
    UpsertAppConnectionBody,
)
from app.app_connections.service import AppConnectionService
from app.edge.auth import principal_of
from app.edge.http import ApiRoute, ApJSONResponse, compat_of
from app.edge.limits import MAX_QUERY_LIST_ITEMS
from app.kit.ids import ID_PATTERN

router = APIRouter(prefix="/app-connections", tags=["app-connections"], route_class=ApiRoute)

ConnectionId = Annotated[str, Path(pattern=ID_PATTERN, description="The connection id")]

DEFAULT_PAGE_SIZE = 10
# The real server takes any number; a page never holds more than this, and `next` carries on.
MAX_PAGE_SIZE = 1000


def service_of(http: Request) -> AppConnectionService:
    return AppConnectionService(http.app.state.db, http.app.state.secrets)


@router.post(
    "",
    response_model=AppConnectionWithoutSensitiveData,
    status_code=status.HTTP_201_CREATED,
    summary="Upsert a project connection",
    description=(
        "Creates a connection in the project, or updates the project's connection with the same `externalId`."
        " Type `PLACEHOLDER` makes a connection to fill in later (status `MISSING`)."
    ),
)
async def upsert_app_connection(body: UpsertAppConnectionBody, http: Request) -> Response:
    connection = await service_of(http).upsert(principal_of(http), body.root)
    return ApJSONResponse(connection, status_code=status.HTTP_201_CREATED)


@router.get("", response_model=SeekPageConnections, summary="List a project's connections")
async def list_app_connections(
    http: Request,
    projectId: str = Query(...),
    limit: int = Query(DEFAULT_PAGE_SIZE, ge=1),
    cursor: str | None = Query(None),
    pieceName: str | None = Query(None),
    displayName: str | None = Query(None),
    status: list[AppConnectionStatus] | None = Query(None, max_length=MAX_QUERY_LIST_ITEMS),
    scope: AppConnectionScope | None = Query(None),
) -> Response:
    body = await service_of(http).list(
        principal_of(http),
        projectId,
        limit=min(limit, MAX_PAGE_SIZE),
        cursor=compat_of(http.app).cursor(cursor),
        piece_name=pieceName,
        display_name=displayName,
        statuses=[s.value for s in status] if status else None,
        scope=scope.value if scope else None,
    )
    return ApJSONResponse(body)


@router.get("/owners", response_model=SeekPageOwners, summary="List who can own a project's connections")
async def list_app_connection_owners(http: Request, projectId: str = Query(...)) -> Response:
    return ApJSONResponse(await service_of(http).owners(principal_of(http), projectId))


@router.post(
    "/replace",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Move a project's flows from one connection to another",
)
async def replace_app_connections(body: ReplaceAppConnectionsRequest, http: Request) -> Response:
    await service_of(http).replace(principal_of(http), body)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{id}", response_model=AppConnectionWithoutSensitiveData, summary="Update a project connection")
async def update_app_connection(id: ConnectionId, body: UpdateConnectionValueRequest, http: Request) -> Response:
    return ApJSONResponse(await service_of(http).update(principal_of(http), id, body))


@router.delete(
    "/{id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response, summary="Delete a project connection"
)
async def delete_app_connection(id: ConnectionId, http: Request) -> Response:
    await service_of(http).delete(principal_of(http), id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
