from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from billing_service.promos.models import Promo, PromoRedemption, RedemptionStatus
from webrana_common.pagination import paginate_newest_first


async def get(session: AsyncSession, promo_id: uuid.UUID) -> Promo | None:
    return await session.get(Promo, promo_id)


async def lock(session: AsyncSession, promo_id: uuid.UUID) -> Promo | None:
    return await session.get(Promo, promo_id, with_for_update=True, populate_existing=True)


async def lock_by_code(session: AsyncSession, code: str) -> Promo | None:
    """Redemptions of one code queue on this lock, so counts they check cannot go stale."""
    stmt = (
        select(Promo)
        .where(Promo.code == code.strip().upper())
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one_or_none()


async def by_code(session: AsyncSession, code: str) -> Promo | None:
    stmt = select(Promo).where(Promo.code == code.strip().upper())
    return (await session.scalars(stmt)).one_or_none()


async def active_redemptions(
    session: AsyncSession,
    *,
    order_id: uuid.UUID | None = None,
    invoice_id: uuid.UUID | None = None,
    lock: bool = False,
) -> Sequence[PromoRedemption]:
    stmt = select(PromoRedemption).where(PromoRedemption.status == RedemptionStatus.ACTIVE)
    if order_id is not None:
        stmt = stmt.where(PromoRedemption.order_id == order_id)
    if invoice_id is not None:
        stmt = stmt.where(PromoRedemption.invoice_id == invoice_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return (await session.scalars(stmt)).all()


async def user_uses(session: AsyncSession, promo_id: uuid.UUID, user_id: uuid.UUID) -> int:
    stmt = select(func.count()).where(
        PromoRedemption.promo_id == promo_id,
        PromoRedemption.user_id == user_id,
        PromoRedemption.status == RedemptionStatus.ACTIVE,
    )
    return int(await session.scalar(stmt) or 0)


async def search(
    session: AsyncSession,
    *,
    active: bool | None,
    code: str | None,
    cursor: str | None,
    limit: int,
) -> Sequence[Promo]:
    stmt = select(Promo)
    if active is not None:
        stmt = stmt.where(Promo.active.is_(active))
    if code:
        stmt = stmt.where(Promo.code.contains(code.strip().upper(), autoescape=True))
    stmt = paginate_newest_first(stmt, Promo.created_at, Promo.id, cursor, limit)
    return (await session.scalars(stmt)).all()


async def usage(
    session: AsyncSession, promo_ids: list[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Any]]:
    """Per promo: redemptions active and released, distinct users, rupiah given (active)."""
    active = PromoRedemption.status == RedemptionStatus.ACTIVE
    stmt = (
        select(
            PromoRedemption.promo_id,
            func.count().filter(active),
            func.count().filter(~active),
            func.count(func.distinct(case((active, PromoRedemption.user_id)))),
            func.coalesce(func.sum(case((active, PromoRedemption.discount), else_=0)), 0),
        )
        .where(PromoRedemption.promo_id.in_(promo_ids))
        .group_by(PromoRedemption.promo_id)
    )
    figures: dict[uuid.UUID, dict[str, Any]] = {
        pid: {"active": 0, "released": 0, "users": 0, "discount_total": 0} for pid in promo_ids
    }
    for promo_id, n_active, n_released, users, total in (await session.execute(stmt)).all():
        figures[promo_id] = {
            "active": int(n_active),
            "released": int(n_released),
            "users": int(users),
            "discount_total": int(total),
        }
    return figures
