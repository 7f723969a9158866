"""Request and response shapes of `/v1/global-connections`. The `value` of a connection is accepted,
validated and encrypted; it never appears in a response, a log line or an error message."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, model_validator

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


class _Request(BaseModel):
    model_config = ConfigDict(extra="ignore", str_max_length=MAX_STRING_LENGTH)


IdList = Annotated[list[str], Field(max_length=MAX_LIST_ITEMS)]


class _UpsertCommon(_Request):
    displayName: str
    pieceName: str
    scope: Literal["PLATFORM"]
    projectIds: IdList
    metadata: FreeJson | None = None
    pieceVersion: str | None = None
    externalId: str | None = None
    preSelectForNewProjects: Boolean | None = None


# One request shape per connection type, as in the real server's schema: `type` picks the shape,
# so a value that does not fit its type is a validation error of that value.
class UpsertSecretText(_UpsertCommon):
    type: Literal["SECRET_TEXT"]
    value: SecretTextValue


class UpsertBasicAuth(_UpsertCommon):
    type: Literal["BASIC_AUTH"]
    value: BasicAuthValue


class UpsertCustomAuth(_UpsertCommon):
    type: Literal["CUSTOM_AUTH"]
    value: CustomAuthValue


class UpsertOidc(_UpsertCommon):
    type: Literal["OIDC"]
    value: OidcValue


class UpsertNoAuth(_UpsertCommon):
    type: Literal["NO_AUTH"]
    value: NoAuthValue


class UpsertOAuth2(_UpsertCommon):
    type: Literal["OAUTH2"]
    value: OAuth2Value


class UpsertCloudOAuth2(_UpsertCommon):
    type: Literal["CLOUD_OAUTH2"]
    value: CloudOAuth2Value


class UpsertPlatformOAuth2(_UpsertCommon):
    type: Literal["PLATFORM_OAUTH2"]
    value: PlatformOAuth2Value


def _type_of_value(value: Mapping[str, Any]) -> str | None:
    """The connection type a value's keys make plain, or None when they do not."""
    keys = set(value)
    if "secret_text" in keys:
        return "SECRET_TEXT"
    if {"username", "password"} & keys:
        return "BASIC_AUTH"
    if "client_id" in keys:
        if "client_secret" in keys:
            return "OAUTH2"
        return "PLATFORM_OAUTH2" if "redirect_url" in keys else "CLOUD_OAUTH2"
    if "props" in keys:
        return "CUSTOM_AUTH"
    return None


def infer_connection_shape(body: Any) -> Any:
    """The documented example (seed create-global-connection.txt) sends neither `type`, `scope` nor
    `value.type`: fill in what it leaves out. `type` and `value.type` come from each other, or else
    from the value's keys (`secret_text` -> SECRET_TEXT); `scope` can only be PLATFORM on this route.
    What is sent is never overridden, so a contradiction is still refused."""
    if not isinstance(body, dict):
        return body
    body = dict(body)
    value = body.get("value")
    value_type = value.get("type") if isinstance(value, dict) else None
    if isinstance(value, dict):
        inferred = body.get("type") if "type" in body else value_type or _type_of_value(value)
        if "type" not in value and isinstance(inferred, str):
            body["value"] = {**value, "type": inferred}
        if "type" not in body and inferred is not None:
            body["type"] = inferred
    body.setdefault("scope", AppConnectionScope.PLATFORM.value)
    return body


UpsertGlobalConnectionRequest = Annotated[
    UpsertSecretText
    | UpsertBasicAuth
    | UpsertCustomAuth
    | UpsertOidc
    | UpsertNoAuth
    | UpsertOAuth2
    | UpsertCloudOAuth2
    | UpsertPlatformOAuth2,
    Field(discriminator="type"),
]


class UpsertGlobalConnectionBody(RootModel[UpsertGlobalConnectionRequest]):
    """The body of the upsert route: the request, after `infer_connection_shape` (a root model, so
    the inference runs before the union picks its member by `type`)."""

    @model_validator(mode="before")
    @classmethod
    def _infer(cls, data: Any) -> Any:
        return infer_connection_shape(data)


class UpdateGlobalConnectionRequest(_Request):
    displayName: NonEmpty | None = None
    projectIds: IdList | None = None
    metadata: FreeJson | None = None
    preSelectForNewProjects: Boolean | None = None


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
