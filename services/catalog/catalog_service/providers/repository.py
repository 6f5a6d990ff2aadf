from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog_service.plans.models import Plan
from catalog_service.providers.models import Provider


async def all_ordered(session: AsyncSession) -> Sequence[Provider]:
    return (
        await session.scalars(select(Provider).order_by(Provider.sort_order, Provider.slug))
    ).all()


async def by_slug(session: AsyncSession, slug: str) -> Provider | None:
    return await session.scalar(select(Provider).where(Provider.slug == slug))


async def by_slugs(session: AsyncSession, slugs: Iterable[str]) -> dict[str, Provider]:
    wanted = set(slugs)
    if not wanted:
        return {}
    rows = await session.scalars(select(Provider).where(Provider.slug.in_(wanted)))
    return {p.slug: p for p in rows}


async def slugs_by_id(session: AsyncSession) -> dict[uuid.UUID, str]:
    return {row.id: row.slug for row in await session.execute(select(Provider.id, Provider.slug))}


async def has_plans(session: AsyncSession, provider_id: uuid.UUID) -> bool:
    return bool(await session.scalar(select(exists().where(Plan.provider_id == provider_id))))
