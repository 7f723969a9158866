"""Which flows use a connection (`flowIds`), as a column of the one connection query."""

from typing import Any


def flow_ids_column(connection: Any) -> Any:
    from app.flows.repository import flows_using_connection

    return flows_using_connection(connection.c.platform_id, connection.c.external_id)
