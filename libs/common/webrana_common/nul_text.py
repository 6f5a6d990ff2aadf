"""PostgreSQL text cannot hold NUL (U+0000), so a NUL a client sends is its error (422), not
the 500 the database's refusal would otherwise become.

Refused twice: `nul_refusal.RefuseNulMiddleware` refuses a request carrying one before it
reaches a route, so nothing of it runs (an order would otherwise fail only at its INSERT,
after billing redeemed its promo); the problem handlers answer the database's own refusal,
`is_nul_refusal`, with the same 422 for what the middleware does not read (a form, a header,
a JSON body sent without its content type).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import DBAPIError

NUL_MESSAGE = "Text must not contain NUL (\\u0000) characters"
NUL_ERROR_TYPE = "nul_character"
# untranslatable_character (jsonb's "\u0000 cannot be converted to text") and
# character_not_in_repertoire (text's "invalid byte sequence for encoding UTF8: 0x00").
NUL_SQLSTATES = frozenset({"22P05", "22021"})


def is_nul_refusal(exc: BaseException) -> bool:
    """asyncpg's error, raw (`db.raw`) or as SQLAlchemy wraps it (`.orig` has the sqlstate)."""
    cause = exc.orig if isinstance(exc, DBAPIError) else exc
    return getattr(cause, "sqlstate", None) in NUL_SQLSTATES


def nul_error(loc: tuple[Any, ...]) -> dict[str, Any]:
    """As pydantic reports an invalid field, for the same validation problem."""
    return {"type": NUL_ERROR_TYPE, "loc": loc, "msg": NUL_MESSAGE}


def find_nul(value: Any) -> tuple[Any, ...] | None:
    """Where a NUL is in parsed JSON, keys included (a jsonb column stores them).
    Iterative: how deep a body nests is the client's choice."""
    stack: list[tuple[tuple[Any, ...], Any]] = [((), value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return path
        elif isinstance(item, dict):
            for key, child in item.items():
                if "\x00" in key:
                    return (*path, key)
                stack.append(((*path, key), child))
        elif isinstance(item, list):
            stack.extend(((*path, i), child) for i, child in enumerate(item))
    return None
