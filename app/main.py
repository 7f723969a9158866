"""The ASGI application: routers under both `/v1` and `/api/v1`, middleware and lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi_offline import FastAPIOffline

from app import __version__
from app.admin.determinism import DeterministicMode, origin_of
from app.admin.router import router as admin_router
from app.admin.seed import apply_seed, load_seed_file
from app.admin.traffic import FaultInjector, RequestLog, Traffic
from app.app_connections.router import router as app_connections_router
from app.edge import metrics
from app.edge.auth import ApiKeyAuthenticator
from app.edge.compat import CompatPolicy
from app.edge.draining import Drain
from app.edge.fastlane import ByIdLane
from app.edge.http import (
    AccessLog,
    ApJSONResponse,
    EdgeMiddleware,
    configure_logging,
    error_response,
    install_error_handlers,
)
from app.edge.limits import raise_recursion_limit
from app.edge.openapi import install_openapi
from app.edge.tracing import install_tracing
from app.flags.router import router as flags_router
from app.flows.router import router as flows_router
from app.folders.router import router as folders_router
from app.global_connections.router import router as global_connections_router
from app.invitations.router import router as invitations_router
from app.kit.changes import LISTENER_APPLICATION_NAME, ChangeConfirmation, ChangeListener
from app.kit.config import Settings, get_settings
from app.kit.crypto import SecretBox, load_or_create_key
from app.kit.db import (
    Database,
    EmbeddedPostgres,
    database_for,
    describe_database_url,
    describe_embedded,
    run_migrations_async,
)
from app.kit.errors import ServiceUnavailable
from app.members.router import members_router, roles_router
from app.pieces.router import router as pieces_router
from app.pieces.router import tags_router as piece_tags_router
from app.platforms.router import router as platforms_router
from app.projects.provisioning import PlatformProvisioning
from app.projects.router import router as projects_router
from app.services import folder_service, platform_service, project_service
from app.users.router import router as users_router

log = logging.getLogger("openpieces")

API_ROUTERS = [
    projects_router,
    flows_router,
    folders_router,
    app_connections_router,
    global_connections_router,
    flags_router,
    platforms_router,
    users_router,
    roles_router,
    members_router,
    invitations_router,
    pieces_router,
    piece_tags_router,
]
PREFIXES = ("/v1", "/api/v1")
POOL_GAUGES_EVERY_SECONDS = 1.0
GC_THRESHOLDS = (10_000, 20, 20)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    # Ids and clock from their origin (deterministic mode) before anything makes a row.
    app.state.deterministic = DeterministicMode(origin_of(settings))
    app.state.deterministic.restart()
    # A bad seed file stops start-up before anything else, with its file, line and field.
    app.state.seed = load_seed_file(settings.seed_file) if settings.seed_file else None
    app.state.secrets = SecretBox(
        load_or_create_key(settings.encryption_key, settings.data_dir, required=settings.encryption_key_required)
    )
    embedded = None
    database_url = settings.database_url
    if not database_url:
        embedded = EmbeddedPostgres(settings.data_dir)
        database_url = embedded.url
    if settings.run_migrations:
        await run_migrations_async(*settings.direct(database_url))

    db = database_for(settings, database_url)
    platforms = platform_service(db)
    app.state.db = db
    app.state.project_service = project_service(db)
    app.state.folder_service = folder_service(db)
    app.state.platform_service = platforms
    app.state.authenticator = ApiKeyAuthenticator(platforms.resolve_api_key, settings.auth_cache_ttl_seconds)
    app.state.confirmation = None  # set when changes are listened for
    if app.state.traffic is not None:
        app.state.traffic.attach(db)
    listener = await _listen_for_changes(app, db)
    if settings.bootstrap_api_key:
        created = await PlatformProvisioning(db).ensure_bootstrap_platform(
            settings.bootstrap_api_key, settings.bootstrap_edition
        )
        if created:
            log.info("created the bootstrap platform", extra={"platformId": created.platform_id})
    if app.state.seed is not None:
        await apply_seed(db, app.state.secrets, app.state.seed)
    # Everything built so far lives as long as the process: keep it out of the cyclic GC's full
    # collections, whose walks over it showed up as the tail of request latency.
    gc.collect()
    gc.freeze()
    # Python's default (a young collection every 700 objects kept, an older one every 10 of those)
    # ran a collection every request or two under load, and the older ones walked the JSON trees of
    # every request in flight: a tenth of a flows page's time and its longest pauses. Garbage here is
    # freed by reference counting; the cyclic collector only has cycles to find, and finds them later.
    gc.set_threshold(*GC_THRESHOLDS)
    # With several workers the gauges of the others are read from their files: keep them fresh.
    refresher = (
        asyncio.create_task(_record_pools_forever(db))
        if settings.metrics_enabled and metrics.multiprocess_dir()
        else None
    )
    app.state.drain.install()
    log.info(
        "ready",
        extra={
            "version": __version__,
            "embedded": embedded is not None or settings.database_embedded,
            "database": describe_embedded(settings.data_dir)
            if embedded is not None or settings.database_embedded
            else describe_database_url(database_url),
        },
    )
    try:
        yield
    finally:
        app.state.drain.uninstall()
        if listener is not None:
            await listener.stop()
        if app.state.traffic is not None:
            await app.state.traffic.requests.close()
        if refresher is not None:
            refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refresher
        metrics.worker_exited()
        await db.dispose()
        if embedded is not None:
            embedded.stop()


async def _record_pools_forever(db: Database) -> None:
    while True:
        metrics.record_pools(db.pool_stats())
        await asyncio.sleep(POOL_GAUGES_EVERY_SECONDS)


async def _listen_for_changes(app: FastAPI, db: Database) -> ChangeListener | None:
    """Hear of deleted keys and resets made through any replica (app/kit/changes.py)."""
    if not db.has_direct_session:
        log.warning(
            "AP_DATABASE_POOLER=transaction without AP_DATABASE_DIRECT_URL: no LISTEN, so other replicas"
            " notice a deleted key or a reset only after AP_AUTH_CACHE_TTL_SECONDS"
        )
        return None
    authenticator: ApiKeyAuthenticator = app.state.authenticator
    # Nothing is remembered until the listener hears changes (and again whenever it stops hearing).
    authenticator.listening(False)
    listener = ChangeListener(
        lambda: db.connect_direct(LISTENER_APPLICATION_NAME),
        lambda change: _apply_change(app, change),
        on_connection=authenticator.listening,
    )
    app.state.confirmation = ChangeConfirmation(lambda: db.connect_direct("openpieces-confirmation"))
    listener.start()
    # Not ready before listening, or a change made meanwhile would go unheard until the TTL.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(listener.connected.wait(), timeout=10)
    return listener


def _apply_change(app: FastAPI, change: dict[str, Any] | None) -> None:
    authenticator: ApiKeyAuthenticator = app.state.authenticator
    kind = change.get("kind") if change else None
    if change is not None and kind == "platform_deleted":
        authenticator.forget_platform(str(change.get("platformId")))
    else:  # a reset, a reconnect (changes may have been missed), or a change this version does not know
        authenticator.forget_all()
    if kind == "reset" and app.state.traffic is not None:
        app.state.traffic.requests.forget_pending()


def create_app(settings: Settings | None = None, *, tracer_provider: Any = None) -> FastAPI:
    """`tracer_provider`: where spans go when tracing is on (tests pass an in-memory one)."""
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    raise_recursion_limit()
    # Swagger UI and Redoc served from the fastapi-offline package, not a CDN: /docs renders with
    # no internet (self-hosted and CI machines often have none).
    app = FastAPIOffline(
        title="openpieces: Activepieces platform API",
        version=__version__,
        description=(
            "A self-hostable reimplementation of the Activepieces platform API. Every route answers "
            "under both `/v1` and `/api/v1`. Authenticate with `Authorization: Bearer sk-...`."
        ),
        lifespan=_lifespan,
        default_response_class=ApJSONResponse,
        # A trailing slash is dropped at the edge (EdgeMiddleware); what is left never redirects.
        redirect_slashes=False,
        # FastAPI's own OpenTelemetry asked the global providers on every request whether to trace
        # it; tracing here is `AP_TRACING_ENABLED` (app/edge/tracing.py), so FastAPI's is off.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.drain = Drain(settings.shutdown_delay_seconds)
    app.state.compat = CompatPolicy.of(settings.compat)
    install_error_handlers(app)

    async def database_answers(request: Request) -> Response:
        if request.app.state.drain.draining:  # shutting down: a load balancer takes this replica out
            return error_response(ServiceUnavailable("The server is shutting down"), request.app.state.compat)
        try:
            await request.app.state.db.ping()
        except Exception as exc:
            unavailable = exc if isinstance(exc, ServiceUnavailable) else ServiceUnavailable()
            return error_response(unavailable, request.app.state.compat)
        return ApJSONResponse({"status": "ok"})

    @app.get("/v1/health", tags=["health"], summary="Liveness and database reachability")
    async def health(request: Request) -> Response:
        return await database_answers(request)

    @app.get("/v1/health/live", tags=["health"], summary="Liveness: the process answers (no database call)")
    async def live() -> Response:
        return ApJSONResponse({"status": "ok"})

    @app.get("/v1/health/ready", tags=["health"], summary="Readiness: the database answers")
    async def ready(request: Request) -> Response:
        return await database_answers(request)

    for path, endpoint in (("/health", health), ("/health/live", live), ("/health/ready", ready)):
        app.add_api_route(f"/api/v1{path}", endpoint, methods=["GET"], include_in_schema=False)

    if settings.metrics_enabled:

        @app.get("/metrics", include_in_schema=False)
        async def prometheus_metrics(request: Request) -> Response:
            metrics.record_pools(request.app.state.db.pool_stats())
            return Response(metrics.scrape(), media_type=metrics.CONTENT_TYPE)

    for prefix in PREFIXES:
        for router in API_ROUTERS:
            app.include_router(router, prefix=prefix, include_in_schema=prefix == "/v1")

    # The admin API exists only with a token; otherwise /admin is as unknown as any other path.
    app.state.traffic = Traffic(FaultInjector(), RequestLog()) if settings.admin_token else None
    if settings.admin_token:
        app.include_router(admin_router)

    install_openapi(app)
    app.state.access_log = AccessLog() if settings.log_requests else None
    # Inside the edge middleware: the by-id reads skip FastAPI's router walk (app/edge/fastlane.py).
    app.add_middleware(ByIdLane, fastapi=app, prefixes=PREFIXES, routers=API_ROUTERS)
    app.add_middleware(
        EdgeMiddleware,
        access_log=app.state.access_log,
        max_body_bytes=settings.max_body_bytes,
        traffic=app.state.traffic,
        observer=metrics.RequestMetrics(lambda: app.openapi()["paths"]) if settings.metrics_enabled else None,
        drain=app.state.drain,
    )
    if settings.tracing_enabled:
        # Outside the edge middleware, so a request refused there is traced too.
        install_tracing(app, tracer_provider)
    return app
