"""Request and response shapes of `/v1/users` (the real `UpdateUserRequestBody`,
`ListUsersRequestBody` and `UserWithMetaInformation`), and of a new user as the admin API and seed
files make one. Unknown request fields of `/v1` are ignored, as the real server does."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from app.edge.limits import MAX_LIST_ITEMS, MAX_STRING_LENGTH
from app.kit.ids import ID_PATTERN


class UserStatus(StrEnum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"


class PlatformRole(StrEnum):
    ADMIN = "ADMIN"
    MEMBER = "MEMBER"
    OPERATOR = "OPERATOR"


class ProjectRole(StrEnum):
    ADMIN = "ADMIN"
    EDITOR = "EDITOR"
    OPERATOR = "OPERATOR"
    VIEWER = "VIEWER"


class UpdateUserRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", str_max_length=MAX_STRING_LENGTH)

    status: UserStatus | None = None
    platformRole: PlatformRole | None = None
    externalId: str | None = None


# --- a new user (admin API, seed files): not a route of the real API


EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+$"
Email = Annotated[str, Field(min_length=3, max_length=320, pattern=EMAIL_PATTERN)]
Name = Annotated[str, Field(max_length=255)]


class ProjectMembership(BaseModel):
    model_config = ConfigDict(extra="forbid")

    projectId: Annotated[str, Field(pattern=ID_PATTERN)]
    projectRole: ProjectRole = ProjectRole.EDITOR


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    firstName: Name = ""
    lastName: Name = ""
    platformRole: PlatformRole = PlatformRole.MEMBER
    externalId: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    status: UserStatus = UserStatus.ACTIVE
    # As a user who has signed in on the real server: a PERSONAL project of their own.
    personalProject: bool = True
    # Memberships of the platform's projects (they count in a project's analytics).
    projects: Annotated[list[ProjectMembership], Field(max_length=MAX_LIST_ITEMS)] = []


# --- responses (documented in OpenAPI; built as plain dicts)


class UserWithMetaInformation(BaseModel):
    id: str
    email: str
    firstName: str
    lastName: str
    status: UserStatus
    externalId: str | None
    platformId: str | None
    platformRole: PlatformRole
    created: str
    updated: str
    lastActiveDate: str | None
    imageUrl: str | None


class SeekPageUsers(BaseModel):
    data: list[UserWithMetaInformation]
    next: str | None
    previous: str | None


def user_body(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "email": row["email"],
        "firstName": row["first_name"],
        "lastName": row["last_name"],
        "status": row["status"],
        "externalId": row["external_id"],
        "platformId": row["platform_id"],
        "platformRole": row["platform_role"],
        "created": row["created_iso"],
        "updated": row["updated_iso"],
        "lastActiveDate": row["last_active_date_iso"],
        "imageUrl": row["image_url"],
    }
