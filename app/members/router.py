"""HTTP for `/v1/project-roles` and `/v1/project-members`: parse, call the service, answer."""

from fastapi import APIRouter, Query, Request, Response, status

from app.edge.auth import principal_of
from app.edge.http import ApiRoute, ApJSONResponse, compat_of
from app.members.schemas import (
    CreateProjectRoleRequest,
    ProjectMemberBody,
    ProjectRoleBody,
    SeekPageMembers,
    SeekPageProjectRoles,
    UpdateProjectMemberRoleRequest,
    UpdateProjectRoleRequest,
)
from app.members.service import MemberService

roles_router = APIRouter(prefix="/project-roles", tags=["project-roles"], route_class=ApiRoute)
members_router = APIRouter(prefix="/project-members", tags=["project-members"], route_class=ApiRoute)

# A name the platform's roles already have (the edge's OpenAPI fills in the other errors).
NAME_CONFLICT: dict[int | str, dict[str, object]] = {
    409: {
        "description": "The platform already has a role of this name (`VALIDATION`)",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ActivepiecesError"}}},
    }
}

DEFAULT_PAGE_SIZE = 10
# The real server takes any number; a page never holds more than this, and `next` carries on.
MAX_PAGE_SIZE = 1000


def service_of(http: Request) -> MemberService:
    return MemberService(http.app.state.db)


# --- roles


@roles_router.get(
    "",
    response_model=SeekPageProjectRoles,
    summary="List project roles",
    description="The default roles and the platform's custom roles, oldest first, each with its `userCount`.",
)
async def list_project_roles(http: Request) -> Response:
    return ApJSONResponse(await service_of(http).list_roles(principal_of(http)))


@roles_router.get("/{id}", response_model=ProjectRoleBody, summary="Get a project role")
async def get_project_role(id: str, http: Request) -> Response:
    return ApJSONResponse(await service_of(http).get_role(principal_of(http), id))


@roles_router.get(
    "/{id}/project-members",
    response_model=SeekPageMembers,
    tags=["project-members"],
    summary="List the members that have a project role",
)
async def list_project_role_members(
    id: str,
    http: Request,
    limit: int = Query(DEFAULT_PAGE_SIZE, ge=1),
    cursor: str | None = Query(None),
) -> Response:
    body = await service_of(http).list_role_members(
        principal_of(http), id, limit=min(limit, MAX_PAGE_SIZE), cursor=compat_of(http.app).cursor(cursor)
    )
    return ApJSONResponse(body)


@roles_router.post(
    "",
    response_model=ProjectRoleBody,
    status_code=status.HTTP_201_CREATED,
    responses=NAME_CONFLICT,
    summary="Create a custom project role",
    description="Custom roles need an edition that has them; a name is unique on the platform, in any case.",
)
async def create_project_role(body: CreateProjectRoleRequest, http: Request) -> Response:
    role = await service_of(http).create_role(principal_of(http), body)
    return ApJSONResponse(role, status_code=status.HTTP_201_CREATED)


@roles_router.post(
    "/{id}",
    response_model=ProjectRoleBody,
    responses=NAME_CONFLICT,
    summary="Update a custom project role",
    description="Renames a custom role or replaces its permissions. The default roles do not change.",
)
async def update_project_role(id: str, body: UpdateProjectRoleRequest, http: Request) -> Response:
    return ApJSONResponse(await service_of(http).update_role(principal_of(http), id, body))


@roles_router.delete(
    "/{name}",
    status_code=status.HTTP_200_OK,
    response_class=Response,
    summary="Delete a custom project role",
    description="Deletes the platform's custom role of this name, and the memberships that have it. "
    "A default role's name is answered the same way and the role stays.",
)
async def delete_project_role(name: str, http: Request) -> Response:
    await service_of(http).delete_role(principal_of(http), name)
    return Response(status_code=status.HTTP_200_OK)


# --- members


@members_router.get("", response_model=SeekPageMembers, summary="List a project's members")
async def list_project_members(
    http: Request,
    projectId: str = Query(...),
    projectRoleId: str | None = Query(None),
    limit: int = Query(DEFAULT_PAGE_SIZE, ge=1),
    cursor: str | None = Query(None),
) -> Response:
    body = await service_of(http).list_members(
        principal_of(http),
        projectId,
        project_role_id=projectRoleId,
        limit=min(limit, MAX_PAGE_SIZE),
        cursor=compat_of(http.app).cursor(cursor),
    )
    return ApJSONResponse(body)


@members_router.post(
    "/{id}",
    response_model=ProjectMemberBody,
    summary="Change a project member's role",
    description="`role` names a default role or one of the platform's custom roles, in any case.",
)
async def update_project_member_role(id: str, body: UpdateProjectMemberRoleRequest, http: Request) -> Response:
    return ApJSONResponse(await service_of(http).update_member_role(principal_of(http), id, body.role))


@members_router.delete(
    "/{id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response, summary="Remove a project member"
)
async def delete_project_member(id: str, http: Request) -> Response:
    await service_of(http).delete_member(principal_of(http), id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
