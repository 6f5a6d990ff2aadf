from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from catalog_service.images.models import Image


def _with_codes() -> Select[tuple[Image]]:
    return select(Image).options(selectinload(Image.codes))


async def search(
    session: AsyncSession, *, active: bool | None, after_slug: str | None, limit: int
) -> Sequence[Image]:
    stmt = _with_codes()
    if active is not None:
        stmt = stmt.where(Image.active == active)
    if after_slug is not None:
        stmt = stmt.where(Image.slug > after_slug)
    return (await session.scalars(stmt.order_by(Image.slug).limit(limit + 1))).all()


async def by_slug(session: AsyncSession, slug: str) -> Image | None:
    return await session.scalar(_with_codes().where(Image.slug == slug))
