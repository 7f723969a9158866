"""Global connections are the PLATFORM-scoped rows of the shared app connection table."""

from app.app_connections.models import AppConnection, AppConnectionProject

__all__ = ["AppConnection", "AppConnectionProject"]
