"""`webrana_common.db.raw`: a mapped instance inserted and read back on the driver's
connection gets what a flush would have given it (defaults, JSON), and a unique key already
held is reported, not raised."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import asyncpg
import pytest
from sqlalchemy import Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from webrana_common.db import raw
from webrana_common.db.base import TimestampMixin, UUIDPrimaryKey, make_base
from webrana_common.db.session import Database

Base = make_base()


class Ticket(UUIDPrimaryKey, TimestampMixin, Base):
    __tablename__ = "tickets"

    key: Mapped[str] = mapped_column(String(40), unique=True)
    tags: Mapped[list[str]] = mapped_column(JSONB, default=list)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB)
    tries: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str | None] = mapped_column(String(100))


@pytest.fixture
async def db(empty_database_url: str) -> AsyncIterator[Database]:
    database = Database(empty_database_url)
    async with database.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield database
    await database.dispose()


async def test_an_insert_gets_the_defaults_a_flush_would_and_reads_back_alike(
    db: Database,
) -> None:
    ticket = Ticket(key="INV-1", details={"amount": 150_000, "items": [{"sku": "s-1"}]})

    async with db.transaction() as transaction:
        assert await raw.insert(transaction.connection, ticket)

    # Filled in on the instance too, as the caller's response reads it.
    assert isinstance(ticket.id, uuid.UUID) and ticket.tags == [] and ticket.tries == 0
    assert isinstance(ticket.created_at, datetime) and ticket.created_at.tzinfo is not None
    async with db.driver() as connection:
        row = await connection.fetchrow(
            f"SELECT {raw.columns(Ticket)} FROM tickets WHERE id = $1",
            ticket.id,
        )
    loaded = raw.load(Ticket, row)
    assert loaded is not None
    assert (loaded.key, loaded.tags, loaded.details, loaded.tries, loaded.note) == (
        "INV-1",
        [],
        {"amount": 150_000, "items": [{"sku": "s-1"}]},
        0,
        None,
    )
    # And the ORM reads the same row the same way.
    async with db.session() as session:
        stored = await session.get(Ticket, ticket.id)
        assert stored is not None and stored.details == loaded.details


async def test_a_key_already_held_is_reported_and_the_first_row_kept(db: Database) -> None:
    async with db.transaction() as transaction:
        first = await raw.insert(transaction.connection, Ticket(key="INV-2", details={"n": 1}))
        again = await raw.insert(
            transaction.connection, Ticket(key="INV-2", details={"n": 2}), skip_conflicts=True
        )

    assert (first, again) == (True, False)
    async with db.driver() as connection:
        assert await connection.fetchval("SELECT details FROM tickets WHERE key = 'INV-2'") == {
            "n": 1
        }
    assert raw.load(Ticket, None) is None


def test_named_parameters_become_positional_in_order_of_first_use() -> None:
    sql, names = raw.positional(
        "SELECT CAST(:ids AS uuid[]), :at, x::text, :at, 'a:b' WHERE y = :ids_2"
    )
    assert sql == "SELECT CAST($1 AS uuid[]), $2, x::text, $2, 'a:b' WHERE y = $3"
    assert names == ["ids", "at", "ids_2"]


async def test_an_insert_along_an_update_happens_with_it_or_not_at_all(db: Database) -> None:
    first = Ticket(key="INV-10", details={"n": 1})
    async with db.driver() as connection:
        assert await raw.insert(connection, first)
        # The update and the insert in one statement, outside any transaction.
        assert await raw.insert(
            connection,
            Ticket(key="INV-11", details={"n": 2}),
            along=("UPDATE tickets SET tries = tries + $2 WHERE id = $1", [first.id, 5]),
        )
        # A held key without skip_conflicts: the statement fails, the update with it.
        with pytest.raises(asyncpg.UniqueViolationError):
            await raw.insert(
                connection,
                Ticket(key="INV-11", details={"n": 3}),
                along=("UPDATE tickets SET note = $2 WHERE id = $1", [first.id, "lost"]),
            )
        # With skip_conflicts the row is left out, and the update still runs.
        skipped = await raw.insert(
            connection,
            Ticket(key="INV-11", details={"n": 4}),
            skip_conflicts=True,
            along=("UPDATE tickets SET note = $2 WHERE id = $1", [first.id, "kept"]),
        )
        rows = await connection.fetch("SELECT key, tries, note, details FROM tickets ORDER BY key")

    assert skipped is False
    assert [(r["key"], r["tries"], r["note"]) for r in rows] == [
        ("INV-10", 5, "kept"),
        ("INV-11", 0, None),
    ]
