"""Field types that accept what the real server's validator (ajv with `coerceTypes`) accepts, and
nothing more: pydantic's lax mode would also take "yes", "on" or 1 as a boolean."""

from typing import Annotated, Any

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

_BOOLEAN_STRINGS = {"true": True, "false": False}


def _ajv_boolean(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in _BOOLEAN_STRINGS:
        return _BOOLEAN_STRINGS[value]
    raise PydanticCustomError("bool_type", "Input should be a valid boolean")


Boolean = Annotated[bool, BeforeValidator(_ajv_boolean)]
