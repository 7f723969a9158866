"""Request and response shapes of `/v1/user-invitations` (`@activepieces/shared` UserInvitation,
SendUserInvitationRequest, ListUserInvitationsRequest) and the admin route that accepts one. Unknown
request fields are ignored, as the real server does."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, StringConstraints

from app.edge.limits import MAX_STRING_LENGTH
from app.members.schemas import role_body
from app.users.schemas import EMAIL_PATTERN, Name, PlatformRole


class InvitationType(StrEnum):
    PLATFORM = "PLATFORM"
    PROJECT = "PROJECT"


class InvitationStatus(StrEnum):
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"


class _Request(BaseModel):
    model_config = ConfigDict(extra="ignore", str_max_length=MAX_STRING_LENGTH)


NonEmpty = Annotated[str, Field(min_length=1)]
# Trimmed first, as the real server trims (and lowers) the email it stores.
Email = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=320, pattern=EMAIL_PATTERN)]


class ProjectInvitationRequest(_Request):
    type: Literal["PROJECT"]
    email: Email
    projectId: NonEmpty
    # A role's name: a default role's or one of the platform's custom roles', in any case.
    projectRole: NonEmpty


class PlatformInvitationRequest(_Request):
    type: Literal["PLATFORM"]
    email: Email
    platformRole: PlatformRole


SendUserInvitationRequest = Annotated[ProjectInvitationRequest | PlatformInvitationRequest, Field(discriminator="type")]


class SendUserInvitationBody(RootModel[SendUserInvitationRequest]):
    pass


class AcceptInvitationRequest(BaseModel):
    """The admin route's body: the token of an invitation's link, and the new user's details."""

    model_config = ConfigDict(extra="forbid", str_max_length=MAX_STRING_LENGTH)

    token: NonEmpty
    firstName: Name = ""
    lastName: Name = ""
    externalId: Annotated[str, Field(min_length=1, max_length=255)] | None = None


# --- responses (documentation of the OpenAPI; bodies are built by the functions below)


class ProjectRoleOfInvitation(BaseModel):
    id: str
    created: str
    updated: str
    name: str
    permissions: list[str]
    platformId: str | None
    type: str


class UserInvitationBody(BaseModel):
    id: str
    created: str
    updated: str
    email: str
    status: InvitationStatus
    type: InvitationType
    platformId: str
    platformRole: PlatformRole | None
    projectId: str | None
    projectRoleId: str | None
    projectRole: ProjectRoleOfInvitation | None


class UserInvitationWithLinkBody(UserInvitationBody):
    link: str | None = Field(
        None, description="The invitation's link, for the invited person to accept it (no email is sent)"
    )


class SeekPageUserInvitations(BaseModel):
    data: list[UserInvitationBody]
    next: str | None
    previous: str | None


def invitation_body(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "created": row["created_iso"],
        "updated": row["updated_iso"],
        "email": row["email"],
        "status": row["status"],
        "type": row["type"],
        "platformId": row["platform_id"],
        "platformRole": row["platform_role"],
        "projectId": row["project_id"],
        "projectRoleId": row["project_role_id"],
        "projectRole": role_body(row, prefix="role_") if row["role_id"] is not None else None,
    }
