"""Request and response shapes of `/v1/project-roles` and `/v1/project-members`. Unknown request
fields are ignored, as the real server does."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from app.edge.limits import MAX_STRING_LENGTH

SAFE_STRING_PATTERN = r"^[^./]+$"
# A role's name is part of a unique index, so it is bounded (the real schema is not).
MAX_ROLE_NAME_LENGTH = 255
MAX_PERMISSIONS = 1000
MAX_PERMISSION_LENGTH = 255


class RoleType(StrEnum):
    DEFAULT = "DEFAULT"
    CUSTOM = "CUSTOM"


class _Request(BaseModel):
    model_config = ConfigDict(extra="ignore", str_max_length=MAX_STRING_LENGTH)


RoleName = Annotated[str, Field(pattern=SAFE_STRING_PATTERN, max_length=MAX_ROLE_NAME_LENGTH)]
Permissions = Annotated[
    list[Annotated[str, Field(max_length=MAX_PERMISSION_LENGTH)]], Field(max_length=MAX_PERMISSIONS)
]


class CreateProjectRoleRequest(_Request):
    name: RoleName
    permissions: Permissions
    # Required by the real schema; a platform only ever creates CUSTOM roles (see docs).
    type: RoleType


class UpdateProjectRoleRequest(_Request):
    name: RoleName | None = None
    permissions: Permissions | None = None


class UpdateProjectMemberRoleRequest(_Request):
    role: Annotated[str, Field(max_length=MAX_ROLE_NAME_LENGTH)]


# --- responses


class ProjectRoleBody(BaseModel):
    id: str
    created: str
    updated: str
    name: str
    permissions: list[str]
    platformId: str | None
    type: RoleType
    userCount: int | None = None


class SeekPageProjectRoles(BaseModel):
    data: list[ProjectRoleBody]
    next: str | None
    previous: str | None


class ProjectMemberBody(BaseModel):
    id: str
    created: str
    updated: str
    platformId: str
    userId: str
    projectId: str
    projectRoleId: str


class MemberUser(BaseModel):
    id: str
    email: str
    firstName: str
    lastName: str
    status: str
    platformRole: str
    externalId: str | None
    platformId: str | None
    created: str
    updated: str
    lastActiveDate: str | None
    imageUrl: str | None


class ProjectMetaData(BaseModel):
    id: str
    displayName: str


class ProjectMemberWithUser(ProjectMemberBody):
    user: MemberUser
    projectRole: ProjectRoleBody
    project: ProjectMetaData


class SeekPageMembers(BaseModel):
    data: list[ProjectMemberWithUser]
    next: str | None
    previous: str | None


def role_body(row: Mapping[str, Any], *, prefix: str = "", user_count: bool = False) -> dict[str, Any]:
    body = {
        "id": row[f"{prefix}id"],
        "created": row[f"{prefix}created_iso"],
        "updated": row[f"{prefix}updated_iso"],
        "name": row[f"{prefix}name"],
        "permissions": list(row[f"{prefix}permissions"]),
        "platformId": row[f"{prefix}platform_id"],
        "type": row[f"{prefix}type"],
    }
    if user_count:
        body["userCount"] = row["user_count"]
    return body


def member_body(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "created": row["created_iso"],
        "updated": row["updated_iso"],
        "platformId": row["platform_id"],
        "userId": row["user_id"],
        "projectId": row["project_id"],
        "projectRoleId": row["project_role_id"],
    }


def member_with_user_body(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **member_body(row),
        "user": {
            "id": row["user_id"],
            "email": row["user_email"],
            "firstName": row["user_first_name"],
            "lastName": row["user_last_name"],
            "status": row["user_status"],
            "platformRole": row["user_platform_role"],
            "externalId": row["user_external_id"],
            "platformId": row["user_platform_id"],
            "created": row["user_created_iso"],
            "updated": row["user_updated_iso"],
            "lastActiveDate": row["user_last_active_date_iso"],
            "imageUrl": row["user_image_url"],
        },
        "projectRole": role_body(row, prefix="role_"),
        "project": {"id": row["project_id"], "displayName": row["project_display_name"]},
    }
