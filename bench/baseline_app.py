"""The yardstick: FastAPI + a raw asyncpg pool reading one row by primary key.

Run by bench/bench.py in the same run as the real server, so ratios survive a noisy machine."""

import os
from contextlib import asynccontextmanager

import asyncpg
import orjson
from fastapi import FastAPI
from fastapi.responses import Response


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.pool = await asyncpg.create_pool(os.environ["BENCH_BASELINE_DSN"], min_size=4, max_size=10)
    yield
    await app.state.pool.close()


app = FastAPI(lifespan=lifespan)


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
