"""SQL for user invitations, and the writes an accepted invitation makes (a membership, a platform
role). Every statement is compiled once."""

from __future__ import annotations

import functools
from typing import Any

import asyncpg
from sqlalchemy import bindparam, delete, func, select, update

from app.invitations.models import UserInvitation
from app.kit.clock import clock
from app.kit.db import CompiledQuery, foreign_key_violation_on, iso_text
from app.kit.pagination import Cursor, Page, PageQuery, fetch_page
from app.platforms.models import User
from app.projects.models import ProjectMember, ProjectRole

invitation_t = UserInvitation.__table__
role_t = ProjectRole.__table__
user_t = User.__table__
member_t = ProjectMember.__table__


class ProjectVanished(Exception):
    """The invitation's project was deleted meanwhile."""


class RoleVanished(Exception):
    """The invitation's role was deleted meanwhile."""


class PlatformVanished(Exception):
    """The caller's platform was deleted meanwhile."""


_i, _r = invitation_t.c, role_t.c
_INVITATION_QUERY = select(
    _i.id,
    _i.created,
    iso_text(_i.created).label("created_iso"),
    iso_text(_i.updated).label("updated_iso"),
    _i.platform_id,
    _i.email,
    _i.type,
    _i.status,
    _i.platform_role,
    _i.project_id,
    _i.project_role_id,
    _r.id.label("role_id"),
    iso_text(_r.created).label("role_created_iso"),
    iso_text(_r.updated).label("role_updated_iso"),
    _r.name.label("role_name"),
    _r.permissions.label("role_permissions"),
    _r.platform_id.label("role_platform_id"),
    _r.type.label("role_type"),
).select_from(invitation_t.outerjoin(role_t, _r.id == _i.project_role_id))

GET_INVITATION = CompiledQuery(
    _INVITATION_QUERY.where(_i.id == bindparam("invitation_id"), _i.platform_id == bindparam("platform_id"))
)
LOCK_BY_TOKEN = CompiledQuery(
    select(_i.id, _i.platform_id, _i.email, _i.type, _i.platform_role, _i.project_id, _i.project_role_id)
    .where(_i.token_hash == bindparam("token_hash"))
    .with_for_update()
)
DELETE_INVITATION = CompiledQuery(
    delete(invitation_t).where(_i.id == bindparam("invitation_id"), _i.platform_id == bindparam("platform_id"))
)
SET_STATUS = CompiledQuery(
    update(invitation_t)
    .where(_i.id == bindparam("invitation_id"))
    .values(status=bindparam("status"), updated=bindparam("now", type_=_i.updated.type))
)
USER_BY_EMAIL = CompiledQuery(
    select(user_t.c.id)
    .where(user_t.c.platform_id == bindparam("platform_id"), func.lower(user_t.c.email) == bindparam("email"))
    .with_for_update()
)
SET_PLATFORM_ROLE = CompiledQuery(
    update(user_t)
    .where(user_t.c.id == bindparam("user_id"))
    .values(platform_role=bindparam("platform_role"), updated=bindparam("now", type_=user_t.c.updated.type))
)

# One invitation per (platform, email, type, project): inviting again updates the invitation (its
# status, role and link; its id stays), as the real server's upsert does.
UPSERT_INVITATION = """
INSERT INTO user_invitation
    (id, created, updated, platform_id, email, type, status, platform_role, project_id, project_role_id, token_hash)
VALUES ($1, $10, $10, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (platform_id, email, type, (coalesce(project_id, ''))) DO UPDATE SET
    updated = EXCLUDED.updated,
    status = EXCLUDED.status,
    platform_role = EXCLUDED.platform_role,
    project_role_id = EXCLUDED.project_role_id,
    token_hash = EXCLUDED.token_hash
RETURNING id
"""
# An accepted project invitation: the membership, with the invitation's role if there is one already.
UPSERT_MEMBER = """
INSERT INTO project_member (id, created, updated, platform_id, project_id, user_id, project_role_id)
VALUES ($1, $6, $6, $2, $3, $4, $5)
ON CONFLICT (project_id, user_id) DO UPDATE SET
    project_role_id = EXCLUDED.project_role_id,
    updated = EXCLUDED.updated
"""


@functools.cache
def _page(by_type: bool, by_project: bool, by_status: bool, by_email: bool) -> PageQuery:
    query = _INVITATION_QUERY.where(_i.platform_id == bindparam("platform_id"))
    if by_type:
        query = query.where(_i.type == bindparam("type"))
    if by_project:
        query = query.where(_i.project_id == bindparam("project_id"))
    if by_status:
        query = query.where(_i.status == bindparam("status"))
    if by_email:
        query = query.where(_i.email == bindparam("email"))
    # Oldest first, as the real server lists invitations.
    return PageQuery(query, sort=(_i.created,), id_=_i.id, descending=False)


class InvitationRepository:
    """Runs on a raw asyncpg connection (in a transaction for writes)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def get(self, platform_id: str, invitation_id: str) -> asyncpg.Record | None:
        return await GET_INVITATION.fetchrow(self.conn, platform_id=platform_id, invitation_id=invitation_id)

    async def list_page(
        self, platform_id: str, *, filters: dict[str, str | None], limit: int, cursor: Cursor | None
    ) -> Page:
        given = {name: value for name, value in filters.items() if value is not None}
        pages = _page("type" in given, "project_id" in given, "status" in given, "email" in given)
        return await fetch_page(self.conn, pages, {"platform_id": platform_id, **given}, limit=limit, cursor=cursor)

    async def upsert(self, values: dict[str, Any]) -> str:
        try:
            return await self.conn.fetchval(
                UPSERT_INVITATION,
                values["id"],
                values["platform_id"],
                values["email"],
                values["type"],
                values["status"],
                values["platform_role"],
                values["project_id"],
                values["project_role_id"],
                values["token_hash"],
                clock.now(),
            )
        except asyncpg.ForeignKeyViolationError as exc:
            if foreign_key_violation_on(exc, "project"):
                raise ProjectVanished from exc
            if foreign_key_violation_on(exc, "project_role"):
                raise RoleVanished from exc
            if foreign_key_violation_on(exc, "platform"):
                raise PlatformVanished from exc
            raise

    async def lock_by_token(self, token_hash: str) -> asyncpg.Record | None:
        return await LOCK_BY_TOKEN.fetchrow(self.conn, token_hash=token_hash)

    async def set_status(self, invitation_id: str, status: str) -> None:
        await SET_STATUS.execute(self.conn, invitation_id=invitation_id, status=status, now=clock.now())

    async def delete(self, platform_id: str, invitation_id: str) -> bool:
        status = await DELETE_INVITATION.execute(self.conn, platform_id=platform_id, invitation_id=invitation_id)
        return status.endswith(" 1")

    # --- what an accepted invitation gives

    async def lock_user_by_email(self, platform_id: str, email: str) -> str | None:
        return await USER_BY_EMAIL.fetchval(self.conn, platform_id=platform_id, email=email.lower())

    async def set_platform_role(self, user_id: str, platform_role: str) -> None:
        await SET_PLATFORM_ROLE.execute(self.conn, user_id=user_id, platform_role=platform_role, now=clock.now())

    async def upsert_member(
        self, *, member_id: str, platform_id: str, project_id: str, user_id: str, project_role_id: str
    ) -> None:
        await self.conn.execute(
            UPSERT_MEMBER, member_id, platform_id, project_id, user_id, project_role_id, clock.now()
        )
