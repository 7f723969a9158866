"""Request and response shapes shared by every app connection route (project connections under
`/v1/app-connections`, global ones under `/v1/global-connections`). The `value` of a connection is
accepted, validated and encrypted; it never appears in a response, a log line or an error message."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, create_model

from app.edge.limits import MAX_LIST_ITEMS, MAX_STRING_LENGTH, FreeJson
from app.kit.schema_types import Boolean

NonEmpty = Annotated[str, Field(min_length=1)]


class AppConnectionType(StrEnum):
    OAUTH2 = "OAUTH2"
    PLATFORM_OAUTH2 = "PLATFORM_OAUTH2"
    CLOUD_OAUTH2 = "CLOUD_OAUTH2"
    SECRET_TEXT = "SECRET_TEXT"
    BASIC_AUTH = "BASIC_AUTH"
    CUSTOM_AUTH = "CUSTOM_AUTH"
    OIDC = "OIDC"
    NO_AUTH = "NO_AUTH"


class AppConnectionScope(StrEnum):
    PROJECT = "PROJECT"
    PLATFORM = "PLATFORM"


class AppConnectionStatus(StrEnum):
    ACTIVE = "ACTIVE"
    MISSING = "MISSING"
    ERROR = "ERROR"


class OAuth2AuthorizationMethod(StrEnum):
    HEADER = "HEADER"
    BODY = "BODY"


class OAuth2GrantType(StrEnum):
    AUTHORIZATION_CODE = "authorization_code"
    CLIENT_CREDENTIALS = "client_credentials"


class _Value(BaseModel):
    # Extra keys inside a value are kept (pieces read what they need), but never shown.
    model_config = ConfigDict(extra="allow", str_max_length=MAX_STRING_LENGTH)


class SecretTextValue(_Value):
    type: Literal["SECRET_TEXT"]
    secret_text: NonEmpty


class BasicAuthValue(_Value):
    type: Literal["BASIC_AUTH"]
    username: NonEmpty
    password: NonEmpty


class CustomAuthValue(_Value):
    type: Literal["CUSTOM_AUTH"]
    props: FreeJson


class OidcValue(_Value):
    # As the real UpsertOIDCRequest's value: the type and the piece's props.
    type: Literal["OIDC"]
    props: dict[str, Any]


class NoAuthValue(_Value):
    type: Literal["NO_AUTH"]


class _OAuth2Common(_Value):
    client_id: NonEmpty
    code: NonEmpty
    code_challenge: str | None = None
    scope: str
    authorization_method: OAuth2AuthorizationMethod | None = None
    props: FreeJson | None = None


class OAuth2Value(_OAuth2Common):
    type: Literal["OAUTH2"]
    client_secret: NonEmpty
    redirect_url: NonEmpty
    grant_type: OAuth2GrantType | None = None


class CloudOAuth2Value(_OAuth2Common):
    type: Literal["CLOUD_OAUTH2"]


class PlatformOAuth2Value(_OAuth2Common):
    type: Literal["PLATFORM_OAUTH2"]
    redirect_url: NonEmpty


ConnectionValue = Annotated[
    SecretTextValue
    | BasicAuthValue
    | CustomAuthValue
    | OidcValue
    | NoAuthValue
    | OAuth2Value
    | CloudOAuth2Value
    | PlatformOAuth2Value,
    Field(discriminator="type"),
]


class ConnectionRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", str_max_length=MAX_STRING_LENGTH)


IdList = Annotated[list[str], Field(max_length=MAX_LIST_ITEMS)]

# The request shape of each connection type, as in the real server's schemas: `type` picks the
# shape, so a value that does not fit its type is a validation error of that value.
VALUE_SHAPES: tuple[tuple[str, str, type[_Value]], ...] = (
    ("SECRET_TEXT", "SecretText", SecretTextValue),
    ("BASIC_AUTH", "BasicAuth", BasicAuthValue),
    ("CUSTOM_AUTH", "CustomAuth", CustomAuthValue),
    ("OIDC", "Oidc", OidcValue),
    ("NO_AUTH", "NoAuth", NoAuthValue),
    ("OAUTH2", "OAuth2", OAuth2Value),
    ("CLOUD_OAUTH2", "CloudOAuth2", CloudOAuth2Value),
    ("PLATFORM_OAUTH2", "PlatformOAuth2", PlatformOAuth2Value),
)


def typed_upserts(common: type[BaseModel], prefix: str) -> tuple[type[BaseModel], ...]:
    """One upsert request model per connection type: `common`'s fields plus `type` and `value`."""
    return tuple(
        create_model(
            f"{prefix}{name}",
            __base__=common,
            __module__=common.__module__,
            type=(Literal[type_], ...),  # type: ignore[valid-type]
            value=(value, ...),
        )
        for type_, name, value in VALUE_SHAPES
    )


# --- the project routes (`/v1/app-connections`)

# The real server's type for a connection to be filled in later: stored as NO_AUTH with status
# MISSING, and never written over a connection that is not MISSING.
PLACEHOLDER_CONNECTION_TYPE = "PLACEHOLDER"


class _ProjectUpsertCommon(ConnectionRequest):
    externalId: str
    displayName: str
    pieceName: str
    projectId: str
    metadata: FreeJson | None = None
    pieceVersion: str | None = None


class UpsertPlaceholder(_ProjectUpsertCommon):
    type: Literal["PLACEHOLDER"]


PROJECT_UPSERTS = (*typed_upserts(_ProjectUpsertCommon, "UpsertAppConnection"), UpsertPlaceholder)
UpsertAppConnectionRequest = Annotated[
    PROJECT_UPSERTS[0]
    | PROJECT_UPSERTS[1]
    | PROJECT_UPSERTS[2]
    | PROJECT_UPSERTS[3]
    | PROJECT_UPSERTS[4]
    | PROJECT_UPSERTS[5]
    | PROJECT_UPSERTS[6]
    | PROJECT_UPSERTS[7]
    | UpsertPlaceholder,
    Field(discriminator="type"),
]


class UpsertAppConnectionBody(RootModel[UpsertAppConnectionRequest]):
    """The body of the upsert route (a root model, so the union picks its member by `type`)."""


class UpdateConnectionValueRequest(ConnectionRequest):
    displayName: NonEmpty
    metadata: FreeJson | None = None


class ReplaceAppConnectionsRequest(ConnectionRequest):
    sourceAppConnectionId: str
    targetAppConnectionId: str
    projectId: str
    deleteSourceConnection: Boolean = False
    applyToPublishedVersions: Boolean = False


# --- responses


class ConnectionOwner(BaseModel):
    id: str
    email: str
    firstName: str
    lastName: str
    # Required by the real AppConnectionWithoutSensitiveData's owner (UserWithMetaInformation).
    status: Literal["ACTIVE", "INACTIVE"]
    platformRole: Literal["ADMIN", "MEMBER", "OPERATOR"]
    created: str
    updated: str
    externalId: str | None
    platformId: str | None
    lastActiveDate: str | None
    imageUrl: str | None


class AppConnectionWithoutSensitiveData(BaseModel):
    id: str
    created: str
    updated: str
    externalId: str
    displayName: str
    type: AppConnectionType
    pieceName: str
    projectIds: list[str]
    scope: AppConnectionScope
    status: AppConnectionStatus
    pieceVersion: str
    preSelectForNewProjects: bool
    usingSecretManager: bool
    platformId: str | None
    ownerId: str | None
    owner: ConnectionOwner | None
    metadata: dict[str, Any] | None
    flowIds: list[str] | None


class SeekPageConnections(BaseModel):
    data: list[AppConnectionWithoutSensitiveData]
    next: str | None
    previous: str | None


def connection_body(row: Mapping[str, Any]) -> dict[str, Any]:
    owner = None
    if row["owner_id"] is not None and row["owner_email"] is not None:
        owner = {
            "id": row["owner_id"],
            "email": row["owner_email"],
            "firstName": row["owner_first_name"],
            "lastName": row["owner_last_name"],
            "status": row["owner_status"],
            "platformRole": row["owner_platform_role"],
            "created": row["owner_created_iso"],
            "updated": row["owner_updated_iso"],
            "externalId": row["owner_external_id"],
            "platformId": row["platform_id"],
            "lastActiveDate": row["owner_last_active_date_iso"],
            "imageUrl": row["owner_image_url"],
        }
    return {
        "id": row["id"],
        "created": row["created_iso"],
        "updated": row["updated_iso"],
        "externalId": row["external_id"],
        "displayName": row["display_name"],
        "type": row["type"],
        "pieceName": row["piece_name"],
        "projectIds": list(row["project_ids"]),
        "scope": row["scope"],
        "status": row["status"],
        "pieceVersion": row["piece_version"],
        "preSelectForNewProjects": row["pre_select_for_new_projects"],
        "usingSecretManager": False,
        "platformId": row["platform_id"],
        "ownerId": row["owner_id"],
        "owner": owner,
        "metadata": row["metadata"],
        "flowIds": list(row["flow_ids"]),
    }


class AppConnectionOwner(BaseModel):
    firstName: str
    lastName: str
    email: str


class SeekPageOwners(BaseModel):
    data: list[AppConnectionOwner]
    next: str | None
    previous: str | None


def owner_body(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"firstName": row["first_name"], "lastName": row["last_name"], "email": row["email"]}
