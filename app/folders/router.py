"""HTTP for `/v1/folders`: parse, call the service, answer."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from app.edge.auth import principal_of
from app.edge.http import ApiRoute, ApJSONResponse, compat_of
from app.folders.schemas import CreateFolderRequest, FolderDto, SeekPageFolders, UpdateFolderRequest
from app.folders.service import FolderService
from app.kit.ids import ID_PATTERN

router = APIRouter(prefix="/folders", tags=["folders"], route_class=ApiRoute)

FolderId = Annotated[str, Path(pattern=ID_PATTERN, description="The folder id")]

DEFAULT_PAGE_SIZE = 10
# The real server takes any number; a page never holds more than this, and `next` carries on.
MAX_PAGE_SIZE = 1000


def service_of(http: Request) -> FolderService:
    return http.app.state.folder_service  # type: ignore[no-any-return]


@router.post(
    "",
    response_model=FolderDto,
    summary="Create a folder",
    description=(
        "Folder names are unique in a project regardless of case: when the project already has a folder "
        "of that name, that folder is answered, renamed to the name as written."
    ),
)
async def create_folder(body: CreateFolderRequest, http: Request) -> Response:
    return ApJSONResponse(await service_of(http).create(principal_of(http), body))


@router.post("/{id}", response_model=FolderDto, summary="Rename a folder")
async def update_folder(id: FolderId, body: UpdateFolderRequest, http: Request) -> Response:
    return ApJSONResponse(await service_of(http).update(principal_of(http), id, body))


@router.get("/{id}", response_model=FolderDto, summary="Get a folder")
async def get_folder(id: FolderId, http: Request) -> Response:
    return ApJSONResponse(await service_of(http).get(principal_of(http), id))


@router.get("", response_model=SeekPageFolders, summary="List the folders of a project", description="Oldest first.")
async def list_folders(
    http: Request,
    projectId: str = Query(...),
    limit: int = Query(DEFAULT_PAGE_SIZE, ge=1),
    cursor: str | None = Query(None),
) -> Response:
    body = await service_of(http).list(
        principal_of(http),
        project_id=projectId,
        limit=min(limit, MAX_PAGE_SIZE),
        cursor=compat_of(http.app).cursor(cursor),
    )
    return ApJSONResponse(body)


@router.delete(
    "/{id}",
    status_code=status.HTTP_200_OK,
    response_class=Response,
    summary="Delete a folder",
    description="Its flows are kept, outside any folder. Answers 200 with an empty body.",
)
async def delete_folder(id: FolderId, http: Request) -> Response:
    await service_of(http).delete(principal_of(http), id)
    return Response(status_code=status.HTTP_200_OK)
