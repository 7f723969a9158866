"""The domain services wired together. A lower domain takes what it needs from a higher one as a
callable or protocol (projects gets flow counts from flows and connection links from global
connections; folders get their flow counts from flows); this is where they are handed in, for the
app, the seed and the CLI alike."""

from __future__ import annotations

from app.flows.repository import flow_counts, flows_in_folder, platform_active_flows
from app.folders.repository import FolderReads
from app.folders.service import FolderService
from app.global_connections.service import ProjectConnectionLinks
from app.kit.db import Database
from app.platforms.service import PlatformService
from app.projects.repository import ProjectReads
from app.projects.service import ProjectService

# Built and compiled once per process.
PROJECT_READS = ProjectReads(flow_counts)
FOLDER_READS = FolderReads(flows_in_folder)


def project_service(db: Database) -> ProjectService:
    return ProjectService(db, PROJECT_READS, ProjectConnectionLinks())


def folder_service(db: Database) -> FolderService:
    return FolderService(db, FOLDER_READS)


def platform_service(db: Database) -> PlatformService:
    """Platforms, with their enabled-flow counts from flows."""
    return PlatformService(db, platform_active_flows)
