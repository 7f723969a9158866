"""The flow counts in a project's analytics, as columns of the one project query."""

from typing import Any

from sqlalchemy import ColumnElement


def flow_count_columns(project_id: ColumnElement[str]) -> list[Any]:
    from app.flows.repository import flow_counts

    return flow_counts(project_id)
