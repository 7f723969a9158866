"""Platform API keys: `Authorization: Bearer sk-...` resolves to the platform's service principal.

Authentication runs in the edge middleware, before the body is read or validated, so a request
without a valid key is always a 401 (never a 400 or a 500), whatever else is wrong with it.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Request
from starlette.types import Scope

from app.kit.errors import AuthenticationFailed, NoCredentials, NotAnApiKey

# A bearer token is printable ASCII without spaces; anything else cannot be a key.
_TOKEN_RE = re.compile(r"^[\x21-\x7e]{1,512}$")
API_PREFIXES = ("/v1/", "/api/v1/")
MALFORMED_HEADER = "Authorization header must be 'Bearer <api key>'"
PUBLIC_PATHS = frozenset(
    f"{prefix}/health{probe}" for prefix in ("/v1", "/api/v1") for probe in ("", "/live", "/ready")
)
# Routes the real server answers for every principal, anonymous ones too (`GET /v1/flags`): a
# request without a bearer token is answered as anonymous; a bearer token must still be a valid key.
KEY_OPTIONAL_PATHS = frozenset(f"{prefix}/flags" for prefix in ("/v1", "/api/v1"))


@dataclass(frozen=True, slots=True)
class Principal:
    """A platform API key acts as its platform's admin service principal."""

    platform_id: str
    owner_id: str
    api_key_id: str


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def parse_bearer(header_value: str | None) -> str:
    # The error classes say what the real server would make of each case (app/edge/compat.py); the
    # documented answer is the same 401 AUTHENTICATION for all of them.
    if not header_value:
        raise NoCredentials("Authorization header is missing")
    scheme, _, token = header_value.partition(" ")
    if scheme.lower() != "bearer":
        raise NoCredentials(MALFORMED_HEADER)
    if not _TOKEN_RE.match(token):
        raise AuthenticationFailed(MALFORMED_HEADER) if token.startswith("sk-") else NotAnApiKey(MALFORMED_HEADER)
    return token


KeyResolver = Callable[[str], Awaitable[Principal | None]]


class ApiKeyAuthenticator:
    """Resolves a key hash to a principal, remembering hits for a short while. Misses are not
    remembered, so a key created on one worker works at once on every other.

    Forgetting is exact: a lookup that was under way when something was forgotten (it may have read
    the key before its deletion committed) answers its own request but is not remembered; and while
    the change listener is down (`distrust`) nothing is remembered at all."""

    def __init__(self, resolve: KeyResolver, ttl_seconds: float, max_entries: int = 10_000) -> None:
        self._resolve = resolve
        self._ttl = ttl_seconds
        self._max_entries = max_entries
        self._cache: dict[str, tuple[float, Principal]] = {}
        # Bumped by every forget: a lookup remembers its answer only if none happened meanwhile.
        self._generation = 0
        self._trusted = True

    async def authenticate(self, token: str) -> Principal:
        key_hash = hash_api_key(token)
        now = time.monotonic()
        hit = self._cache.get(key_hash)
        if hit is not None and hit[0] > now:
            return hit[1]
        generation = self._generation
        principal = await self._resolve(key_hash)
        if principal is None:
            self._cache.pop(key_hash, None)
            # A token that is not even shaped like an API key is, to the real server, a user's
            # access token that does not verify (a different code there; see app/edge/compat.py).
            raise AuthenticationFailed() if token.startswith("sk-") else NotAnApiKey()
        if self._ttl > 0 and self._trusted and generation == self._generation:
            if len(self._cache) >= self._max_entries:
                self._cache.clear()
            self._cache[key_hash] = (now + self._ttl, principal)
        return principal

    def forget_platform(self, platform_id: str) -> None:
        self._generation += 1
        for key_hash, (_, principal) in list(self._cache.items()):
            if principal.platform_id == platform_id:
                del self._cache[key_hash]

    def forget_all(self) -> None:
        self._generation += 1
        self._cache.clear()

    def listening(self, listening: bool) -> None:
        """The change listener's state: remember keys only while changes can be heard."""
        self.forget_all()
        self._trusted = listening


def needs_api_key(path: str) -> bool:
    return path.startswith(API_PREFIXES) and path not in PUBLIC_PATHS


async def authenticate(scope: Scope, authorization: str | None) -> Principal | None:
    """Resolve the request's key (raises AuthenticationFailed) and remember the principal on it.
    Called by the edge middleware, before the body is read or validated. On a key-optional path a
    request without a bearer token is anonymous: None, and no principal."""
    authenticator: ApiKeyAuthenticator = scope["app"].state.authenticator
    try:
        token = parse_bearer(authorization)
    except NoCredentials:
        if scope["path"] in KEY_OPTIONAL_PATHS:
            return None
        raise
    principal = await authenticator.authenticate(token)
    scope.setdefault("state", {})["principal"] = principal
    return principal


BEARER_SECURITY_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "A platform API key: `Authorization: Bearer sk-...`",
}


def optional_principal_of(request: Request) -> Principal | None:
    """The principal of a key-optional route: None for an anonymous request."""
    principal: Principal | None = request.scope.get("state", {}).get("principal")
    return principal


def principal_of(request: Request) -> Principal:
    """The principal the middleware resolved. Read directly rather than through a FastAPI
    dependency: dependency solving costs more than the whole database read of a GET."""
    principal = request.scope.get("state", {}).get("principal")
    if principal is None:  # only reachable if a route is mounted outside the API prefixes
        raise AuthenticationFailed()
    return principal
