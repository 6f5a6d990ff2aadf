"""A transaction on the driver's own connection (asyncpg), for the few hot paths where
SQLAlchemy's cost per statement was most of a service's CPU: measured on this fleet's
machine, a SELECT and an UPDATE in a transaction cost 1.1-1.6 ms of CPU through the ORM,
1.0-1.2 ms through Core and 0.35-0.45 ms on the driver (a pooled connection of the same
engine, so no second pool and no more PostgreSQL connections).

Parameters are positional (`$1`); a JSONB parameter goes as JSON text (the dialect's codec
on every pooled connection encodes text and decodes to Python values)."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import JSON, Column, Table

AfterCommit = Callable[[], Awaitable[Any]]
_M = TypeVar("_M")


def as_json(value: Any) -> str:
    """A JSONB parameter."""
    return json.dumps(value, separators=(",", ":"))


@dataclass
class RawTransaction:
    """What `Database.transaction()` yields: the connection, inside one open transaction, and
    the work to start once it has committed (never if it rolls back)."""

    connection: asyncpg.Connection
    database: Any  # the Database it came from (webrana_common.db.session; not imported: cycle)
    callbacks: list[AfterCommit] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    def after_commit(self, callback: AfterCommit) -> None:
        self.callbacks.append(callback)


@functools.cache
def _insert_sql(table: Table, skip_conflicts: bool, first: int = 1) -> str:
    names = [c.name for c in table.columns]
    marks = ", ".join(f"${n}" for n in range(first, first + len(names)))
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})"  # noqa: S608
    return sql + " ON CONFLICT DO NOTHING" if skip_conflicts else sql


def _value(column: Column[Any], instance: Any) -> Any:
    value = getattr(instance, column.key, None)
    if value is None and column.default is not None:
        # What a flush would have filled in (ids, timestamps, counters), set on the instance
        # too, so the caller's response shows it.
        default = column.default
        value = default.arg(None) if default.is_callable else default.arg  # type: ignore[attr-defined]
        setattr(instance, column.key, value)
    if value is not None and isinstance(column.type, JSON):
        return as_json(value)
    return value


async def insert(
    connection: asyncpg.Connection,
    instance: Any,
    *,
    skip_conflicts: bool = False,
    along: tuple[str, Sequence[Any]] | None = None,
) -> bool:
    """INSERT a new (transient) mapped instance as one row, its Python-side column defaults
    applied as a flush would; with `skip_conflicts`, False when a unique key already held it
    (ON CONFLICT DO NOTHING: no error, no savepoint needed).

    `along`: a data-modifying statement (an UPDATE; parameters `$1`..`$k`) run as a CTE of
    the same statement: both or neither, in one round trip, inside a transaction or not. It
    runs even when the row is skipped as a conflict."""
    table = instance.__table__
    values = [_value(column, instance) for column in table.columns]
    if along is None:
        status = await connection.execute(_insert_sql(table, skip_conflicts), *values)
    else:
        sql, args = along
        insert_sql = _insert_sql(table, skip_conflicts, len(args) + 1)
        status = await connection.execute(f"WITH along AS ({sql}) {insert_sql}", *args, *values)
    return status.endswith(" 1")


_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def positional(sql: str) -> tuple[str, list[str]]:
    """A statement written with `:name` parameters (for SQLAlchemy's `text()`) as the driver
    takes it: `$n` in order of first use, and the names in that order. `::type` casts stay."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _NAMED.sub(number, sql), names


def columns(model: Any) -> str:
    """The select list of a mapped class, for rows `load` turns back into instances."""
    return ", ".join(c.name for c in model.__table__.columns)


def load(model: type[_M], row: asyncpg.Record | None) -> _M | None:
    """A row of `columns(model)` as a detached instance, changed by explicit statements."""
    return None if row is None else model(**dict(row.items()))
