"""Which flows use a connection (`flowIds`), as a column of the one connection query."""

from typing import Any

from sqlalchemy import String, literal
from sqlalchemy.dialects.postgresql import ARRAY


def flow_ids_column(connection: Any) -> Any:
    return literal([], ARRAY(String))
