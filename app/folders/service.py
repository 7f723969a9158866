"""Folder rules: names unique per project in any case (creating with a taken name finds that
folder, renaming onto one is refused), projects and folders within the caller's platform only, and
a deleted folder's flows kept outside any folder. One transaction per call."""

from __future__ import annotations

from typing import Any

from app.edge.auth import Principal
from app.folders.repository import FolderNameTaken, FolderReads, FolderRepository
from app.folders.schemas import CreateFolderRequest, UpdateFolderRequest, folder_body
from app.kit.db import Database
from app.kit.errors import (
    FolderNotFound,
    FolderOfAnotherPlatform,
    ProjectNotFound,
    ProjectOfAnotherPlatform,
    ValidationFailed,
)
from app.kit.ids import new_id
from app.kit.pagination import decode_cursor

NAME_USED_MESSAGE = "Folder displayName is used"


async def _missing(folders: FolderRepository, folder_id: str, principal: Principal) -> FolderNotFound:
    if await folders.exists_on_any_platform(folder_id):
        return FolderOfAnotherPlatform(folder_id, principal.platform_id)
    return FolderNotFound(folder_id)


async def _missing_project(folders: FolderRepository, project_id: str, principal: Principal) -> ProjectNotFound:
    if await folders.project_exists_on_any_platform(project_id):
        return ProjectOfAnotherPlatform(project_id, principal.platform_id)
    return ProjectNotFound(project_id)


class FolderService:
    def __init__(self, db: Database, reads: FolderReads) -> None:
        self.db = db
        self.reads = reads

    async def create(self, principal: Principal, request: CreateFolderRequest) -> dict[str, Any]:
        """As the real server's upsert: the project's folder of that name in any case, renamed to
        the name as now written, or a new one."""
        async with self.db.fast_transaction() as conn:
            folders = FolderRepository(conn, self.reads)
            if not await folders.project_in_platform(principal.platform_id, request.projectId, lock=True):
                raise await _missing_project(folders, request.projectId, principal)
            folder_id = await folders.upsert_by_name(request.projectId, request.displayName, new_id())
            row = await folders.get(principal.platform_id, folder_id)
        assert row is not None
        return folder_body(row)

    async def update(self, principal: Principal, folder_id: str, request: UpdateFolderRequest) -> dict[str, Any]:
        async with self.db.fast_transaction() as conn:
            folders = FolderRepository(conn, self.reads)
            try:
                renamed = await folders.rename(principal.platform_id, folder_id, request.displayName)
            except FolderNameTaken:
                raise ValidationFailed(NAME_USED_MESSAGE) from None
            if not renamed:
                raise await _missing(folders, folder_id, principal)
            row = await folders.get(principal.platform_id, folder_id)
        assert row is not None
        return folder_body(row)

    async def get(self, principal: Principal, folder_id: str) -> dict[str, Any]:
        async with self.db.fast_read() as conn:
            folders = FolderRepository(conn, self.reads)
            row = await folders.get(principal.platform_id, folder_id)
            if row is None:
                raise await _missing(folders, folder_id, principal)
        return folder_body(row)

    async def list(self, principal: Principal, *, project_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
        position = decode_cursor(cursor)
        async with self.db.fast_read() as conn:
            folders = FolderRepository(conn, self.reads)
            if not await folders.project_in_platform(principal.platform_id, project_id, lock=False):
                raise await _missing_project(folders, project_id, principal)
            page = await folders.page(project_id, limit=limit, cursor=position)
        return page.to_body(folder_body)

    async def delete(self, principal: Principal, folder_id: str) -> None:
        async with self.db.fast_transaction() as conn:
            folders = FolderRepository(conn, self.reads)
            if not await folders.delete(principal.platform_id, folder_id):
                raise await _missing(folders, folder_id, principal)
