from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from catalog_service.versioning.models import CatalogState
from webrana_common.db.base import utcnow


async def bump(session: AsyncSession) -> int:
    """+1, inside the caller's transaction. The row lock this takes also serialises concurrent
    admin changes, so versions are handed out in commit order."""
    return int(
        (
            await session.execute(
                update(CatalogState)
                .where(CatalogState.id == 1)
                .values(version=CatalogState.version + 1, changed_at=utcnow())
                .returning(CatalogState.version)
            )
        ).scalar_one()
    )


async def current(session: AsyncSession) -> int:
    return int((await session.execute(select(CatalogState.version))).scalar_one())
