"""HTTP for `/v1/user-invitations`: parse, call the service, answer."""

from fastapi import APIRouter, Query, Request, Response, status

from app.edge.auth import principal_of
from app.edge.http import ApiRoute, ApJSONResponse, compat_of
from app.invitations.schemas import (
    InvitationStatus,
    InvitationType,
    SeekPageUserInvitations,
    SendUserInvitationBody,
    UserInvitationWithLinkBody,
)
from app.invitations.service import InvitationService

router = APIRouter(prefix="/user-invitations", tags=["user-invitations"], route_class=ApiRoute)

DEFAULT_PAGE_SIZE = 10
# The real server takes any number; a page never holds more than this, and `next` carries on.
MAX_PAGE_SIZE = 1000


def service_of(http: Request) -> InvitationService:
    return InvitationService(http.app.state.db)


@router.post(
    "",
    response_model=UserInvitationWithLinkBody,
    status_code=status.HTTP_201_CREATED,
    summary="Invite a user to the platform or to a project",
    description="A PLATFORM invitation gives a `platformRole`; a PROJECT one gives a project role, by "
    "name, in one of the platform's projects (an edition with project roles). Inviting the same email "
    "again updates the invitation (same id, new role and link). An email that already belongs to a "
    "user of the platform is accepted at once (`status` ACCEPTED); otherwise the invitation is "
    "PENDING and the answer carries its `link`.",
)
async def send_user_invitation(body: SendUserInvitationBody, http: Request) -> Response:
    invitation = await service_of(http).send(principal_of(http), body.root, base_url=str(http.base_url))
    return ApJSONResponse(invitation, status_code=status.HTTP_201_CREATED)


@router.get(
    "",
    response_model=SeekPageUserInvitations,
    summary="List user invitations",
    description="The platform's pending invitations of one `type`, oldest first; `projectId` narrows "
    "PROJECT invitations to one project.",
)
async def list_user_invitations(
    http: Request,
    type: InvitationType = Query(...),
    projectId: str | None = Query(None),
    status: InvitationStatus | None = Query(None),
    email: str | None = Query(None, max_length=320),
    limit: int = Query(DEFAULT_PAGE_SIZE, ge=1),
    cursor: str | None = Query(None),
) -> Response:
    body = await service_of(http).list(
        principal_of(http),
        type=type,
        project_id=projectId,
        status=status,
        email=email,
        limit=min(limit, MAX_PAGE_SIZE),
        cursor=compat_of(http.app).cursor(cursor),
    )
    return ApJSONResponse(body)


@router.delete(
    "/{id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response, summary="Delete a user invitation"
)
async def delete_user_invitation(id: str, http: Request) -> Response:
    await service_of(http).delete(principal_of(http), id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
