"""A transaction on the driver's own connection (asyncpg), for the few hot paths where
SQLAlchemy's cost per statement was most of a service's CPU: measured on this fleet's
machine, a SELECT and an UPDATE in a transaction cost 1.1-1.6 ms of CPU through the ORM,
1.0-1.2 ms through Core and 0.35-0.45 ms on the driver (a pooled connection of the same
engine, so no second pool and no more PostgreSQL connections).

Parameters are positional (`$1`); a JSONB parameter goes as JSON text (the dialect's codec
on every pooled connection encodes text and decodes to Python values)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg

AfterCommit = Callable[[], Awaitable[Any]]


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
