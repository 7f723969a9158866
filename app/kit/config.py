"""Settings, read from the environment with the `AP_` prefix."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.kit.clock import parse_instant

# The spellings of a PostgreSQL URL that are accepted; every one is used through asyncpg.
ASYNC_URL_PREFIX = "postgresql+asyncpg://"
_URL_PREFIXES = (ASYNC_URL_PREFIX, "postgresql://", "postgres://")


def to_async_url(url: str) -> str:
    """`postgresql://` and `postgres://` (libpq's spellings) as `postgresql+asyncpg://`: SQLAlchemy
    needs the driver named, and asyncpg is the only one installed. Any other scheme is refused with
    a message that says what is accepted (never the URL itself: it may hold a password)."""
    for prefix in _URL_PREFIXES:
        if url.startswith(prefix):
            return ASYNC_URL_PREFIX + url[len(prefix) :]
    scheme = url.split("://", 1)[0] if "://" in url else ""
    shown = f"a {scheme}:// URL" if scheme and scheme.replace("+", "").isalnum() else "not a URL"
    raise ValueError(f"must be a postgresql://, postgres:// or postgresql+asyncpg:// URL ({shown} given)")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AP_", extra="ignore")

    # A `postgresql+asyncpg://` URL. Unset: an embedded PostgreSQL under `data_dir` is used.
    database_url: str | None = None
    # Set by `openpieces serve` for its workers when `database_url` is the embedded PostgreSQL it
    # started itself (so the workers' "ready" line says what runs).
    database_embedded: bool = False
    data_dir: Path = Path(".openpieces")
    # What AP_DATABASE_URL reaches: PostgreSQL ("none"), or a pooler such as PgBouncer. In
    # "transaction" mode no connection keeps a prepared statement or session state past a
    # transaction, and what needs a real session goes to `database_direct_url`.
    database_pooler: Literal["none", "session", "transaction"] = "none"
    # PostgreSQL itself, for migrations (and their lock) and LISTEN. Defaults to AP_DATABASE_URL.
    database_direct_url: str | None = None
    run_migrations: bool = True

    # Key for encrypting connection secrets (urlsafe base64 of 32 bytes). Unset: generated
    # once and kept in `data_dir` with 0600 permissions.
    encryption_key: str | None = None
    # True (the Docker image's default): refuse to start without AP_ENCRYPTION_KEY.
    encryption_key_required: bool = False

    # Env-driven bootstrap: a platform holding this key is created on first start.
    bootstrap_api_key: str | None = None
    bootstrap_edition: str = "ENTERPRISE"

    # The admin API (`/admin`) is mounted only when this is set, and answers only to it.
    admin_token: str | None = None
    # A YAML or JSON seed file applied (idempotently) on start and on `POST /admin/reset`.
    seed_file: Path | None = None

    # Where the public docs and the real server disagree, which answer to give (app/edge/compat.py):
    # "docs" (the seed documents') or "server" (the deployed Activepieces server's).
    compat: Literal["docs", "server"] = "docs"

    log_level: str = "INFO"
    # Bigger request bodies are refused with 413 before they are read whole.
    max_body_bytes: int = 5 * 1024 * 1024
    # `openpieces serve` (app/edge/server.py): a request's line and headers must arrive within
    # headers_timeout_seconds of the connection (or of the previous response) and be at most
    # max_head_bytes; its body within body_timeout_seconds of its headers. Else 408 / 431.
    headers_timeout_seconds: float = 10.0
    body_timeout_seconds: float = 60.0
    max_head_bytes: int = 64 * 1024
    # A response the client stops reading for this long (the socket full, the server waiting to write)
    # is dropped and its connection closed: what a client that never reads can pin is freed.
    send_timeout_seconds: float = 30.0
    log_requests: bool = True
    db_pool_size: int = 10
    db_max_overflow: int = 20
    # How long a resolved API key is trusted without asking the database again.
    # Keys are never cached negatively, so a new key works at once on every worker.
    auth_cache_ttl_seconds: float = 5.0
    # On SIGTERM (app/edge/draining.py): health answers 503 and responses close their connections for
    # this long before the listener closes (give a load balancer time to notice), then in-flight
    # requests get up to the timeout to finish.
    shutdown_delay_seconds: float = 0.0
    shutdown_timeout_seconds: int = 30

    # `GET /metrics` (Prometheus) and the per-request counting behind it.
    metrics_enabled: bool = True
    # OpenTelemetry traces of every request; needs `pip install 'openpieces[otel]'`. The exporter is
    # set by the standard OTEL_* variables (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME, ...).
    tracing_enabled: bool = False

    # Deterministic mode (one server process): ids from a generator seeded with this number, and
    # timestamps from a logical clock that starts at `clock` (default 2026-01-01T00:00:00.000Z) and
    # moves one millisecond per reading, or not at all when `clock_frozen`; the admin API moves it.
    deterministic_seed: int | None = None
    clock: str | None = None
    clock_frozen: bool = False

    @field_validator("clock")
    @classmethod
    def _instant(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_instant(value)
            except ValueError:
                raise ValueError(
                    f"must be an ISO 8601 instant such as 2026-01-01T00:00:00Z ({value!r} given)"
                ) from None
        return value

    @model_validator(mode="after")
    def _clock_needs_seed(self) -> "Settings":
        if self.deterministic_seed is None and (self.clock is not None or self.clock_frozen):
            raise ValueError("AP_CLOCK and AP_CLOCK_FROZEN need deterministic mode: set AP_DETERMINISTIC_SEED too")
        return self

    @field_validator("database_url", "database_direct_url")
    @classmethod
    def _asyncpg_url(cls, value: str | None) -> str | None:
        return to_async_url(value) if value else value

    def pooler_of(self, database_url: str) -> str:
        """The pooler mode of `database_url`: AP_DATABASE_POOLER for AP_DATABASE_URL, none for the
        embedded PostgreSQL."""
        return self.database_pooler if database_url == self.database_url else "none"

    def direct(self, database_url: str) -> tuple[str, str]:
        """The URL for work that needs a session of its own, and the pooler mode it runs in (a
        transaction-mode pooler still, when no direct URL is set)."""
        if self.database_direct_url and database_url == self.database_url:
            return self.database_direct_url, "none"
        if database_url != self.database_url:  # the embedded PostgreSQL
            return database_url, "none"
        return database_url, self.database_pooler


@lru_cache
def get_settings() -> Settings:
    return Settings()
