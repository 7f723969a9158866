"""Request and response shapes of `/v1/folders` (the real CreateFolderRequest, UpdateFolderRequest,
ListFolderRequest and FolderDto of @activepieces/shared)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from app.edge.limits import MAX_STRING_LENGTH

# A folder name is part of a unique index (its lower case), and a B-tree index entry holds at most
# about 2.7 kB: longer names are refused as bad input, with this limit named, rather than by the
# index. 512 characters is 2 kB of UTF-8 at most.
MAX_FOLDER_NAME_LENGTH = 512
FolderName = Annotated[str, Field(max_length=MAX_FOLDER_NAME_LENGTH)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="ignore", str_max_length=MAX_STRING_LENGTH)


class CreateFolderRequest(_Request):
    displayName: FolderName
    projectId: str


class UpdateFolderRequest(_Request):
    displayName: FolderName


class FolderDto(BaseModel):
    id: str
    created: str
    updated: str
    projectId: str
    displayName: str
    displayOrder: int
    externalId: str | None
    numberOfFlows: int
    # Folders of this server hold flows only (the real server's also hold tables).
    numberOfTables: int


class SeekPageFolders(BaseModel):
    data: list[FolderDto]
    next: str | None
    previous: str | None


def folder_body(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "created": row["created_iso"],
        "updated": row["updated_iso"],
        "projectId": row["project_id"],
        "displayName": row["display_name"],
        "displayOrder": row["display_order"],
        "externalId": row["external_id"],
        "numberOfFlows": int(row["number_of_flows"] or 0),
        "numberOfTables": 0,
    }
