"""Project roles and project members: the edition's gates, names unique per platform, tenancy. One
transaction per call."""

from __future__ import annotations

from typing import Any

from app.edge.auth import Principal
from app.kit.db import Database
from app.kit.errors import (
    AuthenticationFailed,
    EntityNotFound,
    FeatureDisabled,
    OfAnotherPlatform,
    ProjectNotFound,
    ProjectOfAnotherPlatform,
    ValidationFailed,
)
from app.kit.ids import new_id
from app.kit.pagination import decode_cursor
from app.members.repository import MemberRepository, PlatformVanished, RoleNameTaken, fetch_member_page
from app.members.schemas import (
    CreateProjectRoleRequest,
    RoleType,
    UpdateProjectRoleRequest,
    member_body,
    member_with_user_body,
    role_body,
)
from app.platforms.repository import PlatformRepository

# The default roles every platform has (migration 0011 makes their rows, with these ids).
DEFAULT_ROLE_IDS = {
    "Admin": "defaultRoleAdmin00000",
    "Editor": "defaultRoleEditor0000",
    "Viewer": "defaultRoleViewer0000",
}
_DEFAULT_NAMES = {name.lower() for name in DEFAULT_ROLE_IDS}

# What each edition's plan allows: members and roles (`projectRolesEnabled`), custom roles
# (`customRolesEnabled`).
MEMBER_EDITIONS = frozenset({"PRO", "ENTERPRISE"})
CUSTOM_ROLE_EDITIONS = frozenset({"ENTERPRISE"})
FEATURE_DISABLED_MESSAGE = "Feature is disabled"


def role_not_found(role_id: str) -> EntityNotFound:
    return EntityNotFound("project_role", role_id, "Project Role by id not found")


def role_name_not_found(name: str) -> EntityNotFound:
    return EntityNotFound("project_role", name, "Project Role by name and platformId not found")


class RoleNameConflict(ValidationFailed):
    """The real server's VALIDATION for a role name the platform already has; a conflict, so 409 in
    both modes (the real server answers every VALIDATION 409)."""

    status_code = 409


def name_taken(name: str) -> RoleNameConflict:
    return RoleNameConflict(f"Project role name already exists: {name}")


class MemberNotFound(EntityNotFound):
    def __init__(self, member_id: str) -> None:
        super().__init__("project_member", member_id, "Project member not found")


class MemberOfAnotherPlatform(MemberNotFound, OfAnotherPlatform):
    """Another platform's membership: the real server refuses access to its project (403); its
    project is not named, as it is not the caller's to know."""

    def __init__(self, member_id: str, caller_platform_id: str) -> None:
        super().__init__(member_id)
        self.caller_platform_id = caller_platform_id


class MemberService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def _assert_edition(self, members: MemberRepository, platform_id: str, editions: frozenset[str]) -> None:
        platform = await PlatformRepository(members.conn).get(platform_id)
        if platform is None:
            raise AuthenticationFailed()
        if platform.edition not in editions:
            raise FeatureDisabled(FEATURE_DISABLED_MESSAGE)

    # --- roles

    async def list_roles(self, principal: Principal) -> dict[str, Any]:
        async with self.db.fast_read() as conn:
            rows = await MemberRepository(conn).list_roles(principal.platform_id)
        # One page holds every role, as on the real server.
        return {"data": [role_body(row, user_count=True) for row in rows], "next": None, "previous": None}

    async def get_role(self, principal: Principal, role_id: str) -> dict[str, Any]:
        async with self.db.fast_read() as conn:
            row = await MemberRepository(conn).get_role(principal.platform_id, role_id)
        if row is None:
            raise role_not_found(role_id)
        return role_body(row)

    async def create_role(self, principal: Principal, request: CreateProjectRoleRequest) -> dict[str, Any]:
        role_id = new_id()
        try:
            async with self.db.fast_transaction() as conn:
                roles = MemberRepository(conn)
                await self._assert_edition(roles, principal.platform_id, CUSTOM_ROLE_EDITIONS)
                # The default roles' names are every platform's (a fixed list: no race to lose).
                if request.name.lower() in _DEFAULT_NAMES:
                    raise name_taken(request.name)
                await roles.insert_role(
                    {
                        "id": role_id,
                        "platform_id": principal.platform_id,
                        "name": request.name,
                        "permissions": request.permissions,
                        # A platform's role is its own: a DEFAULT one would be every platform's.
                        "type": RoleType.CUSTOM.value,
                    }
                )
                row = await roles.get_role(principal.platform_id, role_id)
        except RoleNameTaken:
            raise name_taken(request.name) from None
        except PlatformVanished:
            raise AuthenticationFailed() from None
        assert row is not None
        return role_body(row)

    async def update_role(
        self, principal: Principal, role_id: str, request: UpdateProjectRoleRequest
    ) -> dict[str, Any]:
        try:
            async with self.db.fast_transaction() as conn:
                roles = MemberRepository(conn)
                await self._assert_edition(roles, principal.platform_id, CUSTOM_ROLE_EDITIONS)
                if request.name is not None and request.name.lower() in _DEFAULT_NAMES:
                    raise name_taken(request.name)
                # Only the platform's own roles change: a default role is no platform's.
                if not await roles.lock_custom_role(principal.platform_id, role_id):
                    raise role_not_found(role_id)
                await roles.update_role(role_id, name=request.name, permissions=request.permissions)
                row = await roles.get_role(principal.platform_id, role_id)
        except RoleNameTaken:
            raise name_taken(request.name or "") from None
        assert row is not None
        return role_body(row)

    async def delete_role(self, principal: Principal, name: str) -> None:
        async with self.db.fast_transaction() as conn:
            roles = MemberRepository(conn)
            await self._assert_edition(roles, principal.platform_id, CUSTOM_ROLE_EDITIONS)
            role = await roles.get_role_by_name(principal.platform_id, name)
            if role is None:
                raise role_name_not_found(name)
            # A default role stays: the answer is the same, nothing is deleted (as the real server).
            # A custom role's memberships go with it (ON DELETE CASCADE).
            if role["type"] == RoleType.CUSTOM.value:
                await roles.delete_custom_role(principal.platform_id, name)

    async def list_role_members(
        self, principal: Principal, role_id: str, *, limit: int, cursor: str | None
    ) -> dict[str, Any]:
        position = decode_cursor(cursor)
        async with self.db.fast_read() as conn:
            page = await fetch_member_page(
                conn, principal.platform_id, limit=limit, cursor=position, project_role_id=role_id
            )
        return page.to_body(member_with_user_body)

    # --- members

    async def list_members(
        self,
        principal: Principal,
        project_id: str,
        *,
        project_role_id: str | None,
        limit: int,
        cursor: str | None,
    ) -> dict[str, Any]:
        position = decode_cursor(cursor)
        async with self.db.fast_read() as conn:
            members = MemberRepository(conn)
            await self._assert_edition(members, principal.platform_id, MEMBER_EDITIONS)
            platform_id = await members.project_platform(project_id)
            if platform_id is None:
                raise ProjectNotFound(project_id)
            if platform_id != principal.platform_id:
                raise ProjectOfAnotherPlatform(project_id, principal.platform_id)
            page = await fetch_member_page(
                conn,
                principal.platform_id,
                limit=limit,
                cursor=position,
                project_id=project_id,
                project_role_id=project_role_id,
            )
        return page.to_body(member_with_user_body)

    async def _missing_member(self, members: MemberRepository, member_id: str, principal: Principal) -> MemberNotFound:
        if await members.member_exists_on_any_platform(member_id):
            return MemberOfAnotherPlatform(member_id, principal.platform_id)
        return MemberNotFound(member_id)

    async def update_member_role(self, principal: Principal, member_id: str, role_name: str) -> dict[str, Any]:
        async with self.db.fast_transaction() as conn:
            members = MemberRepository(conn)
            await self._assert_edition(members, principal.platform_id, MEMBER_EDITIONS)
            if await members.get_member(principal.platform_id, member_id) is None:
                raise await self._missing_member(members, member_id, principal)
            # The role before the membership, in the order a role's delete takes them (the role, then
            # its memberships by cascade): the two never wait on each other in a cycle.
            role = await members.get_role_by_name(principal.platform_id, role_name, key_share=True)
            if role is None:
                raise role_name_not_found(role_name)
            if await members.get_member(principal.platform_id, member_id, lock=True) is None:
                raise MemberNotFound(member_id)
            await members.set_member_role(member_id, role["id"])
            updated = await members.get_member(principal.platform_id, member_id)
        assert updated is not None
        return member_body(updated)

    async def delete_member(self, principal: Principal, member_id: str) -> None:
        async with self.db.fast_transaction() as conn:
            members = MemberRepository(conn)
            await self._assert_edition(members, principal.platform_id, MEMBER_EDITIONS)
            if not await members.delete_member(principal.platform_id, member_id):
                raise await self._missing_member(members, member_id, principal)
