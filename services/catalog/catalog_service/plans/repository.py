from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from catalog_service.plans.models import Plan
from catalog_service.regions.models import Region
from webrana_common.pagination import paginate_newest_first


def _full() -> Select[tuple[Plan]]:
    return select(Plan).options(selectinload(Plan.prices), selectinload(Plan.regions))


async def get(
    session: AsyncSession, plan_id: uuid.UUID, *, for_update: bool = False
) -> Plan | None:
    stmt = _full().where(Plan.id == plan_id)
    if for_update:
        stmt = stmt.with_for_update(of=Plan)
    return await session.scalar(stmt)


async def by_slug(session: AsyncSession, slug: str) -> Plan | None:
    return await session.scalar(select(Plan).where(Plan.slug == slug))


async def search(
    session: AsyncSession,
    *,
    provider_id: uuid.UUID | None,
    active: bool | None,
    referenced: bool | None,
    query: str | None,
    cursor: str | None,
    limit: int,
) -> Sequence[Plan]:
    stmt = _full()
    if provider_id is not None:
        stmt = stmt.where(Plan.provider_id == provider_id)
    if active is not None:
        stmt = stmt.where(Plan.active == active)
    if referenced is not None:
        stmt = stmt.where(
            Plan.referenced_at.is_not(None) if referenced else Plan.referenced_at.is_(None)
        )
    if query:
        pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(
                Plan.slug.ilike(pattern),
                Plan.name.ilike(pattern),
                Plan.provider_size_slug.ilike(pattern),
            )
        )
    stmt = paginate_newest_first(stmt, Plan.created_at, Plan.id, cursor, limit)
    return (await session.scalars(stmt)).all()


async def region_slugs(session: AsyncSession) -> dict[uuid.UUID, str]:
    return {row.id: row.slug for row in await session.execute(select(Region.id, Region.slug))}


async def sizes_planned(session: AsyncSession, provider_id: uuid.UUID) -> set[str]:
    rows = await session.scalars(
        select(Plan.provider_size_slug).where(Plan.provider_id == provider_id)
    )
    return set(rows)


async def slugs_starting_with(session: AsyncSession, prefix: str) -> set[str]:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return set(await session.scalars(select(Plan.slug).where(Plan.slug.like(escaped + "%"))))


async def max_sort_order(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.coalesce(func.max(Plan.sort_order), 0))) or 0)


async def exists_with_slug(session: AsyncSession, slug: str, *, other_than: uuid.UUID) -> bool:
    return bool(
        await session.scalar(select(exists().where(Plan.slug == slug, Plan.id != other_than)))
    )
