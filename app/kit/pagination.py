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

import asyncpg
from sqlalchemy import ColumnElement, Integer, Select, bindparam, exists, tuple_

from app.kit.db import CompiledQuery
from app.kit.ids import is_valid_id

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
    from app.kit.errors import ValidationFailed

    if not cursor:
        return None
    try:
        return Cursor.decode(cursor)
    except InvalidCursor:
        raise ValidationFailed("querystring/cursor is not a valid cursor") from None


@dataclass(frozen=True, slots=True)
class Page:
    rows: Sequence[Mapping[str, Any]]
    next: str | None
    previous: str | None

    def to_body(self, to_item: Callable[[Mapping[str, Any]], dict[str, Any]]) -> dict[str, Any]:
        return {"data": [to_item(row) for row in self.rows], "next": self.next, "previous": self.previous}


# A column of every row of a cursor's page: whether rows lie on the cursor's other side.
BEYOND_CURSOR = "page_beyond_cursor"


class PageQuery:
    """A list query (filtered; its values are bind parameters) compiled once into the statements of
    keyset pagination, newest first (or `oldest_first`): the first page, and the page after or
    before a cursor. `created` is the sort timestamp, a column the rows expose under its own name.

    A cursor's page also answers, in the same statement, whether rows lie on the cursor's other
    side: the page before the cursor's row exists if some row is at or past the cursor (nothing lies
    between the cursor and the page's first row). One round trip per page, deep or not."""

    def __init__(
        self,
        query: Select[Any],
        *,
        created: ColumnElement[datetime],
        id_: ColumnElement[str],
        oldest_first: bool = False,
    ) -> None:
        key = tuple_(created, id_)
        at = tuple_(bindparam("at_created", type_=created.type), bindparam("at_id", type_=id_.type))
        limit = bindparam("page_limit", type_=Integer)
        ascending = (created.asc(), id_.asc())
        descending = (created.desc(), id_.desc())
        forward, backward = (ascending, descending) if oldest_first else (descending, ascending)
        # Rows after the cursor's row in page order, and rows before it.
        ahead, behind = (key > at, key < at) if oldest_first else (key < at, key > at)
        not_ahead, not_behind = (key <= at, key >= at) if oldest_first else (key >= at, key <= at)
        self.sort_key = created.key

        def beyond(condition: ColumnElement[bool]) -> Any:
            # correlate(None): the same tables as the page's, but its own rows.
            return exists(query.where(condition).correlate(None)).label(BEYOND_CURSOR)

        self.first = CompiledQuery(query.order_by(*forward).limit(limit))
        self.after = CompiledQuery(query.add_columns(beyond(not_ahead)).where(ahead).order_by(*forward).limit(limit))
        self.before = CompiledQuery(
            query.add_columns(beyond(not_behind)).where(behind).order_by(*backward).limit(limit)
        )


async def fetch_page(
    conn: asyncpg.Connection, pages: PageQuery, values: dict[str, Any], *, limit: int, cursor: Cursor | None
) -> Page:
    """One page of `pages`' query, newest first, with the cursors of the pages around it."""
    name = pages.sort_key
    if cursor is None:
        rows = await pages.first.fetch(conn, page_limit=limit + 1, **values)
    else:
        query = pages.after if cursor.direction == "next" else pages.before
        rows = await query.fetch(conn, page_limit=limit + 1, at_created=cursor.created, at_id=cursor.id, **values)
    has_more = len(rows) > limit
    rows = rows[:limit]
    beyond = bool(rows) and cursor is not None and bool(rows[0][BEYOND_CURSOR])
    if cursor is not None and cursor.direction == "prev":
        rows.reverse()
        has_next, has_previous = beyond, has_more
    else:
        has_next, has_previous = has_more, beyond

    return Page(
        rows=rows,
        next=Cursor("next", rows[-1][name], rows[-1]["id"]).encode() if has_next else None,
        previous=Cursor("prev", rows[0][name], rows[0]["id"]).encode() if has_previous else None,
    )
