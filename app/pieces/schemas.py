"""Request and response shapes of `/v1/pieces` and `/v1/tags` (`@activepieces/shared` piece-requests,
tags; `@activepieces/pieces-framework` PieceMetadataModel and PieceMetadataModelSummary)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from app.edge.limits import MAX_LIST_ITEMS, MAX_STRING_LENGTH
from app.pieces.versions import EXACT_VERSION_PATTERN


class PieceCategory(StrEnum):
    ARTIFICIAL_INTELLIGENCE = "ARTIFICIAL_INTELLIGENCE"
    COMMUNICATION = "COMMUNICATION"
    COMMERCE = "COMMERCE"
    CORE = "CORE"
    UNIVERSAL_AI = "UNIVERSAL_AI"
    FLOW_CONTROL = "FLOW_CONTROL"
    BUSINESS_INTELLIGENCE = "BUSINESS_INTELLIGENCE"
    ACCOUNTING = "ACCOUNTING"
    PRODUCTIVITY = "PRODUCTIVITY"
    CONTENT_AND_FILES = "CONTENT_AND_FILES"
    DEVELOPER_TOOLS = "DEVELOPER_TOOLS"
    CUSTOMER_SUPPORT = "CUSTOMER_SUPPORT"
    FORMS_AND_SURVEYS = "FORMS_AND_SURVEYS"
    HUMAN_RESOURCES = "HUMAN_RESOURCES"
    PAYMENT_PROCESSING = "PAYMENT_PROCESSING"
    MARKETING = "MARKETING"
    SALES_AND_CRM = "SALES_AND_CRM"


class PieceSortBy(StrEnum):
    NAME = "NAME"
    UPDATED = "UPDATED"
    CREATED = "CREATED"
    POPULARITY = "POPULARITY"


class PieceOrderBy(StrEnum):
    ASC = "ASC"
    DESC = "DESC"


class SuggestionType(StrEnum):
    ACTION = "ACTION"
    TRIGGER = "TRIGGER"
    ACTION_AND_TRIGGER = "ACTION_AND_TRIGGER"


class ApEdition(StrEnum):
    COMMUNITY = "ce"
    ENTERPRISE = "ee"
    CLOUD = "cloud"


class _Request(BaseModel):
    model_config = ConfigDict(extra="ignore", str_max_length=MAX_STRING_LENGTH)


PieceName = Annotated[str, Field(min_length=1)]
ExactVersion = Annotated[str, Field(pattern=EXACT_VERSION_PATTERN)]


class AddRegistryPieceRequest(_Request):
    """An npm piece: the platform's own copy of a published package's version."""

    packageType: Literal["REGISTRY"]
    scope: Literal["PLATFORM"]
    pieceName: PieceName
    pieceVersion: ExactVersion


class PieceArchive(_Request):
    filename: str
    data: Any = None
    type: Literal["file"]
    mimetype: str | None = None


class AddArchivePieceRequest(_Request):
    """A private piece: a packed archive of its code."""

    packageType: Literal["ARCHIVE"]
    scope: Literal["PLATFORM"]
    pieceName: PieceName
    pieceVersion: ExactVersion
    pieceArchive: PieceArchive


AddPieceRequest = Annotated[AddRegistryPieceRequest | AddArchivePieceRequest, Field(discriminator="packageType")]


class AddPieceRequestBody(RootModel[AddPieceRequest]):
    pass


TagNames = Annotated[list[Annotated[str, Field(max_length=MAX_STRING_LENGTH)]], Field(max_length=MAX_LIST_ITEMS)]


class SetPieceTagsRequest(_Request):
    piecesName: TagNames
    tags: TagNames


class _Open(BaseModel):
    """A response shape for the API description; the body is the piece as stored."""

    model_config = ConfigDict(extra="allow")


class PieceMetadataModelSummary(_Open):
    id: str | None = None
    name: str
    displayName: str
    logoUrl: str
    description: str
    authors: list[str]
    version: str
    categories: list[PieceCategory] | None = None
    minimumSupportedRelease: str | None = None
    maximumSupportedRelease: str | None = None
    auth: Any = None
    actions: int
    triggers: int
    suggestedActions: list[dict[str, Any]] | None = None
    suggestedTriggers: list[dict[str, Any]] | None = None
    projectUsage: int
    tags: list[str] | None = None
    pieceType: Literal["OFFICIAL", "CUSTOM"]
    packageType: Literal["REGISTRY", "ARCHIVE"]
    platformId: str | None = None


class PieceMetadataModel(_Open):
    id: str | None = None
    name: str
    displayName: str
    logoUrl: str
    description: str
    authors: list[str]
    version: str
    categories: list[PieceCategory] | None = None
    minimumSupportedRelease: str | None = None
    maximumSupportedRelease: str | None = None
    auth: Any = None
    actions: dict[str, Any]
    triggers: dict[str, Any]
    projectUsage: int
    pieceType: Literal["OFFICIAL", "CUSTOM"]
    packageType: Literal["REGISTRY", "ARCHIVE"]
    platformId: str | None = None


class PiecePackageInformation(BaseModel):
    name: str
    version: str


class EmptyBody(BaseModel):
    pass
