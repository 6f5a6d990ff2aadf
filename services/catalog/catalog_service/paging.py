"""Opaque keyset cursors for lists ordered by something other than creation time (slugs,
prices): the cursor holds the last row's sort key, so a page never repeats or skips a row
that did not itself change."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from webrana_common.errors import BadRequest

T = TypeVar("T")


def encode_cursor(key: Sequence[Any]) -> str:
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, length: int, tag: str | None = None) -> list[Any]:
    """The key inside `cursor`; `tag`, when given, must be its first element (a cursor made for
    one sort order is refused by another)."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except ValueError as exc:
        raise BadRequest("cursor is not valid", code="invalid_cursor") from exc
    if not isinstance(key, list) or len(key) != length or (tag is not None and key[0] != tag):
        raise BadRequest("cursor is not valid for this list", code="invalid_cursor")
    if not all(isinstance(part, str | int) and not isinstance(part, bool) for part in key):
        raise BadRequest("cursor is not valid", code="invalid_cursor")
    return key


def page_after(
    items: Sequence[T],
    key: Callable[[T], tuple[Any, ...]],
    after: tuple[Any, ...] | None,
    limit: int,
) -> tuple[list[T], tuple[Any, ...] | None]:
    """`items` sorted by `key` (unique per item); the `limit` items after `after`, and the key
    to continue from (None on the last page)."""
    start = 0
    if after is not None:
        start = len(items)
        for index, item in enumerate(items):
            try:
                beyond = key(item) > after
            except TypeError as exc:  # a cursor whose parts have the wrong types
                raise BadRequest(
                    "cursor is not valid for this list", code="invalid_cursor"
                ) from exc
            if beyond:
                start = index
                break
    page = list(items[start : start + limit])
    more = start + limit < len(items)
    return page, (key(page[-1]) if more and page else None)
