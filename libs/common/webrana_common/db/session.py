"""Async engine and one session per request (or per job) that commits on success."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import asyncpg
from fastapi import Depends
from sqlalchemy import event, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, SessionTransaction
from starlette.requests import HTTPConnection

from webrana_common.db.raw import AfterCommit, RawTransaction

log = logging.getLogger("webrana.db")

# One list of callbacks per open transaction level: the root, then one per savepoint.
_PENDING = "webrana_after_commit"
SHUTDOWN_WAIT_SECONDS = 5.0


def to_async_url(url: str) -> str:
    """Accept plain `postgresql://` URLs (pgserver, operators) and use the asyncpg driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


def after_commit(session: AsyncSession | RawTransaction, callback: AfterCommit) -> None:
    """Run `callback` in the background once the transaction has committed; never if it (or the
    savepoint it was registered in) rolls back. The caller does not wait for it."""
    if isinstance(session, RawTransaction):
        session.after_commit(callback)
        return
    sync = session.sync_session
    if not sync.in_transaction():
        sync.begin()  # so that a rollback before any SQL still discards the callback
    _levels(sync)[-1].append(callback)


def _levels(session: Session) -> list[list[AfterCommit]]:
    return session.info.setdefault(_PENDING, [[]])


class UnitOfWorkSession(Session):
    """Follows commits, rollbacks and savepoints for `after_commit`."""


@event.listens_for(UnitOfWorkSession, "after_transaction_create")
def _savepoint_started(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        _levels(session).append([])


@event.listens_for(UnitOfWorkSession, "after_commit")
def _committed(session: Session) -> None:
    levels = _levels(session)
    if session.in_nested_transaction():
        # A released savepoint: its callbacks now depend on the enclosing transaction.
        if len(levels) > 1:
            levels[-2].extend(levels.pop())
        return
    callbacks = [callback for level in levels for callback in level]
    session.info[_PENDING] = [[]]
    database: Database | None = session.info.get("database")
    for callback in callbacks:
        if database is not None:
            database.run_in_background(callback)
        else:
            _spawn(callback, _orphans)


@event.listens_for(UnitOfWorkSession, "after_rollback")
def _rolled_back(session: Session) -> None:
    levels = _levels(session)
    if session.in_nested_transaction() and len(levels) > 1:
        levels.pop()
    else:
        session.info[_PENDING] = [[]]


@event.listens_for(UnitOfWorkSession, "after_transaction_end")
def _transaction_ended(session: Session, transaction: SessionTransaction) -> None:
    # A transaction closed without commit or rollback (`session.close()`) commits nothing.
    if transaction.parent is None:
        session.info[_PENDING] = [[]]


class ReadOnlySession(Session):
    """`Database.reader`'s sessions: in autocommit, a flush would not be atomic."""


@event.listens_for(ReadOnlySession, "before_flush")
def _refuse_writes(session: Session, _context: Any, _instances: Any) -> None:
    raise RuntimeError("this session only reads: write through Database.session()")


_orphans: set[asyncio.Task[Any]] = set()


def _spawn(callback: AfterCommit, tasks: set[asyncio.Task[Any]]) -> None:
    async def run() -> None:
        try:
            await callback()
        except Exception:
            log.exception("after-commit callback failed")

    task = asyncio.get_running_loop().create_task(run())
    tasks.add(task)
    task.add_done_callback(tasks.discard)


def _refuse_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Checkout hook: the pool retries with a fresh connection on DisconnectionError."""
    driver = getattr(dbapi_connection, "driver_connection", None)
    if driver is not None and driver.is_closed():
        raise DisconnectionError("the database closed this pooled connection")


class Database:
    def __init__(self, url: str, *, pool_size: int = 10, echo: bool = False) -> None:
        self.engine: AsyncEngine = create_async_engine(
            to_async_url(url),
            pool_size=pool_size,
            max_overflow=pool_size,
            # No pre-ping: its round trip on every checkout was a tenth of a service's CPU
            # under load. A connection whose server went away (a restart closes the socket)
            # is known to asyncpg as closed, and `_refuse_closed` swaps it at checkout.
            pool_pre_ping=False,
            echo=echo,
        )
        event.listen(self.engine.sync_engine, "checkout", _refuse_closed)
        self.sessionmaker = async_sessionmaker(
            self.engine,
            expire_on_commit=False,
            sync_session_class=UnitOfWorkSession,
            info={"database": self},
        )
        # Reads without BEGIN/COMMIT: two round trips fewer per request. Under READ COMMITTED
        # each statement of a transaction sees its own snapshot anyway, so a read gains nothing
        # from being wrapped in one.
        self.autocommit_engine = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self.read_sessionmaker = async_sessionmaker(
            self.autocommit_engine,
            expire_on_commit=False,
            sync_session_class=ReadOnlySession,
        )
        # Set by services that use the outbox, so `outbox.add` can deliver right after commit.
        self.outbox_relay: Any = None
        self._background: set[asyncio.Task[Any]] = set()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: commit on success, roll back on any error."""
        async with self.sessionmaker() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only: every statement runs on its own (autocommit), and nothing
        is flushed; a write through it is refused, as a bug."""
        async with self.read_sessionmaker() as session:
            yield session

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[AsyncConnection]:
        """A pooled connection whose every statement commits on its own: for one atomic
        statement (an UPDATE ... WHERE guarding its own condition), one round trip instead of
        BEGIN, the statement and COMMIT. Not for anything that must see or change two rows
        together."""
        async with self.autocommit_engine.connect() as connection:
            yield connection

    @asynccontextmanager
    async def driver(self) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection as the driver's own (asyncpg) object, outside any transaction:
        every statement commits on its own unless the caller opens one (see `transaction`)."""
        async with self.autocommit_engine.connect() as connection:
            pooled = await connection.get_raw_connection()
            driver: asyncpg.Connection = pooled.driver_connection
            try:
                yield driver
            finally:
                if not driver.is_closed() and driver.is_in_transaction():
                    # Left inside a transaction (a cancellation cut its rollback short): the
                    # pool must not hand it out again.
                    await connection.invalidate()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[RawTransaction]:
        """One transaction on the driver's connection (webrana_common.db.raw): committed when
        the block ends, rolled back if it raises; then its after-commit work starts in the
        background, as for a session."""
        async with self.driver() as driver:
            unit = RawTransaction(driver, self)
            async with driver.transaction():
                yield unit
        for callback in unit.callbacks:
            _spawn(callback, self._background)

    def run_in_background(self, callback: AfterCommit) -> None:
        _spawn(callback, self._background)

    async def wait_for_background(self) -> None:
        """Wait for the after-commit work started so far (tests, shutdown); cancelling the wait
        leaves that work running."""
        pending = set(self._background)
        if pending:
            await asyncio.wait(pending)

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        # Let after-commit deliveries finish rather than cut them off mid-send; whatever is
        # still running after that is left to the outbox relay's next round.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(SHUTDOWN_WAIT_SECONDS):
                await self.wait_for_background()
        await self.engine.dispose()


async def get_session(conn: HTTPConnection) -> AsyncIterator[AsyncSession]:
    """FastAPI dependency: the request's session, committed when the endpoint returns."""
    db: Database = conn.app.state.db
    async with db.session() as session:
        yield session


async def get_read_session(conn: HTTPConnection) -> AsyncIterator[AsyncSession]:
    """FastAPI dependency: a read-only session for GET endpoints (see `Database.reader`)."""
    db: Database = conn.app.state.db
    async with db.reader() as session:
        yield session


# Commits before the response is sent ("function" scope), so a client never sees a success whose
# transaction later failed to commit.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session, scope="function")]


async def get_database(conn: HTTPConnection) -> Database:
    """FastAPI dependency: the app's Database, for a route that opens its own transaction on
    the driver's connection (`Database.transaction`). Async although it awaits nothing: FastAPI
    runs a plain `def` dependency on a worker thread, a handoff that cost more than the query."""
    return conn.app.state.db


DatabaseDep = Annotated[Database, Depends(get_database)]
