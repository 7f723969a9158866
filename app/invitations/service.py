"""Invitation rules, as the real server's invitation service has them: one invitation per email,
kind and project (inviting again updates it); an email that already belongs to a user of the
platform is accepted at once (its membership or platform role given, the invitation gone); project
invitations need an edition with project roles; another platform's invitations and projects are
invisible. No email is sent: the answer carries the invitation's link. One transaction per call."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

from app.edge.auth import Principal
from app.invitations.repository import InvitationRepository, PlatformVanished, ProjectVanished, RoleVanished
from app.invitations.schemas import (
    AcceptInvitationRequest,
    InvitationStatus,
    InvitationType,
    ProjectInvitationRequest,
    SendUserInvitationRequest,
    invitation_body,
)
from app.kit.db import Database
from app.kit.errors import (
    AuthenticationFailed,
    EntityNotFound,
    FeatureDisabled,
    ProjectNotFound,
    ProjectOfAnotherPlatform,
)
from app.kit.ids import new_id, new_token
from app.kit.pagination import decode_cursor
from app.members.repository import MemberRepository
from app.members.service import FEATURE_DISABLED_MESSAGE, MEMBER_EDITIONS, role_name_not_found
from app.platforms.repository import PlatformRepository
from app.users.repository import UserRepository
from app.users.schemas import NewUser, PlatformRole, user_body
from app.users.service import ExistingUser, UserService


class InvitationNotFound(EntityNotFound):
    def __init__(self, invitation_id: str | None) -> None:
        entity_id = f"id={invitation_id}" if invitation_id is not None else None
        super().__init__("UserInvitation", entity_id, "User invitation not found")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_link(base_url: str, token: str, email: str) -> str:
    """The link the real server mails (or returns, with no mail server): `<frontend>/invitation?token=…&email=…`."""
    return f"{base_url.rstrip('/')}/invitation?token={token}&email={quote(email, safe='')}"


class InvitationService:
    def __init__(self, db: Database) -> None:
        self.db = db

    @staticmethod
    async def _assert_project_roles(members: MemberRepository, platform_id: str) -> None:
        platform = await PlatformRepository(members.conn).get(platform_id)
        if platform is None:
            raise AuthenticationFailed()
        if platform.edition not in MEMBER_EDITIONS:
            raise FeatureDisabled(FEATURE_DISABLED_MESSAGE)

    @staticmethod
    async def _assert_project(members: MemberRepository, principal: Principal, project_id: str) -> None:
        platform_id = await members.project_platform(project_id)
        if platform_id is None:
            raise ProjectNotFound(project_id)
        if platform_id != principal.platform_id:
            raise ProjectOfAnotherPlatform(project_id, principal.platform_id)

    async def send(self, principal: Principal, request: SendUserInvitationRequest, *, base_url: str) -> dict[str, Any]:
        platform_id = principal.platform_id
        email = request.email.strip().lower()
        token = new_token()
        values: dict[str, Any] = {
            "id": new_id(),
            "platform_id": platform_id,
            "email": email,
            "type": request.type,
            "platform_role": None,
            "project_id": None,
            "project_role_id": None,
            "token_hash": hash_token(token),
        }
        try:
            async with self.db.fast_transaction() as conn:
                members = MemberRepository(conn)
                invitations = InvitationRepository(conn)
                if isinstance(request, ProjectInvitationRequest):
                    # In the real server's order: the project, the edition, then the role.
                    await self._assert_project(members, principal, request.projectId)
                    await self._assert_project_roles(members, platform_id)
                    role = await members.get_role_by_name(platform_id, request.projectRole, key_share=True)
                    if role is None:
                        raise role_name_not_found(request.projectRole)
                    values["project_id"], values["project_role_id"] = request.projectId, role["id"]
                else:
                    values["platform_role"] = request.platformRole.value
                # The user's row is locked: their role and memberships change in turn.
                user_id = await invitations.lock_user_by_email(platform_id, email)
                values["status"] = (InvitationStatus.ACCEPTED if user_id else InvitationStatus.PENDING).value
                invitation_id = await invitations.upsert(values)
                row = await invitations.get(platform_id, invitation_id)
                assert row is not None
                if user_id is not None:
                    await self._provision(invitations, row, user_id)
        except ProjectVanished:
            raise ProjectNotFound(values["project_id"]) from None
        except RoleVanished:
            raise role_name_not_found(getattr(request, "projectRole", "")) from None
        except PlatformVanished:
            raise AuthenticationFailed() from None
        body = invitation_body(row)
        if user_id is None:
            body["link"] = invitation_link(base_url, token, email)
        return body

    @staticmethod
    async def _provision(invitations: InvitationRepository, row: Any, user_id: str) -> None:
        """What an accepted invitation gives its user; then it is gone, as on the real server."""
        if row["type"] == InvitationType.PLATFORM:
            await invitations.set_platform_role(user_id, row["platform_role"])
        else:
            await invitations.upsert_member(
                member_id=new_id(),
                platform_id=row["platform_id"],
                project_id=row["project_id"],
                user_id=user_id,
                project_role_id=row["project_role_id"],
            )
        await invitations.delete(row["platform_id"], row["id"])

    async def list(
        self,
        principal: Principal,
        *,
        type: InvitationType,
        project_id: str | None,
        status: InvitationStatus | None,
        email: str | None,
        limit: int,
        cursor: str | None,
    ) -> dict[str, Any]:
        position = decode_cursor(cursor)
        async with self.db.fast_read() as conn:
            if project_id is not None:
                await self._assert_project(MemberRepository(conn), principal, project_id)
            filters = {
                "type": type.value,
                # As the real server: the project narrows project invitations only.
                "project_id": project_id if type is InvitationType.PROJECT else None,
                "status": status.value if status is not None else None,
                "email": email.strip().lower() if email is not None else None,
            }
            page = await InvitationRepository(conn).list_page(
                principal.platform_id, filters=filters, limit=limit, cursor=position
            )
        return page.to_body(invitation_body)

    async def delete(self, principal: Principal, invitation_id: str) -> None:
        async with self.db.fast_transaction() as conn:
            invitations = InvitationRepository(conn)
            row = await invitations.get(principal.platform_id, invitation_id)
            if row is None:
                raise InvitationNotFound(invitation_id)
            if row["type"] == InvitationType.PROJECT:
                await self._assert_project_roles(MemberRepository(conn), principal.platform_id)
            if not await invitations.delete(principal.platform_id, invitation_id):
                raise InvitationNotFound(invitation_id)

    async def accept(self, request: AcceptInvitationRequest) -> dict[str, Any]:
        """The admin API's stand-in for the invited person following the link and signing up: the
        user is made (with a personal project) unless the platform has one of that email, then the
        invitation gives its membership or platform role and is gone."""
        token_hash = hash_token(request.token)
        async with self.db.fast_read() as conn:
            found = await InvitationRepository(conn).lock_by_token(token_hash)
        if found is None:
            raise InvitationNotFound(None)
        platform_id, email = found["platform_id"], found["email"]
        personal_project_id: str | None = None
        try:
            platform_role = found["platform_role"] or PlatformRole.MEMBER.value
            new_user = NewUser(
                email=email,
                firstName=request.firstName,
                lastName=request.lastName,
                platformRole=PlatformRole(platform_role),
                externalId=request.externalId,
            )
            created = await UserService(self.db).create(platform_id, new_user)
            personal_project_id = created["personalProjectId"]
        except ExistingUser:
            pass  # signed up already (or meanwhile): the invitation is theirs
        async with self.db.fast_transaction() as conn:
            invitations = InvitationRepository(conn)
            row = await invitations.lock_by_token(token_hash)
            if row is None:
                raise InvitationNotFound(None)
            user_id = await invitations.lock_user_by_email(platform_id, email)
            if user_id is None:
                raise InvitationNotFound(None)
            await invitations.set_status(row["id"], InvitationStatus.ACCEPTED.value)
            await self._provision(invitations, row, user_id)
            user = await UserRepository(conn).get(platform_id, user_id)
        assert user is not None
        return {"registered": True, "user": user_body(user) | {"personalProjectId": personal_project_id}}
