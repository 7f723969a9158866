"""Wire formats shared by every domain."""

from datetime import UTC, datetime


def iso(value: datetime | None) -> str | None:
    """`2024-01-10T10:00:00.000Z`: UTC with milliseconds, as the real API writes timestamps."""
    if value is None:
        return None
    if value.utcoffset():
        value = value.astimezone(UTC)
    # isoformat is several times faster than strftime, and this runs for every timestamp served.
    return value.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"
