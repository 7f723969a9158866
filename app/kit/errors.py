"""Typed errors that carry their HTTP status, and their Activepieces error body.

Every error leaves the server as `{"statusCode": N, "code": "...", "params": {...}}`.
Services raise these; repositories raise their own non-HTTP exceptions and services translate.
"""

from typing import Any


class ActivepiecesError(Exception):
    status_code: int = 500
    code: str = "INTERNAL_SERVER_ERROR"  # the real ErrorCode member

    def __init__(self, params: dict[str, Any] | None = None) -> None:
        self.params: dict[str, Any] = params if params is not None else {}
        super().__init__(f"{self.code}: {self.params.get('message', '')}")

    def body(self) -> dict[str, Any]:
        return {"statusCode": self.status_code, "code": self.code, "params": self.params}


class EntityNotFound(ActivepiecesError):
    status_code = 404
    code = "ENTITY_NOT_FOUND"

    def __init__(self, entity_type: str, entity_id: str | None, message: str) -> None:
        super().__init__({"entityType": entity_type, "entityId": entity_id, "message": message})


class ProjectNotFound(EntityNotFound):
    """A project that does not exist, or is another platform's (the two look the same)."""

    def __init__(self, project_id: str) -> None:
        super().__init__("project", project_id, "Project not found")


class DeterministicIdTaken(ActivepiecesError):
    """Deterministic mode only: the seeded generator made an id a row already has, because it was
    started again (same seed) while rows it made before are still there. Not a real ErrorCode:
    the real server has no such mode."""

    status_code = 409
    code = "DETERMINISTIC_ID_TAKEN"

    def __init__(self) -> None:
        super().__init__(
            {
                "message": "the deterministic id generator made an id that a row already has: it was started "
                "again while rows it made are still there; reset or restore a snapshot before reseeding "
                "(POST /admin/deterministic), or reseed with another seed"
            }
        )


class ValidationFailed(ActivepiecesError):
    status_code = 400
    code = "VALIDATION"

    def __init__(self, message: str) -> None:
        super().__init__({"message": message})


class FeatureDisabled(ActivepiecesError):
    status_code = 400
    code = "FEATURE_DISABLED"

    def __init__(self, message: str) -> None:
        super().__init__({"message": message})


class AuthenticationFailed(ActivepiecesError):
    status_code = 401
    code = "AUTHENTICATION"

    def __init__(self, message: str = "invalid api key") -> None:
        super().__init__({"message": message})


class PermissionDenied(ActivepiecesError):
    status_code = 403
    code = "AUTHORIZATION"

    def __init__(self, message: str | None = None) -> None:
        super().__init__({"message": message} if message else {})


class ProjectExternalIdAlreadyExists(ActivepiecesError):
    status_code = 409
    code = "PROJECT_EXTERNAL_ID_ALREADY_EXISTS"

    def __init__(self, external_id: str) -> None:
        super().__init__({"externalId": external_id})


class RouteNotFound(ActivepiecesError):
    status_code = 404
    code = "ENTITY_NOT_FOUND"

    def __init__(self, method: str, path: str) -> None:
        super().__init__({"entityType": "route", "entityId": None, "message": f"Route {method}:{path} not found"})


class ServiceUnavailable(ActivepiecesError):
    status_code = 503
    code = "SERVICE_UNAVAILABLE"

    def __init__(self, message: str = "The database is unavailable, try again shortly") -> None:
        super().__init__({"message": message})


class FlowOperationInvalid(ActivepiecesError):
    """An operation that does not fit the flow's state (publishing an invalid version, enabling a
    flow with no published version, an unknown step)."""

    status_code = 400
    code = "FLOW_OPERATION_INVALID"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__({"message": message, **details})


class PieceNotFound(ActivepiecesError):
    """A piece the project cannot use (not in its ALLOWED list): the real server's answer for a
    piece it cannot resolve."""

    status_code = 404
    code = "ENTITY_NOT_FOUND"

    def __init__(self, piece_name: str) -> None:
        super().__init__({"message": f"piece_metadata_not_found pieceName={piece_name}"})


class FlowExternalIdAlreadyExists(ActivepiecesError):
    """The project already has a flow with this externalId (the projects' rule, applied to flows)."""

    status_code = 409
    code = "FLOW_EXTERNAL_ID_ALREADY_EXISTS"

    def __init__(self, external_id: str) -> None:
        super().__init__({"externalId": external_id})


# --- answers that differ between the documented API and the real server (see app/edge/compat.py)


class OfAnotherPlatform:
    """Mixin: the entity exists, but on another platform than the caller's. Documented: as a missing
    one (404); the real server checks the caller's access to the entity's project first and answers
    403 AUTHORIZATION, naming the caller's platform and (for a project route) the project."""

    caller_platform_id: str = ""
    # The project id the answer may name: only one the caller sent itself.
    named_project_id: str | None = None


class ProjectOfAnotherPlatform(ProjectNotFound, OfAnotherPlatform):
    def __init__(self, project_id: str, caller_platform_id: str) -> None:
        super().__init__(project_id)
        self.caller_platform_id = caller_platform_id
        self.named_project_id = project_id


class FlowNotFound(EntityNotFound):
    def __init__(self, flow_id: str) -> None:
        super().__init__("flow", flow_id, "Flow not found")


class FlowOfAnotherPlatform(FlowNotFound, OfAnotherPlatform):
    def __init__(self, flow_id: str, caller_platform_id: str) -> None:
        super().__init__(flow_id)
        self.caller_platform_id = caller_platform_id


class FolderNotFound(EntityNotFound):
    def __init__(self, folder_id: str) -> None:
        super().__init__("folder", folder_id, f"Folder {folder_id} is not found")


class FolderOfAnotherPlatform(FolderNotFound, OfAnotherPlatform):
    def __init__(self, folder_id: str, caller_platform_id: str) -> None:
        super().__init__(folder_id)
        self.caller_platform_id = caller_platform_id


class NotAnApiKey(AuthenticationFailed):
    """A bearer token without the API keys' `sk-` prefix. Documented: 401 AUTHENTICATION; the real
    server takes it for a user's access token and answers 401 INVALID_BEARER_TOKEN."""

    def __init__(self, message: str = "invalid api key") -> None:
        super().__init__(message)


class NoCredentials(AuthenticationFailed):
    """No bearer token at all (no header, another scheme). Documented: 401 AUTHENTICATION; the real
    server makes the caller an anonymous principal, which its routes refuse with 403 AUTHORIZATION."""


class PrincipalNotAllowed(PermissionDenied):
    """A route the real server keeps for users, called with an API key."""

    def __init__(self) -> None:
        super().__init__("principal is not allowed for this route")


class PlatformNotFound(EntityNotFound):
    def __init__(self, platform_id: str) -> None:
        super().__init__("platform", platform_id, "Platform not found")


class NotTheCallersPlatform(PlatformNotFound):
    """A platform id that is not the caller's own (another platform's, or none at all). Documented:
    as a missing one (404); the real server compares it with the caller's platform before any lookup
    and answers 403 AUTHORIZATION "You are not authorized to access this platform"."""
