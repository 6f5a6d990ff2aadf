"""The body of every service's alembic `env.py`: async engine, own version table."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence

from alembic import context
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from webrana_common.db.session import to_async_url


def _url() -> str:
    config = context.config
    url = config.attributes.get("database_url") or os.environ.get("DATABASE_URL")
    if not url:
        raise RuntimeError("set DATABASE_URL to migrate")
    return to_async_url(url)


def run_alembic(metadata: Sequence[MetaData]) -> None:
    config = context.config
    version_table = config.get_main_option("version_table") or "alembic_version"
    options = {
        "target_metadata": list(metadata),
        "version_table": version_table,
        "compare_type": True,
    }
    if context.is_offline_mode():
        context.configure(url=_url(), literal_binds=True, **options)
        with context.begin_transaction():
            context.run_migrations()
        return

    def run(connection: Connection) -> None:
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()

    async def main() -> None:
        engine = create_async_engine(_url(), poolclass=pool.NullPool)
        async with engine.connect() as connection:
            await connection.run_sync(run)
        await engine.dispose()

    asyncio.run(main())
