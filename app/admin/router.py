"""HTTP for `/admin`: mounted only when AP_ADMIN_TOKEN is set, and then only for that token. Nothing
here changes what a `/v1` route answers, except the faults a test asks for."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response, status

from app.admin.determinism import DeterministicMode
from app.admin.schemas import (
    AdvanceClockRequest,
    ClockAnswer,
    CreatePlatformRequest,
    FaultRequest,
    ReseedRequest,
    SetClockRequest,
)
from app.admin.service import AdminService
from app.admin.snapshot import parse_document
from app.edge.auth import parse_bearer
from app.edge.http import ApiRoute, ApJSONResponse
from app.invitations.schemas import AcceptInvitationRequest
from app.invitations.service import InvitationService
from app.kit.errors import AuthenticationFailed
from app.kit.ids import ID_PATTERN
from app.users.schemas import NewUser


def require_admin_token(http: Request) -> None:
    expected: str = http.app.state.settings.admin_token
    try:
        given = parse_bearer(http.headers.get("authorization"))
    except AuthenticationFailed:
        raise AuthenticationFailed("invalid admin token") from None
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise AuthenticationFailed("invalid admin token")


router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require_admin_token)], route_class=ApiRoute)

PlatformId = Annotated[str, Path(pattern=ID_PATTERN)]


def service_of(http: Request) -> AdminService:
    state = http.app.state
    return AdminService(
        state.db,
        secrets=state.secrets,
        authenticator=state.authenticator,
        traffic=state.traffic,
        settings=state.settings,
        seed=state.seed,
        confirmation=state.confirmation,
        deterministic=state.deterministic,
    )


def deterministic_of(http: Request) -> DeterministicMode:
    mode: DeterministicMode = http.app.state.deterministic
    return mode


@router.post("/platforms", status_code=status.HTTP_201_CREATED, summary="Create a platform with an API key")
async def create_platform(body: CreatePlatformRequest, http: Request) -> Response:
    created = await service_of(http).create_platform(body.name, body.edition, body.apiKey)
    return ApJSONResponse(created, status_code=status.HTTP_201_CREATED)


@router.get("/platforms", summary="List platforms")
async def list_platforms(http: Request) -> Response:
    return ApJSONResponse(await service_of(http).list_platforms())


@router.delete("/platforms/{id}", status_code=204, response_class=Response, summary="Delete a platform and all it owns")
async def delete_platform(id: PlatformId, http: Request) -> Response:
    await service_of(http).delete_platform(id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/platforms/{id}/api-keys", status_code=status.HTTP_201_CREATED, summary="Create another API key")
async def create_api_key(id: PlatformId, http: Request) -> Response:
    return ApJSONResponse(await service_of(http).create_api_key(id), status_code=status.HTTP_201_CREATED)


@router.post(
    "/platforms/{id}/users",
    status_code=status.HTTP_201_CREATED,
    summary="Create a user on a platform",
    description="A user of the platform, as if they had signed in: with a personal project unless "
    "`personalProject` is false, and memberships of the platform's projects listed in `projects`.",
)
async def create_user(id: PlatformId, body: NewUser, http: Request) -> Response:
    return ApJSONResponse(await service_of(http).create_user(id, body), status_code=status.HTTP_201_CREATED)


@router.post(
    "/invitations/accept",
    summary="Accept a user invitation by its link's token",
    description="As the invited person following the link and signing up: the user is made (with a "
    "personal project) unless the platform has one of that email; then the invitation gives its "
    "membership or platform role, and is gone.",
)
async def accept_invitation(body: AcceptInvitationRequest, http: Request) -> Response:
    return ApJSONResponse(await InvitationService(http.app.state.db).accept(body))


# The body of a restore is a document GET answered, as it is: described here, checked by the service
# (which names every problem at once, and refuses the document whole).
_SNAPSHOT_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object", "description": "A snapshot document"}}},
    }
}
SnapshotKey = Annotated[
    str | None,
    Header(
        alias="X-Snapshot-Encryption-Key",
        description="The key the snapshot's secrets are sealed with, when it is not this server's "
        "(urlsafe base64 of 32 bytes, as AP_ENCRYPTION_KEY)",
    ),
]


@router.get(
    "/snapshot",
    summary="Export every platform's state as one snapshot",
    description="Every row of every platform (API keys as hashes, connection secrets sealed), with the "
    "schema version and the encryption key's fingerprint.",
)
async def export_snapshot(http: Request) -> Response:
    return Response(await service_of(http).export_snapshot(), media_type="application/json")


@router.put(
    "/snapshot",
    summary="Restore a snapshot as the server's whole state",
    description="In one transaction: every platform (and the faults and request log) goes, the snapshot's "
    "platforms come in; then the bootstrap key works, as after a reset. A refused snapshot writes nothing.",
    openapi_extra=_SNAPSHOT_BODY,
)
async def restore_snapshot(http: Request, source_key: SnapshotKey = None) -> Response:
    document = parse_document(await http.body())
    return ApJSONResponse(await service_of(http).restore_snapshot(document, source_key=source_key))


@router.get("/platforms/{id}/snapshot", summary="Export one platform's state as a snapshot")
async def export_platform_snapshot(id: PlatformId, http: Request) -> Response:
    return Response(await service_of(http).export_snapshot(id), media_type="application/json")


@router.put(
    "/platforms/{id}/snapshot",
    summary="Restore a snapshot of one platform",
    description="In one transaction: the platform's rows (if it exists) are replaced by the snapshot's, "
    "which must hold that platform alone. Other platforms are untouched.",
    openapi_extra=_SNAPSHOT_BODY,
)
async def restore_platform_snapshot(id: PlatformId, http: Request, source_key: SnapshotKey = None) -> Response:
    document = parse_document(await http.body())
    return ApJSONResponse(await service_of(http).restore_snapshot(document, platform_id=id, source_key=source_key))


@router.post("/reset", summary="Empty every table, then apply the bootstrap key and seed file again")
async def reset(http: Request) -> Response:
    return ApJSONResponse(await service_of(http).reset())


@router.post("/faults", status_code=status.HTTP_201_CREATED, summary="Make the next matching /v1 requests fail or wait")
async def add_fault(body: FaultRequest, http: Request) -> Response:
    fault = await http.app.state.traffic.faults.add(
        path_pattern=body.path_pattern,
        method=body.method,
        status=body.status,
        code=body.code,
        times=body.times,
        delay_ms=body.delay_ms,
    )
    return ApJSONResponse(fault.describe(), status_code=status.HTTP_201_CREATED)


@router.get("/faults", summary="The faults and how many uses each has left")
async def list_faults(http: Request) -> Response:
    return ApJSONResponse([fault.describe() for fault in await http.app.state.traffic.faults.list()])


@router.delete("/faults", status_code=204, response_class=Response, summary="Remove every fault")
async def clear_faults(http: Request) -> Response:
    await http.app.state.traffic.faults.clear()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/requests", summary="The last /v1 requests (no headers, no bodies)")
async def recent_requests(http: Request, limit: int = Query(50, ge=1, le=1000)) -> Response:
    return ApJSONResponse(await http.app.state.traffic.requests.last(limit))


_DETERMINISTIC_ONLY = " Deterministic mode only (AP_DETERMINISTIC_SEED): otherwise 409 DETERMINISTIC_MODE_OFF."
_CLOCK_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": ClockAnswer},
    409: {"description": "Deterministic mode is off (`DETERMINISTIC_MODE_OFF`)"},
}


@router.post(
    "/deterministic",
    responses=_CLOCK_RESPONSES,
    summary="Restart the id generator and the clock (deterministic mode)",
    description="The id generator starts again from `seed` and the clock from `clock` (frozen there when "
    "`frozen`); what is left out keeps the value the server started with or was last given here. "
    "`POST /admin/reset` restarts them the same way, from the same origin." + _DETERMINISTIC_ONLY,
)
async def reseed(body: ReseedRequest, http: Request) -> Response:
    return ApJSONResponse(deterministic_of(http).reseed(seed=body.seed, start=body.clock, frozen=body.frozen))


@router.get(
    "/clock",
    responses={200: {"model": ClockAnswer}},
    summary="The server's clock",
    description="`mode` is `system` (the real clock, outside deterministic mode), `stepping` (each "
    "timestamp the server gives is one millisecond after the last) or `frozen`; `now` is the instant "
    "the next timestamp will carry.",
)
async def get_clock(http: Request) -> Response:
    return ApJSONResponse(deterministic_of(http).describe())


@router.put(
    "/clock",
    responses=_CLOCK_RESPONSES,
    summary="Set the clock",
    description="The next timestamp is `now`." + _DETERMINISTIC_ONLY,
)
async def set_clock(body: SetClockRequest, http: Request) -> Response:
    return ApJSONResponse(deterministic_of(http).set_clock(body.now, body.frozen))


@router.post(
    "/clock/advance",
    responses=_CLOCK_RESPONSES,
    summary="Move the clock forward",
    description=_DETERMINISTIC_ONLY.strip(),
)
async def advance_clock(body: AdvanceClockRequest, http: Request) -> Response:
    return ApJSONResponse(deterministic_of(http).advance(body.delta()))


@router.post(
    "/clock/freeze",
    responses=_CLOCK_RESPONSES,
    summary="Stop the clock",
    description="Every timestamp is the same instant until the clock is set, advanced or unfrozen."
    + _DETERMINISTIC_ONLY,
)
async def freeze_clock(http: Request) -> Response:
    return ApJSONResponse(deterministic_of(http).freeze(True))


@router.post(
    "/clock/unfreeze",
    responses=_CLOCK_RESPONSES,
    summary="Let the clock step again",
    description="One millisecond per timestamp, from the frozen instant on." + _DETERMINISTIC_ONLY,
)
async def unfreeze_clock(http: Request) -> Response:
    return ApJSONResponse(deterministic_of(http).freeze(False))
