"""The OpenAPI document: FastAPI's, plus what the server really answers. Every error is the
Activepieces envelope, so each operation documents its 4xx/5xx with it (never FastAPI's 422, which
this server does not send), and every `/v1` operation but health needs the bearer key."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.edge.auth import BEARER_SECURITY_SCHEME, KEY_OPTIONAL_PATHS, PUBLIC_PATHS

ERROR_BODY_SCHEMA = {
    "type": "object",
    "title": "ActivepiecesError",
    "required": ["statusCode", "code", "params"],
    "properties": {
        "statusCode": {"type": "integer"},
        "code": {"type": "string", "examples": ["VALIDATION", "ENTITY_NOT_FOUND"]},
        "params": {"type": "object", "additionalProperties": True},
    },
}
_ERROR_REF = {"$ref": "#/components/schemas/ActivepiecesError"}

_DESCRIPTIONS = {
    "400": "Invalid request (`VALIDATION`, `FEATURE_DISABLED`, `FLOW_OPERATION_INVALID`)",
    "401": "Missing or invalid API key",
    "404": "Not found, or another platform's",
    "409": "Conflicts with an existing externalId",
    "408": "The request's headers or body did not arrive in time (`openpieces serve`)",
    "413": "Request body too large",
    "431": "Request line and headers too large (`openpieces serve`)",
    "503": "Database unavailable",
}
# Where a duplicate externalId is refused.
_CONFLICTS = {("post", "/v1/projects"), ("post", "/v1/projects/{id}"), ("post", "/v1/flows")}


def _error(code: str) -> dict[str, Any]:
    return {"description": _DESCRIPTIONS[code], "content": {"application/json": {"schema": _ERROR_REF}}}


def build_openapi(app: FastAPI) -> dict[str, Any]:
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {})["bearerAuth"] = BEARER_SECURITY_SCHEME
    components.setdefault("schemas", {})["ActivepiecesError"] = ERROR_BODY_SCHEMA
    for schema_name in ("HTTPValidationError", "ValidationError"):
        components["schemas"].pop(schema_name, None)
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            responses["503"] = _error("503")
            # Answered by the server before the app (app/edge/server.py), on every path.
            responses["408"] = _error("408")
            responses["431"] = _error("431")
            if path in PUBLIC_PATHS:
                continue
            # A key-optional route takes no key too (an empty requirement).
            operation["security"] = [{}, {"bearerAuth": []}] if path in KEY_OPTIONAL_PATHS else [{"bearerAuth": []}]
            for code in ("400", "401", "404"):
                responses[code] = _error(code)
            if method in ("post", "put", "patch"):
                responses["413"] = _error("413")
            if (method, path) in _CONFLICTS:
                responses["409"] = _error("409")
    return schema


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
