"""HTTP for `/v1/pieces` and `/v1/tags/pieces`: parse, call the service, answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status

from app.edge.auth import principal_of
from app.edge.http import ApiRoute, ApJSONResponse
from app.edge.limits import MAX_QUERY_LIST_ITEMS
from app.pieces.schemas import (
    AddPieceRequestBody,
    ApEdition,
    EmptyBody,
    PieceCategory,
    PieceMetadataModel,
    PieceMetadataModelSummary,
    PieceOrderBy,
    PiecePackageInformation,
    PieceSortBy,
    SetPieceTagsRequest,
    SuggestionType,
)
from app.pieces.service import ListQuery, PieceService
from app.pieces.versions import EXACT_VERSION_PATTERN, VERSION_PATTERN

router = APIRouter(prefix="/pieces", tags=["pieces"], route_class=ApiRoute)
tags_router = APIRouter(prefix="/tags", tags=["pieces"], route_class=ApiRoute)

# One path segment (a scoped name is two: `@scope/name`).
PieceNamePart = Annotated[
    str, Path(min_length=1, pattern=r"^[^/]+$", description="The piece's name, or its part after the scope")
]
VersionQuery = Annotated[
    str | None, Query(pattern=VERSION_PATTERN, description="An exact version, or a `^`/`~` range; default the newest")
]


def service_of(http: Request) -> PieceService:
    return PieceService(http.app.state.db)


@router.get(
    "",
    response_model=list[PieceMetadataModelSummary],
    summary="List pieces",
    description="The newest version of every piece the platform can use: the published pieces and its own.",
)
async def list_pieces(
    http: Request,
    searchQuery: str | None = Query(None),
    sortBy: PieceSortBy | None = Query(None),
    orderBy: PieceOrderBy | None = Query(None),
    categories: list[PieceCategory] | None = Query(None, max_length=MAX_QUERY_LIST_ITEMS),
    suggestionType: SuggestionType | None = Query(None),
    includeTags: bool | None = Query(None),
    includeHidden: bool | None = Query(None),
    projectId: str | None = Query(None, description="Apply this project's piece filter"),
    # The old sync call, no longer served (400 PIECE_SYNC_NOT_SUPPORTED): not described.
    release: str | None = Query(None, pattern=EXACT_VERSION_PATTERN, include_in_schema=False),
    edition: ApEdition | None = Query(None),
    locale: str | None = Query(None),
) -> Response:
    query = ListQuery(
        search_query=searchQuery,
        sort_by=sortBy.value if sortBy else None,
        order_by=orderBy.value if orderBy else None,
        categories=[category.value for category in categories] if categories is not None else None,
        suggestion_type=suggestionType.value if suggestionType else None,
        include_tags=bool(includeTags),
        include_hidden=bool(includeHidden),
        project_id=projectId,
    )
    return ApJSONResponse(await service_of(http).list(principal_of(http), query, release))


@router.get("/categories", response_model=list[PieceCategory], summary="List piece categories")
async def list_categories() -> Response:
    return ApJSONResponse([category.value for category in PieceCategory])


@router.get(
    "/registry",
    response_model=list[PiecePackageInformation],
    summary="List piece versions for a release",
    description="Every version of every piece that the given release supports, newest first.",
)
async def registry(
    http: Request,
    release: str = Query(pattern=EXACT_VERSION_PATTERN),
    edition: ApEdition = Query(),
) -> Response:
    return ApJSONResponse(await service_of(http).registry(principal_of(http), release))


@router.post(
    "",
    response_model=EmptyBody,
    status_code=status.HTTP_201_CREATED,
    summary="Add a piece to a platform",
    description="The platform's own copy of a piece version, seen by this platform only.",
)
async def add_piece(body: AddPieceRequestBody, http: Request) -> Response:
    await service_of(http).add(principal_of(http), body.root)
    return ApJSONResponse({}, status_code=status.HTTP_201_CREATED)


@router.get("/{scope}/{name}", response_model=PieceMetadataModel, summary="Get a scoped piece")
async def get_scoped_piece(
    scope: PieceNamePart,
    name: PieceNamePart,
    http: Request,
    version: VersionQuery = None,
    # Accepted as the real route accepts them; neither changes the answer (English, no filter).
    projectId: str | None = Query(None, include_in_schema=False),
    locale: str | None = Query(None, include_in_schema=False),
) -> Response:
    return ApJSONResponse(await service_of(http).get(principal_of(http), f"{scope}/{name}", version))


@router.get("/{name}", response_model=PieceMetadataModel, summary="Get a piece")
async def get_piece(
    name: PieceNamePart,
    http: Request,
    version: VersionQuery = None,
    # Accepted as the real route accepts them; neither changes the answer (English, no filter).
    projectId: str | None = Query(None, include_in_schema=False),
    locale: str | None = Query(None, include_in_schema=False),
) -> Response:
    return ApJSONResponse(await service_of(http).get(principal_of(http), name, version))


@tags_router.post(
    "/pieces",
    response_model=EmptyBody,
    status_code=status.HTTP_201_CREATED,
    summary="Set the tags of pieces",
    description="Each named piece gets exactly these tags; tags are created as needed.",
)
async def set_piece_tags(body: SetPieceTagsRequest, http: Request) -> Response:
    await service_of(http).set_tags(principal_of(http), body.piecesName, body.tags)
    return ApJSONResponse({}, status_code=status.HTTP_201_CREATED)
