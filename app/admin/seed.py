"""Seed files (`AP_SEED_FILE`, `openpieces seed FILE`): platforms with fixed API keys, their
projects, global connections and flows, in YAML or JSON. Applied idempotently: what exists (by API
key, by externalId) is left as it is, what is missing is made, through the same services as the
API, so every rule holds and secrets are encrypted as usual."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from sqlalchemy import select, text

from app.edge.auth import Principal, hash_api_key
from app.flows.models import Flow
from app.flows.schemas import CreateFlowRequest, FlowOperationRequest, TriggerIn
from app.flows.service import FlowService
from app.global_connections.schemas import UpsertGlobalConnectionRequest
from app.global_connections.service import GlobalConnectionService
from app.kit.crypto import SecretBox
from app.kit.db import MIGRATION_LOCK_KEY, Database
from app.platforms.models import User
from app.platforms.repository import PlatformRepository
from app.platforms.service import PlatformService
from app.projects.models import Project
from app.projects.provisioning import PlatformProvisioning
from app.projects.schemas import CreateProjectRequest, UpdateProjectRequest
from app.services import project_service
from app.users.schemas import Email, NewUser, PlatformRole, ProjectRole, UserStatus
from app.users.service import UserService

log = logging.getLogger("openpieces.seed")


_UPSERT_REQUEST: TypeAdapter[Any] = TypeAdapter(UpsertGlobalConnectionRequest)


class SeedError(ValueError):
    """A seed file that cannot be applied; the message names the file, the line and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SeedPlan(_Strict):
    piecesFilterType: Literal["NONE", "ALLOWED"] = "NONE"
    pieces: list[str] = []


class SeedProject(_Strict):
    externalId: Annotated[str, Field(min_length=1)]
    displayName: str
    metadata: dict[str, Any] | None = None
    maxConcurrentJobs: int | None = None
    plan: SeedPlan | None = None


class SeedConnection(_Strict):
    externalId: Annotated[str, Field(min_length=1)]
    displayName: str
    pieceName: str
    type: str
    value: dict[str, Any]
    # externalIds of this platform's projects in the seed; "personal" is the owner's project.
    projects: list[str] = []
    metadata: dict[str, Any] | None = None
    pieceVersion: str | None = None
    preSelectForNewProjects: bool = False

    def request(self, project_ids: list[str]) -> Any:
        """The API's upsert request for this connection (validated as the API validates it)."""
        return _UPSERT_REQUEST.validate_python(
            {
                "displayName": self.displayName,
                "pieceName": self.pieceName,
                "type": self.type,
                "value": self.value,
                "scope": "PLATFORM",
                "projectIds": project_ids,
                "metadata": self.metadata,
                "pieceVersion": self.pieceVersion,
                "externalId": self.externalId,
                "preSelectForNewProjects": self.preSelectForNewProjects,
            }
        )


class SeedFlow(_Strict):
    project: Annotated[str, Field(min_length=1)]  # a project externalId, or "personal"
    externalId: Annotated[str, Field(min_length=1)]
    displayName: str
    folderName: str | None = None
    metadata: dict[str, Any] | None = None
    trigger: dict[str, Any] | None = None
    # DRAFT: edited, never published; LOCKED: locked, not published; PUBLISHED: published.
    state: Literal["DRAFT", "LOCKED", "PUBLISHED"] = "DRAFT"
    status: Literal["ENABLED", "DISABLED"] | None = None  # for PUBLISHED; default ENABLED


class SeedUser(_Strict):
    externalId: Annotated[str, Field(min_length=1, max_length=255)]  # what makes seeding it idempotent
    email: Email
    firstName: str = ""
    lastName: str = ""
    platformRole: PlatformRole = PlatformRole.MEMBER
    status: UserStatus = UserStatus.ACTIVE
    personalProject: bool = True
    # externalIds of this platform's projects in the seed: the user is made a member of each.
    projects: list[str] = []
    projectRole: ProjectRole = ProjectRole.EDITOR


class SeedPlatform(_Strict):
    name: str
    edition: Literal["COMMUNITY", "PRO", "ENTERPRISE"] = "ENTERPRISE"
    apiKeys: Annotated[list[Annotated[str, Field(pattern=r"^sk-[A-Za-z0-9_-]{16,}$")]], Field(min_length=1)]
    projects: list[SeedProject] = []
    users: list[SeedUser] = []
    globalConnections: list[SeedConnection] = []
    flows: list[SeedFlow] = []


class SeedDocument(_Strict):
    platforms: list[SeedPlatform] = []


PERSONAL = "personal"


# --- reading, with errors that point at the line


def load_seed_file(path: Path) -> SeedDocument:
    try:
        source = path.read_text()
    except OSError as exc:
        raise SeedError(f"{path}: cannot read the seed file: {exc.strerror}") from None
    try:
        node = yaml.compose(source, Loader=yaml.SafeLoader)
        data = yaml.safe_load(source)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise SeedError(f"{where}: not valid YAML or JSON: {getattr(exc, 'problem', exc)}") from None
    try:
        document = SeedDocument.model_validate(data if data is not None else {})
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(error["loc"])
        raise _fail(path, node, loc, error["msg"]) from None
    _check_references(path, node, document)
    return document


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int:
    """The 1-based line of the deepest node of `loc` that exists in the YAML tree."""
    line = node.start_mark.line + 1 if node is not None else 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = next((value for key, value in node.value if key.value == part), None)
            if found is None:
                key_node = next((key for key, _ in node.value if key.value == part), None)
                return key_node.start_mark.line + 1 if key_node is not None else line
            node = found
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            return line
        line = node.start_mark.line + 1
    return line


def _check_references(path: Path, node: yaml.Node | None, document: SeedDocument) -> None:
    """Names that must refer to something else in the file: connection projects, flow projects,
    connection values (validated as the API would)."""
    for p_index, platform in enumerate(document.platforms):
        projects = {project.externalId for project in platform.projects} | {PERSONAL}
        for u_index, user in enumerate(platform.users):
            for r_index, reference in enumerate(user.projects):
                if reference not in projects:
                    loc = ("platforms", p_index, "users", u_index, "projects", r_index)
                    raise _fail(path, node, loc, f"no project with externalId {reference!r}")
        for c_index, connection in enumerate(platform.globalConnections):
            base = ("platforms", p_index, "globalConnections", c_index)
            for r_index, reference in enumerate(connection.projects):
                if reference not in projects:
                    loc = (*base, "projects", r_index)
                    raise _fail(path, node, loc, f"no project with externalId {reference!r}")
            try:
                connection.request(project_ids=[])
            except ValidationError as exc:
                error = exc.errors()[0]
                inner = [part for part in error["loc"] if not (isinstance(part, str) and part.isupper())]
                loc = (*base, *inner)
                raise _fail(path, node, loc, error["msg"]) from None
        for f_index, flow in enumerate(platform.flows):
            base = ("platforms", p_index, "flows", f_index)
            if flow.project not in projects:
                loc = (*base, "project")
                raise _fail(path, node, loc, f"no project with externalId {flow.project!r}")
            if flow.trigger is not None:
                try:
                    TriggerIn.model_validate(flow.trigger)
                except ValidationError as exc:
                    loc = (*base, "trigger", *exc.errors()[0]["loc"])
                    raise _fail(path, node, loc, exc.errors()[0]["msg"]) from None


def _dotted(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(document)"


def _fail(path: Path, node: yaml.Node | None, loc: tuple[Any, ...], message: str) -> SeedError:
    return SeedError(f"{path}:{_line_of(node, loc)}: {_dotted(loc)}: {message}")


# --- applying


async def apply_seed(db: Database, secrets: SecretBox, document: SeedDocument) -> dict[str, int]:
    """Make what the seed describes and is missing. Workers starting at once take turns."""
    made = {"platforms": 0, "projects": 0, "users": 0, "globalConnections": 0, "flows": 0}
    async with db.transaction() as lock_conn:
        # Held while the services below run their own transactions; transaction-scoped, so it can
        # never outlive this (behind a transaction-mode pooler, a session lock would).
        await lock_conn.execute(text(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"))
        for platform in document.platforms:
            await _apply_platform(db, secrets, platform, made)
    if any(made.values()):
        log.info("seed applied", extra=made)
    return made


async def _apply_platform(db: Database, secrets: SecretBox, seed: SeedPlatform, made: dict[str, int]) -> None:
    principal = await _platform_of(db, seed.apiKeys)
    if principal is None:
        created = await PlatformProvisioning(db).create_platform(seed.name, seed.edition, api_key=seed.apiKeys[0])
        principal = Principal(platform_id=created.platform_id, owner_id=created.owner_id, api_key_id="seed")
        made["platforms"] += 1
    await _ensure_keys(db, principal.platform_id, seed.apiKeys)

    project_ids = await _project_ids(db, principal.platform_id)
    projects = project_service(db)
    for project in seed.projects:
        if project.externalId in project_ids:
            continue
        body = await projects.create(
            principal,
            CreateProjectRequest(
                displayName=project.displayName,
                externalId=project.externalId,
                metadata=project.metadata,
                maxConcurrentJobs=project.maxConcurrentJobs,
            ),
        )
        if project.plan is not None:
            await projects.update(
                principal, body["id"], UpdateProjectRequest.model_validate({"plan": project.plan.model_dump()})
            )
        project_ids[project.externalId] = body["id"]
        made["projects"] += 1

    users = UserService(db)
    existing_users = await _user_external_ids(db, principal.platform_id)
    for user in seed.users:
        if user.externalId in existing_users:
            continue
        await users.create(
            principal.platform_id,
            NewUser(
                email=user.email,
                firstName=user.firstName,
                lastName=user.lastName,
                platformRole=user.platformRole,
                externalId=user.externalId,
                status=user.status,
                personalProject=user.personalProject,
                projects=[{"projectId": project_ids[ref], "projectRole": user.projectRole} for ref in user.projects],
            ),
        )
        made["users"] += 1

    connections = GlobalConnectionService(db, secrets)
    existing_connections = await _connection_external_ids(db, principal.platform_id)
    for connection in seed.globalConnections:
        if connection.externalId in existing_connections:
            continue
        request = connection.request(project_ids=[project_ids[reference] for reference in connection.projects])
        await connections.upsert(principal, request)
        made["globalConnections"] += 1

    flows = FlowService(db)
    operation = TypeAdapter(FlowOperationRequest)
    for flow in seed.flows:
        project_id = project_ids[flow.project]
        if await _flow_exists(db, project_id, flow.externalId):
            continue
        body = await flows.create(
            principal,
            CreateFlowRequest(
                displayName=flow.displayName,
                projectId=project_id,
                folderName=flow.folderName,
                externalId=flow.externalId,
                metadata=flow.metadata,
            ),
        )
        steps: list[dict[str, Any]] = []
        if flow.trigger is not None:
            steps.append(
                {
                    "type": "IMPORT_FLOW",
                    "request": {"displayName": flow.displayName, "trigger": flow.trigger, "schemaVersion": None},
                }
            )
        if flow.state == "LOCKED":
            steps.append({"type": "LOCK_FLOW", "request": {}})
        elif flow.state == "PUBLISHED":
            steps.append({"type": "LOCK_AND_PUBLISH", "request": {"status": flow.status or "ENABLED"}})
        for step in steps:
            await flows.apply(principal, body["id"], operation.validate_python(step))
        made["flows"] += 1


async def _platform_of(db: Database, api_keys: list[str]) -> Principal | None:
    async with db.fast_read() as conn:
        platforms = PlatformRepository(conn)
        for key in api_keys:
            resolved = await platforms.resolve_key(hash_api_key(key))
            if resolved is not None:
                return Principal(platform_id=resolved.platform_id, owner_id=resolved.owner_id, api_key_id="seed")
    return None


async def _ensure_keys(db: Database, platform_id: str, api_keys: list[str]) -> None:
    async with db.fast_transaction() as conn:
        platforms = PlatformRepository(conn)
        for key in api_keys:
            existing = await platforms.key_platform(hash_api_key(key))
            if existing is None:
                await PlatformService.insert_key(platforms, platform_id, key)
            elif existing != platform_id:
                raise SeedError(f"API key ...{key[-4:]} already belongs to another platform")


async def _project_ids(db: Database, platform_id: str) -> dict[str, str]:
    async with db.read() as conn:
        rows = await conn.execute(
            select(Project.external_id, Project.id, Project.type)
            .where(Project.platform_id == platform_id)
            # The owner's personal project is made with the platform, before any user's: it comes first.
            .order_by(Project.created, Project.id)
        )
        ids: dict[str, str] = {}
        for external_id, project_id, project_type in rows:
            if project_type == "PERSONAL":
                ids.setdefault(PERSONAL, project_id)
            if external_id:
                ids[external_id] = project_id
        return ids


async def _user_external_ids(db: Database, platform_id: str) -> set[str]:
    async with db.read() as conn:
        rows = await conn.execute(
            select(User.external_id).where(User.platform_id == platform_id, User.external_id.is_not(None))
        )
        return {row[0] for row in rows}


async def _connection_external_ids(db: Database, platform_id: str) -> set[str]:
    from app.global_connections.models import AppConnection

    async with db.read() as conn:
        rows = await conn.execute(
            select(AppConnection.external_id).where(
                AppConnection.platform_id == platform_id, AppConnection.scope == "PLATFORM"
            )
        )
        return {row[0] for row in rows}


async def _flow_exists(db: Database, project_id: str, external_id: str) -> bool:
    async with db.read() as conn:
        found = await conn.scalar(select(Flow.id).where(Flow.project_id == project_id, Flow.external_id == external_id))
        return found is not None
