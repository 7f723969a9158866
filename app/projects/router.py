"""HTTP for `/v1/projects`: parse, call the service, answer."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from app.edge.auth import principal_of
from app.edge.http import ApiRoute, ApJSONResponse, compat_of
from app.edge.limits import MAX_QUERY_LIST_ITEMS
from app.kit.ids import ID_PATTERN
from app.projects.schemas import (
    CreateProjectRequest,
    ProjectType,
    ProjectWithLimits,
    SeekPageProjects,
    UpdateProjectRequest,
)
from app.projects.service import ProjectService

router = APIRouter(prefix="/projects", tags=["projects"], route_class=ApiRoute)

ProjectId = Annotated[str, Path(pattern=ID_PATTERN, description="The project id")]


def service_of(http: Request) -> ProjectService:
    # Composed by `app.main`, with what the domains above projects supply.
    service: ProjectService = http.app.state.project_service
    return service


@router.get("", response_model=SeekPageProjects, summary="List projects")
async def list_projects(
    http: Request,
    limit: int = Query(50, ge=1, le=100),
    cursor: str | None = Query(None),
    externalId: str | None = Query(None),
    displayName: str | None = Query(None),
    types: list[ProjectType] | None = Query(None, max_length=MAX_QUERY_LIST_ITEMS),
    externalUserId: str | None = Query(None, description="projects of the user with this externalId"),
) -> Response:
    body = await service_of(http).list(
        principal_of(http),
        limit=limit,
        cursor=compat_of(http.app).cursor(cursor),
        external_id=externalId,
        display_name=displayName,
        types=[t.value for t in types] if types else None,
        external_user_id=externalUserId,
    )
    return ApJSONResponse(body)


@router.post("", response_model=ProjectWithLimits, status_code=status.HTTP_201_CREATED, summary="Create project")
async def create_project(body: CreateProjectRequest, http: Request) -> Response:
    project = await service_of(http).create(principal_of(http), body)
    return ApJSONResponse(project, status_code=status.HTTP_201_CREATED)


@router.get("/{id}", response_model=ProjectWithLimits, summary="Get project")
async def get_project(id: ProjectId, http: Request) -> Response:
    return ApJSONResponse(await service_of(http).get(principal_of(http), id))


@router.post("/{id}", response_model=ProjectWithLimits, summary="Update project")
async def update_project(id: ProjectId, body: UpdateProjectRequest, http: Request) -> Response:
    return ApJSONResponse(await service_of(http).update(principal_of(http), id, body))


@router.delete("/{id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response, summary="Delete project")
async def delete_project(id: ProjectId, http: Request) -> Response:
    await service_of(http).delete(principal_of(http), id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
