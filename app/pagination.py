"""Cursor pagination (Activepieces' SeekPage): `{"data", "next", "previous"}`, newest first.

Keyset pagination on (created, id) descending: a cursor holds the position of the row it was
made from, so a deep page costs the same as the first. Cursors are opaque base64url strings.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, exists, select, tuple_
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from app.ids import is_valid_id

Direction = Literal["next", "prev"]


class InvalidCursor(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Cursor:
    direction: Direction
    created: datetime
    id: str

    def encode(self) -> str:
        raw = f"{self.direction}_{self.created.isoformat()}_{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> Cursor:
        try:
            padded = value + "=" * (-len(value) % 4)
            raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
            direction, created, row_id = raw.split("_")
            parsed_created = datetime.fromisoformat(created)
        except (ValueError, UnicodeError, binascii.Error) as exc:
            raise InvalidCursor(value) from exc
        if direction not in ("next", "prev") or not is_valid_id(row_id) or parsed_created.tzinfo is None:
            raise InvalidCursor(value)
        return cls(direction, parsed_created, row_id)  # type: ignore[arg-type]


def decode_cursor(cursor: str | None) -> Cursor | None:
    """A client's `cursor` query parameter: absent or empty is the first page; garbage is a 400."""
    from app.errors import ValidationFailed

    if not cursor:
        return None
    try:
        return Cursor.decode(cursor)
    except InvalidCursor:
        raise ValidationFailed("querystring/cursor is not a valid cursor") from None


@dataclass(frozen=True, slots=True)
class Page:
    rows: Sequence[Row[Any]]
    next: str | None
    previous: str | None

    def to_body(self, to_item: Callable[[Mapping[str, Any]], dict[str, Any]]) -> dict[str, Any]:
        return {
            "data": [to_item(row._mapping) for row in self.rows],
            "next": self.next,
            "previous": self.previous,
        }


async def paginate(
    conn: AsyncConnection,
    query: Select[Any],
    *,
    created: ColumnElement[datetime],
    id_: ColumnElement[str],
    limit: int,
    cursor: Cursor | None,
) -> Page:
    """Run `query` (already filtered) one page at a time, newest `created` first (`created` is the
    sort timestamp: a column the rows expose under its own name, beside `id`)."""
    key = tuple_(created, id_)
    name = created.key
    if cursor is None or cursor.direction == "next":
        page_query = query.order_by(created.desc(), id_.desc())
        if cursor is not None:
            page_query = page_query.where(key < tuple_(cursor.created, cursor.id))
    else:
        page_query = query.where(key > tuple_(cursor.created, cursor.id)).order_by(created.asc(), id_.asc())

    rows = list((await conn.execute(page_query.limit(limit + 1))).all())
    has_more = len(rows) > limit
    rows = rows[:limit]

    if cursor is not None and cursor.direction == "prev":
        rows.reverse()
        has_previous = has_more
        has_next = bool(rows) and await _any(conn, query.where(key < tuple_(getattr(rows[-1], name), rows[-1].id)))
    else:
        has_next = has_more
        has_previous = (
            cursor is not None
            and bool(rows)
            and await _any(conn, query.where(key > tuple_(getattr(rows[0], name), rows[0].id)))
        )

    return Page(
        rows=rows,
        next=Cursor("next", getattr(rows[-1], name), rows[-1].id).encode() if has_next else None,
        previous=Cursor("prev", getattr(rows[0], name), rows[0].id).encode() if has_previous else None,
    )


async def _any(conn: AsyncConnection, query: Select[Any]) -> bool:
    return bool(await conn.scalar(select(exists(query))))
