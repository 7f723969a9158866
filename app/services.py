"""The domain services wired together. A lower domain takes what it needs from a higher one as a
callable or protocol (projects gets flow counts from flows and connection links from global
connections); this is where they are handed in, for the app, the seed and the CLI alike."""

from __future__ import annotations

from app.flows.repository import flow_counts, platform_active_flows
from app.global_connections.service import ProjectConnectionLinks
from app.kit.db import Database
from app.platforms.service import PlatformService
from app.projects.repository import ProjectReads
from app.projects.service import ProjectService

# Built and compiled once per process.
PROJECT_READS = ProjectReads(flow_counts)


def project_service(db: Database) -> ProjectService:
    return ProjectService(db, PROJECT_READS, ProjectConnectionLinks())


def platform_service(db: Database) -> PlatformService:
    """Platforms, with their enabled-flow counts from flows."""
    return PlatformService(db, platform_active_flows)
