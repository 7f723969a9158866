"""Cursor pagination (Activepieces' SeekPage): `{"data", "next", "previous"}`, in each list's own
order, the real server's: a list names its sort columns (`PageQuery(query, sort=..., id_=...)`),
all ascending or all descending, and the row id breaks ties in the same direction, as the real
paginator does (`helper/pagination/paginator.ts`, `withIdTiebreaker`).

Keyset pagination on (sort columns..., id): a cursor holds the sort values of the row it was made
from, so a deep page costs the same as the first. Cursors are opaque base64url strings.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import asyncpg
from sqlalchemy import ColumnElement, DateTime, Integer, Select, bindparam, exists, tuple_

from app.kit.db import CompiledQuery
from app.kit.errors import ValidationFailed
from app.kit.ids import is_valid_id

Direction = Literal["next", "prev"]
# A sort value as a cursor carries it: text, or a timestamp (with its zone, to the microsecond).
KeyValue = str | datetime


class InvalidCursor(ValueError):
    pass


def _tagged(value: KeyValue) -> Any:
    return {"t": value.isoformat()} if isinstance(value, datetime) else value


def _untagged(value: Any) -> KeyValue:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and set(value) == {"t"} and isinstance(value["t"], str):
        moment = datetime.fromisoformat(value["t"])
        if moment.tzinfo is not None:
            return moment
    raise InvalidCursor(value)


@dataclass(frozen=True, slots=True)
class Cursor:
    direction: Direction
    key: tuple[KeyValue, ...]  # the row's sort values, its id last

    def encode(self) -> str:
        raw = json.dumps([self.direction, [_tagged(value) for value in self.key]], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> Cursor:
        try:
            padded = value + "=" * (-len(value) % 4)
            direction, key = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8"))
            values = tuple(_untagged(item) for item in key)
        except (ValueError, TypeError, UnicodeError, binascii.Error) as exc:
            raise InvalidCursor(value) from exc
        row_id = values[-1] if values else None
        if direction not in ("next", "prev") or not isinstance(row_id, str) or not is_valid_id(row_id):
            raise InvalidCursor(value)
        return cls(direction, values)


def decode_cursor(cursor: str | None) -> Cursor | None:
    """A client's `cursor` query parameter: absent or empty is the first page; garbage is a 400."""
    if not cursor:
        return None
    try:
        return Cursor.decode(cursor)
    except InvalidCursor:
        raise _not_a_cursor() from None


def _not_a_cursor() -> ValidationFailed:
    return ValidationFailed("querystring/cursor is not a valid cursor")


@dataclass(frozen=True, slots=True)
class Page:
    rows: Sequence[Mapping[str, Any]]
    next: str | None
    previous: str | None

    def to_body(self, to_item: Callable[[Mapping[str, Any]], dict[str, Any]]) -> dict[str, Any]:
        return {"data": [to_item(row) for row in self.rows], "next": self.next, "previous": self.previous}


# A column of every row of a cursor's page: whether rows lie on the cursor's other side.
BEYOND_CURSOR = "page_beyond_cursor"
# The columns of every row holding its sort values (`page_key_0`, ...; the id last).
KEY_COLUMN = "page_key_{}"


class PageQuery:
    """A list query (filtered; its values are bind parameters) compiled once into the statements of
    keyset pagination: the first page, and the page after or before a cursor. The order is the
    `sort` columns and then `id_`, all descending (or all ascending with `descending=False`).

    A cursor's page also answers, in the same statement, whether rows lie on the cursor's other
    side: the page before the cursor's row exists if some row is at or past the cursor (nothing lies
    between the cursor and the page's first row). One round trip per page, deep or not."""

    def __init__(
        self,
        query: Select[Any],
        *,
        sort: Sequence[ColumnElement[Any]],
        id_: ColumnElement[str],
        descending: bool = True,
    ) -> None:
        columns = (*sort, id_)
        self.timestamps = tuple(isinstance(column.type, DateTime) for column in columns)
        self.width = len(columns)
        key = tuple_(*columns)
        at = tuple_(*(bindparam(f"at_{i}", type_=column.type) for i, column in enumerate(columns)))
        limit = bindparam("page_limit", type_=Integer)
        desc_order = tuple(column.desc() for column in columns)
        asc_order = tuple(column.asc() for column in columns)
        forward, backward = (desc_order, asc_order) if descending else (asc_order, desc_order)
        # Rows after the cursor in the page's order, and rows before it.
        past, behind = (key < at, key > at) if descending else (key > at, key < at)
        at_or_behind, at_or_past = (key >= at, key <= at) if descending else (key <= at, key >= at)
        query = query.add_columns(*(column.label(KEY_COLUMN.format(i)) for i, column in enumerate(columns)))

        def beyond(condition: ColumnElement[bool]) -> Any:
            # correlate(None): the same tables as the page's, but its own rows.
            return exists(query.where(condition).correlate(None)).label(BEYOND_CURSOR)

        self.first = CompiledQuery(query.order_by(*forward).limit(limit))
        self.after = CompiledQuery(query.add_columns(beyond(at_or_behind)).where(past).order_by(*forward).limit(limit))
        self.before = CompiledQuery(
            query.add_columns(beyond(at_or_past)).where(behind).order_by(*backward).limit(limit)
        )

    def position(self, cursor: Cursor) -> dict[str, KeyValue]:
        """The bind values of a cursor's position; a cursor of another list's order is no cursor here."""
        if len(cursor.key) != self.width or any(
            isinstance(value, datetime) != is_timestamp
            for value, is_timestamp in zip(cursor.key, self.timestamps, strict=True)
        ):
            raise _not_a_cursor()
        return {f"at_{i}": value for i, value in enumerate(cursor.key)}

    def cursor(self, direction: Direction, row: Mapping[str, Any]) -> str:
        return Cursor(direction, tuple(row[KEY_COLUMN.format(i)] for i in range(self.width))).encode()


async def fetch_page(
    conn: asyncpg.Connection, pages: PageQuery, values: dict[str, Any], *, limit: int, cursor: Cursor | None
) -> Page:
    """One page of `pages`' query, in its order, with the cursors of the pages around it."""
    if cursor is None:
        rows = await pages.first.fetch(conn, page_limit=limit + 1, **values)
    else:
        query = pages.after if cursor.direction == "next" else pages.before
        rows = await query.fetch(conn, page_limit=limit + 1, **pages.position(cursor), **values)
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
        next=pages.cursor("next", rows[-1]) if has_next else None,
        previous=pages.cursor("prev", rows[0]) if has_previous else None,
    )
