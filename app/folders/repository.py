"""SQL for folders. A folder's flow count comes from the flows domain, which sits above folders:
`app.services` hands it in (`FolderReads(flows_in_folder)`), so folders never imports flows. The
folder queries flows run inside their own transactions (a folder in a project, a folder by name)
are plain functions here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
from sqlalchemy import ColumnElement, Select, bindparam, delete, exists, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from app.folders.models import Folder
from app.kit.clock import clock
from app.kit.db import CompiledQuery, compiled, iso_text, unique_violation_on
from app.kit.pagination import Cursor, Page, PageQuery, fetch_page
from app.projects.models import Project

folder_t = Folder.__table__
project_t = Project.__table__

NAME_INDEX = "uq_folder_project_id_lower_display_name"

# The number of flows in a folder, as a scalar SQL expression of the folder's id column.
FlowsInFolder = Callable[[ColumnElement[str]], ColumnElement[int]]


class FolderNameTaken(Exception):
    """The project already has another folder of this name (in any case)."""


def _in_platform(platform_id: Any) -> ColumnElement[bool]:
    return exists().where(project_t.c.id == folder_t.c.project_id, project_t.c.platform_id == platform_id)


def _folder_query(flows_in_folder: FlowsInFolder) -> Select[Any]:
    f = folder_t.c
    return select(
        f.id,
        f.created,
        iso_text(f.created).label("created_iso"),
        iso_text(f.updated).label("updated_iso"),
        f.project_id,
        f.display_name,
        f.display_order,
        f.external_id,
        flows_in_folder(f.id).label("number_of_flows"),
    )


# The server's clock (app/kit/clock.py), never the database's.
_NOW = bindparam("now", type_=folder_t.c.updated.type)
# Finds or makes the project's folder of this name, atomically under concurrent calls: an existing
# folder (any case) takes the name as now written, as the real server's upsert renames it.
UPSERT_BY_NAME = CompiledQuery(
    pg_insert(folder_t)
    .values(
        id=bindparam("folder_id"),
        project_id=bindparam("project_id"),
        display_name=bindparam("display_name"),
        external_id=bindparam("folder_id"),
        created=_NOW,
        updated=_NOW,
    )
    .on_conflict_do_update(
        index_elements=[folder_t.c.project_id, func.lower(folder_t.c.display_name)],
        set_={"display_name": bindparam("display_name"), "updated": _NOW},
    )
    .returning(folder_t.c.id)
)
# KEY SHARE: the folder cannot be deleted before the caller's flow row points at it.
IN_PROJECT = CompiledQuery(
    select(folder_t.c.id)
    .where(folder_t.c.id == bindparam("folder_id"), folder_t.c.project_id == bindparam("project_id"))
    .with_for_update(read=True, key_share=True)
)
EXISTS = CompiledQuery(select(literal(1)).where(folder_t.c.id == bindparam("folder_id")))
RENAME = CompiledQuery(
    update(folder_t)
    .where(folder_t.c.id == bindparam("folder_id"), _in_platform(bindparam("platform_id")))
    .values(display_name=bindparam("display_name"), updated=_NOW)
    .returning(folder_t.c.id)
)
DELETE = CompiledQuery(
    delete(folder_t)
    .where(folder_t.c.id == bindparam("folder_id"), _in_platform(bindparam("platform_id")))
    .returning(folder_t.c.id)
)

PROJECT_EXISTS = CompiledQuery(select(project_t.c.id).where(project_t.c.id == bindparam("project_id")))


def _project_in_platform(lock: bool) -> Select[Any]:
    query = select(project_t.c.id).where(
        project_t.c.id == bindparam("project_id"), project_t.c.platform_id == bindparam("platform_id")
    )
    # KEY SHARE: the project cannot be deleted before this transaction's folder is in.
    return query.with_for_update(read=True, key_share=True) if lock else query


async def folder_in_project(conn: asyncpg.Connection, project_id: str, folder_id: str) -> bool:
    """Whether the project has this folder (held until the caller's transaction ends)."""
    return await IN_PROJECT.fetchval(conn, folder_id=folder_id, project_id=project_id) is not None


async def folder_for_name(conn: asyncpg.Connection, project_id: str, display_name: str, new_id: str) -> str:
    """The id of the project's folder of this name (any case), made with `new_id` if missing."""
    return str(
        await UPSERT_BY_NAME.fetchval(
            conn, folder_id=new_id, project_id=project_id, display_name=display_name, now=clock.now()
        )
    )


class FolderReads:
    """The folder query (with its flow count), compiled once: by id, and the list's pages."""

    def __init__(self, flows_in_folder: FlowsInFolder) -> None:
        query = _folder_query(flows_in_folder)
        self.by_id = CompiledQuery(
            query.where(folder_t.c.id == bindparam("folder_id"), _in_platform(bindparam("platform_id")))
        )
        # As the real server's list: a project's folders, oldest first.
        self.pages = PageQuery(
            query.where(folder_t.c.project_id == bindparam("project_id")),
            sort=(folder_t.c.created,),
            id_=folder_t.c.id,
            descending=False,
        )


class FolderRepository:
    """Runs on a raw asyncpg connection (in a transaction for writes)."""

    def __init__(self, conn: asyncpg.Connection, reads: FolderReads) -> None:
        self.conn = conn
        self.reads = reads

    async def get(self, platform_id: str, folder_id: str) -> asyncpg.Record | None:
        return await self.reads.by_id.fetchrow(self.conn, folder_id=folder_id, platform_id=platform_id)

    async def page(self, project_id: str, *, limit: int, cursor: Cursor | None) -> Page:
        return await fetch_page(self.conn, self.reads.pages, {"project_id": project_id}, limit=limit, cursor=cursor)

    async def project_in_platform(self, platform_id: str, project_id: str, *, lock: bool) -> bool:
        found = await compiled(_project_in_platform, lock).fetchval(
            self.conn, project_id=project_id, platform_id=platform_id
        )
        return found is not None

    async def project_exists_on_any_platform(self, project_id: str) -> bool:
        return await PROJECT_EXISTS.fetchval(self.conn, project_id=project_id) is not None

    async def exists_on_any_platform(self, folder_id: str) -> bool:
        return await EXISTS.fetchval(self.conn, folder_id=folder_id) is not None

    async def upsert_by_name(self, project_id: str, display_name: str, new_id: str) -> str:
        return await folder_for_name(self.conn, project_id, display_name, new_id)

    async def rename(self, platform_id: str, folder_id: str, display_name: str) -> bool:
        """False when the platform has no such folder; FolderNameTaken when another has the name."""
        try:
            found = await RENAME.fetchval(
                self.conn, folder_id=folder_id, platform_id=platform_id, display_name=display_name, now=clock.now()
            )
        except asyncpg.UniqueViolationError as exc:
            if unique_violation_on(exc, NAME_INDEX):
                raise FolderNameTaken from exc
            raise
        return found is not None

    async def delete(self, platform_id: str, folder_id: str) -> bool:
        """Its flows stay, out of any folder (the flow's folder key is ON DELETE SET NULL)."""
        return await DELETE.fetchval(self.conn, folder_id=folder_id, platform_id=platform_id) is not None
