"""The scenario: requests covering the main cases of projects, flows and global connections, for a
user to run through `openpieces record` against their own Activepieces. Everything it makes is
named after one run token (so filtered lists see only it, on a platform that has other rows too),
and deleted at the end. It keeps going when a request fails: the answer is what is recorded."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import httpx

# An id no server has made: its 404 is part of the scenario.
UNKNOWN_ID = "0" * 21
# A fixed step date, so a replayed request is the recorded one.
STEP_DATE = "2024-01-10T10:00:00.000Z"


def _schedule_trigger() -> dict[str, Any]:
    return {
        "name": "trigger",
        "displayName": "Every few minutes",
        "type": "PIECE_TRIGGER",
        "valid": True,
        "lastUpdatedDate": STEP_DATE,
        "settings": {
            "pieceName": "@activepieces/piece-schedule",
            "pieceVersion": "0.1.5",
            "triggerName": "every_x_minutes",
            "input": {"minutes": 5},
            "propertySettings": {},
        },
    }


def _code_action(name: str, code: str = "export const code = async () => 1") -> dict[str, Any]:
    return {
        "name": name,
        "displayName": "Code",
        "type": "CODE",
        "valid": True,
        "lastUpdatedDate": STEP_DATE,
        "settings": {"sourceCode": {"code": code, "packageJson": "{}"}, "input": {}},
    }


def _secret_connection(display_name: str, external_id: str, project_ids: list[str]) -> dict[str, Any]:
    return {
        "displayName": display_name,
        "pieceName": "@activepieces/piece-slack",
        "type": "SECRET_TEXT",
        # A made-up secret: the recorder replaces it anyway.
        "value": {"type": "SECRET_TEXT", "secret_text": "xoxb-drift-scenario"},
        "scope": "PLATFORM",
        "projectIds": project_ids,
        "externalId": external_id,
    }


def run_scenario(client: httpx.Client, *, say: Callable[[str], None] = print, token: str | None = None) -> int:
    """Runs every request through `client` (base URL: the server's, or the recorder's); says each
    answer's status. Returns how many requests were made."""
    run = token or secrets.token_hex(4)
    name = f"drift {run}"
    made = 0

    def call(method: str, path: str, *, params: Any = None, body: Any = None) -> Any:
        nonlocal made
        made += 1
        answer = client.request(method, f"/api/v1{path}", params=params, json=body)
        say(f"{answer.status_code} {method} /api/v1{path}")
        try:
            return answer.json() if answer.content else None
        except ValueError:
            return None

    def id_of(answer: Any) -> str:
        return str(answer["id"]) if isinstance(answer, dict) and "id" in answer else UNKNOWN_ID

    # Projects: create, a taken externalId, bad input, get, list (filters, pages), update.
    first = id_of(call("POST", "/projects", body={"displayName": f"{name} A", "externalId": f"drift-{run}-a"}))
    second = id_of(
        call(
            "POST", "/projects", body={"displayName": f"{name} B", "externalId": f"drift-{run}-b", "metadata": {"k": 1}}
        )
    )
    call("POST", "/projects", body={"displayName": f"{name} C", "externalId": f"drift-{run}-a"})
    call("POST", "/projects", body={"displayName": "no/slash", "maxConcurrentJobs": "many"})
    call("GET", f"/projects/{first}")
    call("GET", f"/projects/{UNKNOWN_ID}")
    call("GET", "/projects/not-an-id")
    page = call("GET", "/projects", params={"displayName": name, "limit": 1})
    if isinstance(page, dict) and page.get("next"):
        call("GET", "/projects", params={"displayName": name, "limit": 1, "cursor": page["next"]})
    call("GET", "/projects", params={"externalId": f"drift-{run}-b"})
    call("GET", "/projects", params={"limit": 0})
    call("POST", f"/projects/{first}", body={"displayName": f"{name} A renamed", "metadata": {"renamed": True}})
    call("GET", "/projects", params={"displayName": f"{name} A renamed"})

    # Flows: create, get, operations (one refused), list, count, delete.
    flow = id_of(call("POST", "/flows", body={"displayName": f"{name} flow", "projectId": first}))
    other_flow = id_of(call("POST", "/flows", body={"displayName": f"{name} other", "projectId": first}))
    call("POST", "/flows", body={"displayName": f"{name} nowhere", "projectId": UNKNOWN_ID})
    call("GET", f"/flows/{flow}")
    call("POST", f"/flows/{flow}", body={"type": "CHANGE_NAME", "request": {"displayName": f"{name} flow renamed"}})
    call("POST", f"/flows/{flow}", body={"type": "UPDATE_TRIGGER", "request": _schedule_trigger()})
    call(
        "POST",
        f"/flows/{flow}",
        body={"type": "ADD_ACTION", "request": {"parentStep": "trigger", "action": _code_action("step_1")}},
    )
    call(
        "POST",
        f"/flows/{flow}",
        body={"type": "UPDATE_ACTION", "request": _code_action("step_1", "export const code = async () => 2")},
    )
    call(
        "POST",
        f"/flows/{flow}",
        body={"type": "ADD_ACTION", "request": {"parentStep": "step_9", "action": _code_action("step_2")}},
    )
    call("POST", f"/flows/{flow}", body={"type": "NO_SUCH_OPERATION", "request": {}})
    call("GET", f"/flows/{flow}")
    page = call("GET", "/flows", params={"projectId": first, "limit": 1})
    if isinstance(page, dict) and page.get("next"):
        call("GET", "/flows", params={"projectId": first, "limit": 1, "cursor": page["next"]})
    call("GET", "/flows", params={"projectId": first, "name": "renamed"})
    call("GET", "/flows", params={"projectId": first, "status": "ENABLED"})
    call("GET", "/flows/count", params={"projectId": first})
    call("GET", "/flows")
    call("DELETE", f"/flows/{other_flow}")
    call("GET", f"/flows/{other_flow}")

    # Global connections: create (upsert), bad input, list (filters, pages), update, delete.
    connection = id_of(
        call("POST", "/global-connections", body=_secret_connection(f"{name} slack", f"drift-{run}-c1", [first]))
    )
    other_connection = id_of(
        call("POST", "/global-connections", body=_secret_connection(f"{name} slack 2", f"drift-{run}-c2", []))
    )
    call(
        "POST",
        "/global-connections",
        body={"displayName": f"{name} no value", "pieceName": "@activepieces/piece-slack"},
    )
    page = call("GET", "/global-connections", params={"displayName": name, "limit": 1})
    if isinstance(page, dict) and page.get("next"):
        call("GET", "/global-connections", params={"displayName": name, "limit": 1, "cursor": page["next"]})
    call(
        "POST",
        f"/global-connections/{connection}",
        body={"displayName": f"{name} slack renamed", "projectIds": [first, second]},
    )
    call(
        "GET",
        "/global-connections",
        params={"displayName": f"{name} slack renamed", "pieceName": "@activepieces/piece-slack"},
    )
    call("GET", f"/projects/{second}")
    call("POST", f"/global-connections/{UNKNOWN_ID}", body={"displayName": "nobody"})
    call("DELETE", f"/global-connections/{other_connection}")
    call("DELETE", f"/global-connections/{connection}")
    call("GET", "/global-connections", params={"displayName": name})

    # Clean up, and what is gone is gone.
    call("DELETE", f"/flows/{flow}")
    call("DELETE", f"/projects/{second}")
    call("DELETE", f"/projects/{first}")
    call("GET", f"/projects/{first}")
    return made
