"""Cursor pagination: opaque cursors over (created_at, id) keyset order."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import Select, and_, or_

from webrana_common.errors import BadRequest

T = TypeVar("T")
DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` to get the next page; null on the last page"
    )


def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    raw = json.dumps([created_at.isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created, row_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        created_at = datetime.fromisoformat(created)
        # The driver sends it in UTC: an offset taking it past year 1 or 9999
        # (`0001-01-01T00:00:00+14:00`) would overflow there, a 500 at the query.
        created_at.astimezone(UTC)
        return created_at, uuid.UUID(row_id)
    except (ValueError, TypeError, OverflowError) as exc:
        raise BadRequest("cursor is not valid", code="invalid_cursor") from exc


def _check_limit(limit: int) -> None:
    # With 0 the next cursor would point past a row never shown, and that row would be skipped.
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")


def paginate_newest_first(
    stmt: Select[Any], created_col: Any, id_col: Any, cursor: str | None, limit: int
) -> Select[Any]:
    """Newest first; ties on created_at broken by id so no row is skipped or repeated."""
    _check_limit(limit)
    if cursor:
        created_at, row_id = decode_cursor(cursor)
        stmt = stmt.where(
            or_(created_col < created_at, and_(created_col == created_at, id_col < row_id))
        )
    return stmt.order_by(created_col.desc(), id_col.desc()).limit(limit + 1)


def make_page(
    rows: Sequence[Any], limit: int, *, created_attr: str = "created_at"
) -> tuple[list[Any], str | None]:
    """Given `limit + 1` rows, the page's rows and the cursor to the next page."""
    _check_limit(limit)
    rows = list(rows)
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode_cursor(getattr(last, created_attr), last.id)
