"""The yardsticks: FastAPI routing and a raw asyncpg pool, nothing else.

- `/row/{id}`: one row by primary key, the by-id baseline every endpoint is compared with.
- For every endpoint bench/bench.py measures, the same work as the server, as a floor: the server's
  own SQL text (taken from its repositories, so it cannot drift), the same statements, row locks and
  round trips in one transaction, rows turned into the same JSON bytes with orjson. What it leaves
  out is what the server adds on top: authentication, request validation, the error envelope, the
  access log, the service and repository layers.

Run by bench/bench.py in the same run as the real server, so ratios survive a noisy machine."""

import copy
import os
import random
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response

from app.app_connections import repository as project_connections
from app.app_connections.schemas import connection_body as project_connection_body
from app.app_connections.service import secret_context
from app.flows import repository as flows
from app.flows import steps
from app.flows.schemas import populated_flow_body
from app.flows.service import _status_values, first_draft
from app.folders import repository as folders
from app.folders.schemas import folder_body
from app.global_connections import repository as connections
from app.global_connections.schemas import connection_body
from app.kit.crypto import SecretBox
from app.kit.db import CompiledQuery, _init_connection, _insert, _update, compiled
from app.kit.ids import new_id
from app.kit.pagination import BEYOND_CURSOR, Cursor, PageQuery, fetch_page
from app.kit.serialization import json_bytes
from app.members import repository as members
from app.members.schemas import member_with_user_body
from app.platforms.repository import GET_PLATFORM
from app.projects import repository as projects
from app.projects.schemas import ColorName, project_body
from app.projects.service import next_month_start
from app.services import FOLDER_READS, PROJECT_READS
from app.users import repository as users
from app.users.schemas import user_body

PLATFORM_ID = os.environ.get("BENCH_PLATFORM_ID", "")
SPREAD_PLATFORM_IDS = [p for p in os.environ.get("BENCH_SPREAD_PLATFORM_IDS", "").split(",") if p]
SECRETS = SecretBox(os.urandom(32))
COLORS = [color.value for color in ColorName]


@asynccontextmanager
async def lifespan(app: FastAPI):
    # The server's pool settings: 10 connections, JSON codecs, JIT off.
    app.state.pool = await asyncpg.create_pool(
        os.environ["BENCH_BASELINE_DSN"],
        min_size=4,
        max_size=10,
        init=_init_connection,
        server_settings={"jit": "off"},
    )
    app.state.owner_id = await app.state.pool.fetchval("SELECT owner_id FROM platform WHERE id = $1", PLATFORM_ID)
    yield
    await app.state.pool.close()


app = FastAPI(lifespan=lifespan)


def sql(query: CompiledQuery, **values: Any) -> tuple[Any, ...]:
    """The statement's text followed by its positional arguments: `conn.fetch(*sql(...))`."""
    return (query.sql, *query.args(values))


def json_response(body: Any, status_code: int = 200) -> Response:
    return Response(json_bytes(body), status_code=status_code, media_type="application/json; charset=utf-8")


@app.get("/row/{row_id}")
async def read_row(row_id: str) -> Response:
    async with app.state.pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT id, created, updated, display_name, platform_id, owner_id, external_id FROM project WHERE id = $1",
            row_id,
        )
    body = dict(row)
    body["created"] = body["created"].isoformat()
    body["updated"] = body["updated"].isoformat()
    return Response(orjson.dumps(body), media_type="application/json")


# --- reads


@app.get("/projects/{project_id}")
async def project_by_id(project_id: str) -> Response:
    async with app.state.pool.acquire() as conn:
        row = await conn.fetchrow(*sql(PROJECT_READS.by_id, project_id=project_id, platform_id=PLATFORM_ID))
    return json_response(project_body(row, next_month_start()))


@app.get("/flows/{flow_id}")
async def flow_by_id(flow_id: str) -> Response:
    async with app.state.pool.acquire() as conn:
        row = await conn.fetchrow(*sql(flows.GET_POPULATED_FLOW, flow_id=flow_id, platform_id=PLATFORM_ID))
    return json_response(populated_flow_body(row))


async def page(conn: asyncpg.Connection, pages: PageQuery, values: dict[str, Any], limit: int, cursor: str | None):
    """Keyset pagination as the server runs it: the same statement, on a raw connection."""
    position = Cursor.decode(cursor) if cursor else None
    if position is None:
        rows = await conn.fetch(*sql(pages.first, page_limit=limit + 1, **values))
    else:
        query = pages.after if position.direction == "next" else pages.before
        rows = await conn.fetch(*sql(query, page_limit=limit + 1, **pages.position(position), **values))
    has_more = len(rows) > limit
    rows = rows[:limit]
    beyond = bool(rows) and position is not None and rows[0][BEYOND_CURSOR]
    has_next, has_previous = has_more, beyond
    if position is not None and position.direction == "prev":
        rows.reverse()
        has_next, has_previous = beyond, has_more
    return (
        rows,
        pages.cursor("next", rows[-1]) if has_next else None,
        pages.cursor("prev", rows[0]) if has_previous else None,
    )


@app.get("/v1/projects")
async def list_projects(limit: int = 50, cursor: str | None = None) -> Response:
    async with app.state.pool.acquire() as conn:
        rows, after, before = await page(
            conn, PROJECT_READS.pages(False, False, False, False), {"platform_id": PLATFORM_ID}, limit, cursor
        )
    reset = next_month_start()
    return json_response({"data": [project_body(row, reset) for row in rows], "next": after, "previous": before})


@app.get("/v1/flows")
async def list_flows(projectId: str, limit: int = 50, cursor: str | None = None) -> Response:
    async with app.state.pool.acquire() as conn:
        await conn.fetchval(*sql(flows.PROJECT_IN_PLATFORM, project_id=projectId, platform_id=PLATFORM_ID))
        pages = flows._flow_page(False, None, False, False, False, False)
        rows, after, before = await page(conn, pages, {"project_id": projectId}, limit, cursor)
    return json_response({"data": [populated_flow_body(row) for row in rows], "next": after, "previous": before})


@app.get("/v1/global-connections")
async def list_connections(limit: int = 50, cursor: str | None = None) -> Response:
    async with app.state.pool.acquire() as conn:
        # The global list is the shared connection page with the PLATFORM scope filter.
        pages = project_connections._connection_page(False, False, False, False, True)
        values = {"platform_id": PLATFORM_ID, "scope": "PLATFORM"}
        rows, after, before = await page(conn, pages, values, limit, cursor)
    return json_response({"data": [connection_body(row) for row in rows], "next": after, "previous": before})


# --- writes: the server's statements, locks and round trips in one transaction


def insert_sql(table: Any, values: dict[str, Any]) -> tuple[Any, ...]:
    return sql(compiled(_insert, table, tuple(values)), **{"v_" + k: v for k, v in values.items()})


def update_sql(table: Any, row_id: str, values: dict[str, Any]) -> tuple[Any, ...]:
    """The server's UPDATE (app.kit.db.update_row): the columns, and `updated` to the clock's time."""
    statement = compiled(_update, table, tuple(values), True, "id")
    return sql(statement, row_id=row_id, touched=datetime.now(UTC), **{"v_" + k: v for k, v in values.items()})


@app.post("/v1/projects")
async def create_project(request: Request, spread: int = 0) -> Response:
    body = orjson.loads(await request.body())
    platform_id = random.choice(SPREAD_PLATFORM_IDS) if spread else PLATFORM_ID
    project_id = new_id()
    async with app.state.pool.acquire() as conn, conn.transaction():
        platform = await conn.fetchrow(*sql(GET_PLATFORM, platform_id=platform_id))
        now = datetime.now(UTC)
        project = {
            "created": now,
            "updated": now,
            "id": project_id,
            "platform_id": platform_id,
            "owner_id": platform["owner_id"],
            "display_name": body["displayName"],
            "type": "TEAM",
            "external_id": None,
            "metadata": None,
            "max_concurrent_jobs": None,
            "releases_enabled": False,
            "icon_color": random.choice(COLORS),
            "notify_status": "NEVER",
            "pool_id": None,
        }
        await conn.execute(*insert_sql(projects.project_t, project))
        plan = {
            "id": new_id(),
            "created": now,
            "updated": now,
            "project_id": project_id,
            "name": "platform",
            "locked": False,
            "pieces_filter_type": "NONE",
            "pieces": [],
            "tasks": None,
            "ai_credits": None,
        }
        await conn.execute(*insert_sql(projects.plan_t, plan))
        await conn.fetch(*sql(connections.PRESELECTED_IDS, platform_id=platform_id))
        row = await conn.fetchrow(*sql(PROJECT_READS.by_id, project_id=project_id, platform_id=platform_id))
    return json_response(project_body(row, next_month_start()), 201)


@app.post("/v1/flows")
async def create_flow(request: Request) -> Response:
    body = orjson.loads(await request.body())
    flow_id = new_id()
    async with app.state.pool.acquire() as conn, conn.transaction():
        lock = compiled(flows._project_in_platform, True)
        await conn.fetchval(*sql(lock, project_id=body["projectId"], platform_id=PLATFORM_ID))
        flow = {
            "id": flow_id,
            "project_id": body["projectId"],
            "external_id": flow_id,
            "status": "DISABLED",
            "operation_status": "NONE",
            "owner_id": None,
            "folder_id": None,
            "metadata": None,
            "template_id": None,
        }
        await conn.execute(*insert_sql(flows.flow_t, flow))
        await conn.execute(*insert_sql(flows.version_t, first_draft(flow_id, body["displayName"])))
        row = await conn.fetchrow(*sql(flows.GET_POPULATED_FLOW, flow_id=flow_id, platform_id=PLATFORM_ID))
    return json_response(populated_flow_body(row), 201)


@app.post("/flows/{flow_id}")
async def flow_operation(flow_id: str, request: Request) -> Response:
    """CHANGE_NAME and ADD_ACTION edit the newest (DRAFT) version; LOCK_AND_PUBLISH locks and publishes it."""
    operation = orjson.loads(await request.body())
    kind, change = operation["type"], operation["request"]
    async with app.state.pool.acquire() as conn, conn.transaction():
        flow = await conn.fetchrow(*sql(flows.LOCK_FLOW, flow_id=flow_id, platform_id=PLATFORM_ID))
        latest = await conn.fetchrow(*sql(flows.LATEST_VERSION, flow_id=flow_id))
        if kind == "LOCK_AND_PUBLISH":
            await conn.fetchrow(*sql(flows.PIECE_FILTER, project_id=flow["project_id"]))
            if latest["state"] != "LOCKED":
                await conn.execute(*update_sql(flows.version_t, latest["id"], {"state": "LOCKED"}))
            values = {"published_version_id": latest["id"], **_status_values("ENABLED", latest["trigger"])}
            await conn.execute(*update_sql(flows.flow_t, flow_id, values))
        else:
            trigger = copy.deepcopy(latest["trigger"])
            values: dict[str, Any] = {}
            if kind == "CHANGE_NAME":
                values["display_name"] = change["displayName"]
            else:
                steps.add_action(trigger, change["parentStep"], None, None, change["action"])
                await conn.fetchrow(*sql(flows.PIECE_FILTER, project_id=flow["project_id"]))
            values |= {
                "trigger": trigger,
                "valid": steps.version_is_valid(trigger),
                "connection_ids": steps.connection_external_ids(trigger),
                "notes": list(latest["notes"] or []),
            }
            await conn.execute(*update_sql(flows.version_t, latest["id"], values))
            await conn.execute(*update_sql(flows.flow_t, flow_id, {}))
        row = await conn.fetchrow(*sql(flows.GET_POPULATED_FLOW, flow_id=flow_id, platform_id=PLATFORM_ID))
    return json_response(populated_flow_body(row))


@app.post("/v1/global-connections")
async def upsert_connection(request: Request) -> Response:
    body = orjson.loads(await request.body())
    external_id = body["externalId"]
    sealed = SECRETS.seal(body["value"], f"{PLATFORM_ID}/{external_id}")
    values = {
        "id": new_id(),
        "platform_id": PLATFORM_ID,
        "external_id": external_id,
        "display_name": body["displayName"],
        "piece_name": body["pieceName"],
        "piece_version": "latest",
        "type": body["type"],
        "scope": "PLATFORM",
        "status": "ACTIVE",
        "owner_id": app.state.owner_id,
        "metadata": None,
        "pre_select_for_new_projects": False,
        "value_encrypted": sealed,
    }
    async with app.state.pool.acquire() as conn, conn.transaction():
        upsert = compiled(project_connections._upsert, tuple(values))
        connection_id = await conn.fetchval(*sql(upsert, **{"v_" + k: v for k, v in values.items()}))
        await conn.execute(*sql(project_connections.UNLINK_OTHER_PROJECTS, connection_id=connection_id, project_ids=[]))
        row = await conn.fetchrow(
            *sql(project_connections.GET_FULL_CONNECTION, connection_id=connection_id, platform_id=PLATFORM_ID)
        )
    return json_response(connection_body(row), 201)


# --- folders, project connections, users and members


@app.get("/v1/folders")
async def list_folders(projectId: str, limit: int = 50, cursor: str | None = None) -> Response:
    async with app.state.pool.acquire() as conn:
        lookup = compiled(folders._project_in_platform, False)
        await conn.fetchval(*sql(lookup, project_id=projectId, platform_id=PLATFORM_ID))
        found = await fetch_page(
            conn, FOLDER_READS.pages, {"project_id": projectId}, limit=limit, cursor=_position(cursor)
        )
    return json_response(found.to_body(folder_body))


@app.post("/v1/folders")
async def create_folder(request: Request) -> Response:
    body = orjson.loads(await request.body())
    project_id = body["projectId"]
    async with app.state.pool.acquire() as conn, conn.transaction():
        lock = compiled(folders._project_in_platform, True)
        await conn.fetchval(*sql(lock, project_id=project_id, platform_id=PLATFORM_ID))
        folder_id = await conn.fetchval(
            *sql(folders.UPSERT_BY_NAME, folder_id=new_id(), project_id=project_id, display_name=body["displayName"])
        )
        row = await conn.fetchrow(*sql(FOLDER_READS.by_id, folder_id=folder_id, platform_id=PLATFORM_ID))
    return json_response(folder_body(row))


def _position(cursor: str | None) -> Cursor | None:
    return Cursor.decode(cursor) if cursor else None


@app.get("/v1/app-connections")
async def list_project_connections(projectId: str, limit: int = 50, cursor: str | None = None) -> Response:
    async with app.state.pool.acquire() as conn:
        lookup = compiled(flows._project_in_platform, False)
        await conn.fetchval(*sql(lookup, project_id=projectId, platform_id=PLATFORM_ID))
        pages = project_connections._connection_page(True, False, False, False, False)
        values = {"platform_id": PLATFORM_ID, "project_id": projectId}
        found = await fetch_page(conn, pages, values, limit=limit, cursor=_position(cursor))
    return json_response(found.to_body(project_connection_body))


@app.post("/v1/app-connections")
async def upsert_project_connection(request: Request) -> Response:
    """A SECRET_TEXT connection of the project: sealed as the server seals it, one transaction."""
    body = orjson.loads(await request.body())
    project_id, external_id = body["projectId"], body["externalId"]
    sealed = SECRETS.seal(body["value"], secret_context(PLATFORM_ID, external_id, project_id))
    values = {
        "id": new_id(),
        "platform_id": PLATFORM_ID,
        "project_id": project_id,
        "external_id": external_id,
        "display_name": body["displayName"],
        "piece_name": body["pieceName"],
        "piece_version": "latest",
        "type": body["type"],
        "scope": "PROJECT",
        "status": "ACTIVE",
        "owner_id": app.state.owner_id,
        "value_encrypted": sealed,
    }
    async with app.state.pool.acquire() as conn, conn.transaction():
        lock = compiled(flows._project_in_platform, True)
        await conn.fetchval(*sql(lock, project_id=project_id, platform_id=PLATFORM_ID))
        await conn.fetchrow(*sql(flows.PIECE_FILTER, project_id=project_id))
        upsert = compiled(project_connections._upsert, tuple(values), "PROJECT", False)
        connection_id = await conn.fetchval(*sql(upsert, **{"v_" + k: v for k, v in values.items()}))
        await conn.execute(*sql(project_connections.LINK, connection_ids=[connection_id], project_ids=[project_id]))
        row = await conn.fetchrow(
            *sql(project_connections.GET_FULL_CONNECTION, connection_id=connection_id, platform_id=PLATFORM_ID)
        )
    return json_response(project_connection_body(row), 201)


@app.get("/v1/users")
async def list_users(limit: int = 50, cursor: str | None = None) -> Response:
    async with app.state.pool.acquire() as conn:
        found = await fetch_page(conn, users.PAGES, {"platform_id": PLATFORM_ID}, limit=limit, cursor=_position(cursor))
    return json_response(found.to_body(user_body))


@app.get("/v1/project-members")
async def list_members(projectId: str, limit: int = 50, cursor: str | None = None) -> Response:
    async with app.state.pool.acquire() as conn:
        await conn.fetchrow(*sql(GET_PLATFORM, platform_id=PLATFORM_ID))  # the edition check
        await conn.fetchval(*sql(members.PROJECT_PLATFORM, project_id=projectId))
        found = await members.fetch_member_page(
            conn, PLATFORM_ID, limit=limit, cursor=_position(cursor), project_id=projectId
        )
    return json_response(found.to_body(member_with_user_body))
