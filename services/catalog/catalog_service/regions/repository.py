from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from catalog_service.plans.models import Plan, PlanRegion
from catalog_service.regions.models import Region


def _with_codes() -> Select[tuple[Region]]:
    return select(Region).options(selectinload(Region.codes))


async def search(
    session: AsyncSession, *, active: bool | None, after_slug: str | None, limit: int
) -> Sequence[Region]:
    stmt = _with_codes()
    if active is not None:
        stmt = stmt.where(Region.active == active)
    if after_slug is not None:
        stmt = stmt.where(Region.slug > after_slug)
    return (await session.scalars(stmt.order_by(Region.slug).limit(limit + 1))).all()


async def by_slug(session: AsyncSession, slug: str) -> Region | None:
    return await session.scalar(_with_codes().where(Region.slug == slug))


async def by_slugs(session: AsyncSession, slugs: Iterable[str]) -> dict[str, Region]:
    wanted = set(slugs)
    if not wanted:
        return {}
    rows = await session.scalars(_with_codes().where(Region.slug.in_(wanted)))
    return {r.slug: r for r in rows}


async def plan_slugs_offered_in(
    session: AsyncSession, region_id: uuid.UUID, provider_ids: Iterable[uuid.UUID] | None = None
) -> list[str]:
    stmt = (
        select(Plan.slug)
        .join(PlanRegion, PlanRegion.plan_id == Plan.id)
        .where(PlanRegion.region_id == region_id)
        .order_by(Plan.slug)
    )
    if provider_ids is not None:
        stmt = stmt.where(Plan.provider_id.in_(list(provider_ids)))
    return list((await session.scalars(stmt)).all())
