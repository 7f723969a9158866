"""Platform-user rules, as the real server's user service has them: a platform's users only (another
platform's user is a missing one), the platform owner can be neither deactivated nor deleted, and a
deleted user takes their PERSONAL project (with its flows) and their memberships along. One
transaction per call."""

from __future__ import annotations

from typing import Any

from app.edge.auth import Principal
from app.kit.db import Database
from app.kit.errors import ActivepiecesError, EntityNotFound, ProjectNotFound, ValidationFailed
from app.kit.ids import new_id
from app.kit.pagination import decode_cursor
from app.members.service import DEFAULT_ROLE_IDS
from app.projects.repository import ProjectRepository
from app.projects.service import new_project_values
from app.users.repository import (
    EmailTaken,
    ExternalIdTaken,
    MembershipRepository,
    PlatformVanished,
    UserRepository,
)
from app.users.schemas import NewUser, UpdateUserRequest, UserStatus, user_body

# The admin API's role names, as the default roles they give (OPERATOR has no default role in a
# project: it is an Editor there, as on the real server).
ROLE_NAMES = {"ADMIN": "Admin", "EDITOR": "Editor", "OPERATOR": "Editor", "VIEWER": "Viewer"}

OWNER_DEACTIVATED = "Admin cannot be deactivated"
OWNER_DELETED = "Platform owner cannot be deleted"


class UserNotFound(EntityNotFound):
    """A user that does not exist, or is another platform's (the two look the same, as on the real server)."""

    def __init__(self, user_id: str) -> None:
        super().__init__("user", user_id, "User not found")


class UserExternalIdTaken(ValidationFailed):
    def __init__(self, external_id: str) -> None:
        super().__init__(f"A user with externalId {external_id!r} already exists on this platform")


class ExistingUser(ActivepiecesError):
    """The platform already has a user with this email (the real server's EXISTING_USER)."""

    status_code = 409
    code = "EXISTING_USER"

    def __init__(self, email: str, platform_id: str) -> None:
        super().__init__({"email": email, "platformId": platform_id})


def personal_project_name(user: NewUser) -> str:
    name = user.firstName.strip() or user.email.split("@", 1)[0]
    # A project's name may hold neither `.` nor `/` (the API's safe-string rule).
    return (name.replace(".", " ").replace("/", " ").strip() or "User") + "'s Project"


class UserService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def list(
        self, principal: Principal, *, limit: int, cursor: str | None, external_id: str | None
    ) -> dict[str, Any]:
        position = decode_cursor(cursor)
        async with self.db.fast_read() as conn:
            page = await UserRepository(conn).list_page(
                principal.platform_id, limit=limit, cursor=position, external_id=external_id
            )
        return page.to_body(user_body)

    async def update(self, principal: Principal, user_id: str, request: UpdateUserRequest) -> dict[str, Any]:
        try:
            async with self.db.fast_transaction() as conn:
                users = UserRepository(conn)
                if await users.get(principal.platform_id, user_id, lock=True) is None:
                    raise UserNotFound(user_id)
                if user_id == principal.owner_id and request.status is UserStatus.INACTIVE:
                    raise ValidationFailed(OWNER_DEACTIVATED)
                values: dict[str, Any] = {}
                if request.status is not None:
                    values["status"] = request.status.value
                if request.platformRole is not None:
                    values["platform_role"] = request.platformRole.value
                if request.externalId is not None:
                    values["external_id"] = request.externalId
                if values:
                    await users.update(user_id, values)
                row = await users.get(principal.platform_id, user_id)
        except ExternalIdTaken:
            raise UserExternalIdTaken(request.externalId or "") from None
        assert row is not None
        return user_body(row)

    async def delete(self, principal: Principal, user_id: str) -> None:
        async with self.db.fast_transaction() as conn:
            users = UserRepository(conn)
            if await users.get(principal.platform_id, user_id, lock=True) is None:
                raise UserNotFound(user_id)
            if user_id == principal.owner_id:
                raise ValidationFailed(OWNER_DELETED)
            # A TEAM project stays with the platform; the PERSONAL project (its flows, plan and
            # members), the user's memberships go with the user by ON DELETE CASCADE; flows and
            # connections elsewhere that name the user as owner keep going, with no owner.
            await users.hand_over_team_projects(user_id, principal.owner_id)
            await users.delete(user_id)

    async def create(self, platform_id: str, user: NewUser) -> dict[str, Any]:
        """A user of the platform (the admin API and seed files; the real API has no such route)."""
        user_id = new_id()
        project_ids = list(dict.fromkeys(membership.projectId for membership in user.projects))
        roles = {membership.projectId: membership.projectRole.value for membership in user.projects}
        personal_project_id: str | None = None
        try:
            async with self.db.fast_transaction() as conn:
                users = UserRepository(conn)
                memberships = MembershipRepository(conn)
                missing = await memberships.projects_outside_platform(platform_id, project_ids)
                if missing:
                    raise ProjectNotFound(missing[0])
                await users.insert(
                    {
                        "id": user_id,
                        "platform_id": platform_id,
                        "email": user.email,
                        "first_name": user.firstName,
                        "last_name": user.lastName,
                        "platform_role": user.platformRole.value,
                        "status": user.status.value,
                        "external_id": user.externalId,
                    }
                )
                if user.personalProject:
                    project, plan = new_project_values(
                        platform_id=platform_id,
                        owner_id=user_id,
                        display_name=personal_project_name(user),
                        project_type="PERSONAL",
                    )
                    await ProjectRepository(conn).insert(project, plan)
                    personal_project_id = project["id"]
                for project_id in project_ids:
                    await memberships.insert(
                        {
                            "id": new_id(),
                            "platform_id": platform_id,
                            "project_id": project_id,
                            "user_id": user_id,
                            "project_role_id": DEFAULT_ROLE_IDS[ROLE_NAMES[roles[project_id]]],
                        }
                    )
                row = await users.get(platform_id, user_id)
        except EmailTaken:
            raise ExistingUser(user.email, platform_id) from None
        except ExternalIdTaken:
            raise UserExternalIdTaken(user.externalId or "") from None
        except PlatformVanished:
            raise EntityNotFound("platform", platform_id, "Platform not found") from None
        assert row is not None
        return user_body(row) | {"personalProjectId": personal_project_id}
