"""The unit of work: commit on success, roll back on error, after-commit work only after a commit,
and a request's transaction committed before its response leaves."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import String, event, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from webrana_common.db.base import make_base
from webrana_common.db.session import Database, SessionDep, after_commit
from webrana_common.errors import Conflict
from webrana_common.service import create_service_app
from webrana_common.settings import ServiceSettings
from webrana_common.testing.client import running_app

Base = make_base()


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    text: Mapped[str] = mapped_column(String(100))


@pytest.fixture
async def database_url(empty_database_url: str) -> str:
    db = Database(empty_database_url)
    async with db.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    await db.dispose()
    return empty_database_url


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


async def settle(db: Database) -> None:
    """Wait for the work started after commits (the post-commit delivery), within reason."""
    async with asyncio.timeout(10):
        await db.wait_for_background()


async def stored_notes(database_url: str) -> list[str]:
    """What another connection sees: only committed rows."""
    conn = await asyncpg.connect(database_url)
    try:
        return [r["text"] for r in await conn.fetch("SELECT text FROM notes ORDER BY text")]
    finally:
        await conn.close()


async def test_session_commits_when_the_block_succeeds(db: Database, database_url: str) -> None:
    async with db.session() as session:
        session.add(Note(text="kept"))

    assert await stored_notes(database_url) == ["kept"]


async def test_session_rolls_back_when_the_block_raises(db: Database, database_url: str) -> None:
    with pytest.raises(RuntimeError):
        async with db.session() as session:
            session.add(Note(text="lost"))
            await session.flush()
            raise RuntimeError("bug")

    assert await stored_notes(database_url) == []


async def test_after_commit_runs_once_the_rows_are_visible(db: Database, database_url: str) -> None:
    seen: list[list[str]] = []

    async def check() -> None:
        seen.append(await stored_notes(database_url))

    async with db.session() as session:
        session.add(Note(text="a"))
        after_commit(session, check)
        await session.flush()
    await settle(db)

    assert seen == [["a"]]


async def test_after_commit_never_runs_after_a_rollback(db: Database) -> None:
    calls: list[str] = []

    async def record(name: str) -> None:
        calls.append(name)

    with pytest.raises(Conflict):
        async with db.session() as session:
            after_commit(session, lambda: record("failed unit of work"))
            raise Conflict("already paid")
    async with db.session() as session:
        after_commit(session, lambda: record("explicit rollback"))
        await session.rollback()
        after_commit(session, lambda: record("after the rollback"))
    await settle(db)

    assert calls == ["after the rollback"]


async def test_after_commit_follows_savepoints(db: Database) -> None:
    calls: list[str] = []

    async def record(name: str) -> None:
        calls.append(name)

    async with db.session() as session:
        async with session.begin_nested():
            after_commit(session, lambda: record("released savepoint"))
        with pytest.raises(Conflict):
            async with session.begin_nested():
                after_commit(session, lambda: record("rolled back savepoint"))
                raise Conflict("duplicate")
        assert calls == []  # nothing before the real commit
    await settle(db)

    assert calls == ["released savepoint"]


async def test_dispose_waits_for_after_commit_work(db: Database) -> None:
    finished: list[bool] = []

    async def slow() -> None:
        async with db.session() as session:
            await session.execute(insert(Note).values(text="late"))
        finished.append(True)

    async with db.session() as session:
        after_commit(session, slow)
    await db.dispose()

    assert finished == [True]


class ResponseStartRecorder:
    def __init__(self, app: ASGIApp, order: list[str]) -> None:
        self.app = app
        self.order = order

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def record(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.order.append("response")
            await send(message)

        await self.app(scope, receive, record)


@pytest.fixture
async def app_client(database_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, list[str]]]:
    order: list[str] = []
    app: FastAPI = create_service_app(
        ServiceSettings(environment="test", database_url=database_url),
        title="db test",
        description="unit of work",
    )
    app.add_middleware(ResponseStartRecorder, order=order)

    @app.post("/notes", status_code=201)
    async def create_note(body: dict[str, Any], session: SessionDep) -> dict[str, str]:
        event.listen(session.sync_session, "after_commit", lambda _: order.append("commit"))
        session.add(Note(text=body["text"]))
        if body.get("fail"):
            await session.flush()
            raise Conflict("note refused")
        return {"text": body["text"]}

    async with running_app(app) as client:
        yield client, order


async def test_request_session_commits_before_the_response_is_sent(
    app_client: tuple[httpx.AsyncClient, list[str]], database_url: str
) -> None:
    client, order = app_client

    response = await client.post("/notes", json={"text": "hello"})

    assert response.status_code == 201
    assert order == ["commit", "response"]
    assert await stored_notes(database_url) == ["hello"]


async def test_request_session_rolls_back_when_the_handler_raises(
    app_client: tuple[httpx.AsyncClient, list[str]], database_url: str
) -> None:
    client, order = app_client

    response = await client.post("/notes", json={"text": "refused", "fail": True})

    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert order == ["response"]
    assert await stored_notes(database_url) == []


async def test_after_commit_is_forgotten_when_the_session_closes_uncommitted(db: Database) -> None:
    calls: list[str] = []

    async def record() -> None:
        calls.append("called")

    session = db.sessionmaker()
    after_commit(session, record)
    await session.close()
    await session.commit()  # a reused session commits a new, empty transaction
    await settle(db)

    assert calls == []


async def test_pooled_connections_the_server_closed_are_replaced_at_checkout(
    db: Database, database_url: str
) -> None:
    """No ping per checkout: a database restart (here: every backend of the pool killed)
    costs the next requests nothing but fresh connections."""
    async with db.session() as session:
        session.add(Note(text="before"))
    admin = await asyncpg.connect(database_url)
    try:
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await admin.close()
    assert killed >= 1
    await asyncio.sleep(0.2)  # the closed sockets reach the pooled connections
    for text in ("after-1", "after-2"):
        async with db.session() as session:
            session.add(Note(text=text))
    assert sorted(await stored_notes(database_url)) == ["after-1", "after-2", "before"]


async def test_reader_sees_committed_rows_without_opening_a_transaction(
    db: Database, database_url: str
) -> None:
    async def in_transaction(session: AsyncSession) -> bool:
        raw = await (await session.connection()).get_raw_connection()
        return raw.driver_connection.is_in_transaction()

    async with db.session() as session:
        session.add(Note(text="visible"))
        await session.flush()
        assert await in_transaction(session)  # the writer's BEGIN ... COMMIT

    async with db.reader() as session:
        texts = list(await session.scalars(select(Note.text)))
        # No BEGIN was sent, so there is no COMMIT to send: two round trips saved.
        assert not await in_transaction(session)

    assert texts == ["visible"]


async def test_reader_refuses_writes(db: Database, database_url: str) -> None:
    with pytest.raises(RuntimeError, match="only reads"):
        async with db.reader() as session:
            session.add(Note(text="sneaked"))
            await session.flush()

    assert await stored_notes(database_url) == []


@pytest.mark.parametrize("borrower", ["reader", "autocommit"])
async def test_a_connection_back_from_autocommit_writes_in_a_transaction_again(
    database_url: str, borrower: str
) -> None:
    """The pool hands a reader's (or an autocommit block's) connection to the next writer: it
    must not stay in autocommit, or a unit of work would no longer be atomic."""
    db = Database(database_url, pool_size=1)
    try:
        if borrower == "reader":
            async with db.reader() as session:
                await session.scalars(select(Note.text))
        else:
            async with db.autocommit() as connection:
                await connection.execute(select(Note.text))
        with pytest.raises(Conflict):
            async with db.session() as session:
                session.add(Note(text="half"))
                await session.flush()
                raw = await (await session.connection()).get_raw_connection()
                assert raw.driver_connection.is_in_transaction()
                raise Conflict("changed my mind")
    finally:
        await db.dispose()

    assert await stored_notes(database_url) == []


async def test_autocommit_statement_is_visible_at_once_without_a_transaction(
    db: Database, database_url: str
) -> None:
    async with db.autocommit() as connection:
        await connection.execute(insert(Note).values(text="at once"))
        raw = await connection.get_raw_connection()
        # No BEGIN: the statement committed on its own, before the block ends.
        assert not raw.driver_connection.is_in_transaction()
        assert await stored_notes(database_url) == ["at once"]


async def test_a_driver_transaction_commits_together_then_runs_its_after_commit_work(
    db: Database, database_url: str
) -> None:
    seen: list[list[str]] = []

    async def check() -> None:
        seen.append(await stored_notes(database_url))

    async with db.transaction() as transaction:
        for text in ("first", "second"):
            await transaction.connection.execute(
                "INSERT INTO notes (id, text) VALUES ($1, $2)", uuid.uuid4(), text
            )
        transaction.after_commit(check)
        assert await stored_notes(database_url) == []  # not before the commit
    await db.wait_for_background()

    assert seen == [["first", "second"]]


async def test_a_driver_transaction_that_raises_keeps_nothing_and_runs_nothing(
    database_url: str,
) -> None:
    db = Database(database_url, pool_size=1)
    ran: list[str] = []

    async def record() -> None:
        ran.append("after commit")

    try:
        with pytest.raises(Conflict):
            async with db.transaction() as transaction:
                await transaction.connection.execute(
                    "INSERT INTO notes (id, text) VALUES ($1, 'half')", uuid.uuid4()
                )
                transaction.after_commit(record)
                raise Conflict("changed my mind")
        await db.wait_for_background()
        # The one pooled connection comes back outside any transaction, for the next writer.
        async with db.session() as session:
            session.add(Note(text="next"))
    finally:
        await db.dispose()

    assert ran == []
    assert await stored_notes(database_url) == ["next"]


async def test_a_driver_connection_left_inside_a_transaction_is_not_pooled_again(
    database_url: str,
) -> None:
    db = Database(database_url, pool_size=1)
    try:
        async with db.driver() as connection:
            first = connection
            await connection.execute("BEGIN")
            await connection.execute(
                "INSERT INTO notes (id, text) VALUES ($1, 'lost')", uuid.uuid4()
            )
        async with db.driver() as connection:
            assert connection is not first
            assert not connection.is_in_transaction()
    finally:
        await db.dispose()

    assert await stored_notes(database_url) == []
