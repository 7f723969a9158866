"""HTTP for `/v1/flows`: parse, call the service, answer."""

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Request, Response, status

from app.edge.auth import principal_of
from app.edge.http import ApiRoute, ApJSONResponse, compat_of
from app.edge.limits import MAX_QUERY_LIST_ITEMS
from app.flows.schemas import (
    CreateFlowRequest,
    FlowOperationRequest,
    FlowStatus,
    FlowTemplate,
    FlowVersionState,
    PopulatedFlow,
    SeekPageFlows,
    SeekPageFlowVersions,
)
from app.flows.service import FlowService
from app.kit.ids import ID_PATTERN

router = APIRouter(prefix="/flows", tags=["flows"], route_class=ApiRoute)

FlowId = Annotated[str, Path(pattern=ID_PATTERN, description="The flow id")]

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 1000


def service_of(http: Request) -> FlowService:
    return FlowService(http.app.state.db)


@router.post("", response_model=PopulatedFlow, status_code=status.HTTP_201_CREATED, summary="Create a flow")
async def create_flow(body: CreateFlowRequest, http: Request) -> Response:
    flow = await service_of(http).create(principal_of(http), body)
    return ApJSONResponse(flow, status_code=status.HTTP_201_CREATED)


@router.get("", response_model=SeekPageFlows, summary="List flows of a project")
async def list_flows(
    http: Request,
    projectId: str = Query(...),
    limit: int = Query(DEFAULT_PAGE_SIZE, ge=1),
    cursor: str | None = Query(None),
    folderId: str | None = Query(None),
    folderIds: list[str] | None = Query(
        None, max_length=MAX_QUERY_LIST_ITEMS, description="Flows in any of these folders (repeatable)"
    ),
    status: list[FlowStatus] | None = Query(None, max_length=MAX_QUERY_LIST_ITEMS),
    name: str | None = Query(None),
    externalIds: list[str] | None = Query(None, max_length=MAX_QUERY_LIST_ITEMS),
    connectionExternalIds: list[str] | None = Query(None, max_length=MAX_QUERY_LIST_ITEMS),
    versionState: FlowVersionState | None = Query(None),
) -> Response:
    body = await service_of(http).list(
        principal_of(http),
        project_id=projectId,
        limit=min(limit, MAX_PAGE_SIZE),
        cursor=compat_of(http.app).cursor(cursor),
        folder_id=folderId,
        statuses=[s.value for s in status] if status else None,
        name=name,
        external_ids=externalIds,
        connection_external_ids=connectionExternalIds,
        version_state=versionState.value if versionState else None,
        folder_ids=folderIds,
    )
    return ApJSONResponse(body)


@router.get("/count", response_model=int, summary="Count the flows of a project")
async def count_flows(http: Request, projectId: str = Query(...), folderId: str | None = Query(None)) -> Response:
    return ApJSONResponse(await service_of(http).count(principal_of(http), projectId, folderId))


@router.get("/{id}/template", response_model=FlowTemplate, summary="Get a flow as a shareable template")
async def get_flow_template(id: FlowId, http: Request) -> Response:
    return ApJSONResponse(await service_of(http).template(principal_of(http), id))


@router.get(
    "/{id}/versions",
    response_model=SeekPageFlowVersions,
    summary="List a flow's versions",
    description=(
        "Newest first, without their step trees. The real server keeps this route for users "
        "(`AP_COMPAT=server` answers an API key 403); documented mode answers an API key as a user."
    ),
)
async def list_flow_versions(
    id: FlowId,
    http: Request,
    limit: int = Query(DEFAULT_PAGE_SIZE, ge=1),
    cursor: str | None = Query(None),
) -> Response:
    policy = compat_of(http.app)
    policy.users_only()
    body = await service_of(http).list_versions(
        principal_of(http), id, limit=min(limit, MAX_PAGE_SIZE), cursor=policy.cursor(cursor)
    )
    return ApJSONResponse(body)


@router.get("/{id}", response_model=PopulatedFlow, summary="Get a flow")
async def get_flow(id: FlowId, http: Request, versionId: str | None = Query(None)) -> Response:
    return ApJSONResponse(await service_of(http).get(principal_of(http), id, versionId))


@router.post("/{id}", response_model=PopulatedFlow, summary="Apply an operation to a flow")
async def update_flow(id: FlowId, http: Request, body: Annotated[FlowOperationRequest, Body()]) -> Response:
    return ApJSONResponse(await service_of(http).apply(principal_of(http), id, body))


@router.delete("/{id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response, summary="Delete a flow")
async def delete_flow(id: FlowId, http: Request) -> Response:
    await service_of(http).delete(principal_of(http), id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
