"""The flow counts in a project's analytics, as columns of the one project query."""

from typing import Any

from sqlalchemy import ColumnElement, literal


def flow_count_columns(project_id: ColumnElement[str]) -> list[Any]:
    return [literal(0).label("total_flows"), literal(0).label("active_flows")]
