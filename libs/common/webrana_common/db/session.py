"""Async engine and one session per request (or per job) that commits on success."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from starlette.requests import HTTPConnection

log = logging.getLogger("webrana.db")

AfterCommit = Callable[[], Awaitable[None]]


def to_async_url(url: str) -> str:
    """Accept plain `postgresql://` URLs (pgserver, operators) and use the asyncpg driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


def after_commit(session: AsyncSession, callback: AfterCommit) -> None:
    """Run `callback` once the session's transaction has committed (never on rollback)."""
    session.info.setdefault("after_commit", []).append(callback)


async def _run_after_commit(session: AsyncSession) -> None:
    callbacks: list[AfterCommit] = session.info.pop("after_commit", [])
    for callback in callbacks:
        # Fire and forget: the caller's response must not wait for e.g. an outbox delivery.
        task = asyncio.create_task(callback())
        _background.add(task)
        task.add_done_callback(_background.discard)


_background: set[asyncio.Task[None]] = set()


class Database:
    def __init__(self, url: str, *, pool_size: int = 10, echo: bool = False) -> None:
        self.engine: AsyncEngine = create_async_engine(
            to_async_url(url),
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            echo=echo,
        )
        self.sessionmaker = async_sessionmaker(
            self.engine, expire_on_commit=False, info={"database": self}
        )
        # Set by services that use the outbox, so `outbox.add` can deliver right after commit.
        self.outbox_relay: Any = None

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
        await _run_after_commit(session)

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


async def get_session(conn: HTTPConnection) -> AsyncIterator[AsyncSession]:
    """FastAPI dependency: the request's session, committed when the endpoint returns."""
    db: Database = conn.app.state.db
    async with db.session() as session:
        yield session


# Commits before the response is sent ("function" scope), so a client never sees a success whose
# transaction later failed to commit.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
