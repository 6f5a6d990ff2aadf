"""Promo rules: what a code is worth for an amount, who may use it, and atomic redemption.

A redemption holds one use of the code from the moment it is made (the order is priced with
it) until it is released (the order or top-up is cancelled or expires). Redemptions of one
code queue on the promo's row lock, and `CHECK (uses_count <= max_uses)` backs the count."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from billing_service.audit import repository as audit
from billing_service.errors import PromoCodeTaken, PromoNotFound, PromoRejected
from billing_service.invoices import repository as invoices
from billing_service.promos import repository
from billing_service.promos.models import (
    DiscountType,
    Promo,
    PromoRedemption,
    RedemptionStatus,
)
from billing_service.promos.schemas import CreatePromo, UpdatePromo
from webrana_common.db.base import utcnow
from webrana_common.errors import Conflict, ValidationFailed


class PromoAlreadyApplied(Conflict):
    code = "promo_already_applied"
    title = "Another promo is already applied to this order"


@dataclass(frozen=True)
class Evaluation:
    promo: Promo
    kind: str  # order | deposit
    amount: int
    discount: int  # an order's discount, or a deposit's bonus

    @property
    def final_amount(self) -> int:
        """What an order then costs (a deposit's amount does not change)."""
        return self.amount - self.discount if self.kind == "order" else self.amount


def worth(promo: Promo, amount: int) -> int:
    if promo.discount_type == DiscountType.PERCENT:
        value = amount * promo.value // 100  # rounded down: never more than promised
        if promo.max_discount is not None:
            value = min(value, promo.max_discount)
    else:
        value = promo.value
    return max(0, value)


async def evaluate(
    session: AsyncSession,
    promo: Promo | None,
    *,
    user_id: uuid.UUID,
    kind: str,
    amount: int,
    now: datetime | None = None,
) -> Evaluation:
    """The promo's worth for this user and amount, or PromoRejected with the precise reason."""
    now = now or utcnow()
    if promo is None:
        raise PromoRejected("No such promo code", code="promo_unknown")
    if not promo.active:
        raise PromoRejected("This promo code is no longer active", code="promo_inactive")
    if promo.starts_at is not None and now < promo.starts_at:
        raise PromoRejected("This promo code is not valid yet", code="promo_not_started")
    if promo.ends_at is not None and now >= promo.ends_at:
        raise PromoRejected("This promo code has expired", code="promo_expired")
    applies = promo.applies_to_orders if kind == "order" else promo.applies_to_deposits
    if not applies:
        raise PromoRejected(f"This promo code is not for {kind}s", code="promo_not_applicable")
    if amount < promo.min_amount:
        raise PromoRejected(
            f"This promo code needs at least Rp {promo.min_amount}",
            code="promo_min_amount",
            min_amount=promo.min_amount,
        )
    if promo.max_uses is not None and promo.uses_count >= promo.max_uses:
        raise PromoRejected("This promo code has been used up", code="promo_exhausted")
    if promo.max_uses_per_user is not None and (
        await repository.user_uses(session, promo.id, user_id) >= promo.max_uses_per_user
    ):
        raise PromoRejected("You have already used this promo code", code="promo_user_limit")
    if promo.first_order_only and (
        kind != "order" or await invoices.has_paid_order(session, user_id)
    ):
        raise PromoRejected("This promo code is for a first order", code="promo_first_order_only")
    discount = worth(promo, amount)
    if kind == "order":
        discount = min(discount, amount)
    return Evaluation(promo=promo, kind=kind, amount=amount, discount=discount)


async def validate(
    session: AsyncSession, code: str, *, user_id: uuid.UUID, kind: str, amount: int
) -> Evaluation:
    promo = await repository.by_code(session, code)
    return await evaluate(session, promo, user_id=user_id, kind=kind, amount=amount)


async def redeem(
    session: AsyncSession,
    code: str,
    *,
    user_id: uuid.UUID,
    kind: str,
    amount: int,
    order_id: uuid.UUID | None = None,
    invoice_id: uuid.UUID | None = None,
) -> tuple[PromoRedemption, bool]:
    """(redemption, created). Idempotent per order (or top-up invoice): redeeming the same
    code for it again returns the live redemption."""
    promo = await repository.lock_by_code(session, code)
    existing: list[PromoRedemption] = []
    if order_id is not None or invoice_id is not None:
        existing = list(
            await repository.active_redemptions(
                session, order_id=order_id, invoice_id=invoice_id, lock=True
            )
        )
    if existing:
        redemption = existing[0]
        if promo is None or redemption.promo_id != promo.id or redemption.user_id != user_id:
            raise PromoAlreadyApplied("Release the current promo of this order first")
        return redemption, False
    evaluation = await evaluate(session, promo, user_id=user_id, kind=kind, amount=amount)
    redemption = PromoRedemption(
        id=uuid.uuid4(),
        promo_id=evaluation.promo.id,
        user_id=user_id,
        kind=kind,
        order_id=order_id,
        invoice_id=invoice_id,
        amount=amount,
        discount=evaluation.discount,
        status=RedemptionStatus.ACTIVE,
        created_at=utcnow(),
    )
    session.add(redemption)
    evaluation.promo.uses_count += 1
    await session.flush()
    return redemption, True


async def release(
    session: AsyncSession,
    *,
    order_id: uuid.UUID | None = None,
    invoice_id: uuid.UUID | None = None,
    reason: str,
) -> list[PromoRedemption]:
    """Give back the uses held for an order or top-up invoice; nothing to release is fine."""
    if order_id is None and invoice_id is None:
        return []
    # The promo's lock before the redemption's, in the order `redeem` takes them: the other
    # way round, a release and a repeated redemption of one order deadlocked.
    held = await repository.active_redemptions(session, order_id=order_id, invoice_id=invoice_id)
    for promo_id in sorted({r.promo_id for r in held}):
        await repository.lock(session, promo_id)
    redemptions = list(
        await repository.active_redemptions(
            session, order_id=order_id, invoice_id=invoice_id, lock=True
        )
    )
    for redemption in redemptions:
        promo = await repository.lock(session, redemption.promo_id)  # held by now
        assert promo is not None
        redemption.status = RedemptionStatus.RELEASED
        redemption.released_at = utcnow()
        redemption.release_reason = reason[:200]
        promo.uses_count -= 1
    return redemptions


async def deposit_bonus(session: AsyncSession, invoice_id: uuid.UUID) -> PromoRedemption | None:
    found = await repository.active_redemptions(session, invoice_id=invoice_id)
    return found[0] if found else None


async def create_promo(session: AsyncSession, admin_id: uuid.UUID, body: CreatePromo) -> Promo:
    code = body.code.strip().upper()
    if await repository.by_code(session, code) is not None:
        raise PromoCodeTaken(f"Promo {code} exists")
    promo = Promo(
        id=uuid.uuid4(),
        code=code,
        created_by=admin_id,
        uses_count=0,
        **body.model_dump(exclude={"code"}),
    )
    try:
        async with session.begin_nested():
            session.add(promo)
            await session.flush()
    except IntegrityError as exc:
        raise PromoCodeTaken(f"Promo {code} exists") from exc
    await audit.record(
        session,
        actor_id=admin_id,
        action="promo.created",
        subject_type="promo",
        subject_id=promo.id,
        details=body.model_dump(mode="json"),
    )
    return promo


async def update_promo(
    session: AsyncSession, admin_id: uuid.UUID, promo_id: uuid.UUID, body: UpdatePromo
) -> Promo:
    promo = await repository.lock(session, promo_id)
    if promo is None:
        raise PromoNotFound(f"No promo {promo_id}")
    changes = body.model_dump(exclude_unset=True)
    for name, value in changes.items():
        setattr(promo, name, value)
    problem = _inconsistency(promo)
    if problem:
        raise ValidationFailed(problem, code="promo_invalid")
    await audit.record(
        session,
        actor_id=admin_id,
        action="promo.updated",
        subject_type="promo",
        subject_id=promo.id,
        details=UpdatePromo(**changes).model_dump(mode="json", exclude_unset=True),
    )
    return promo


def _inconsistency(promo: Promo) -> str | None:
    if promo.discount_type == DiscountType.PERCENT and promo.value > 100:
        return "a percent promo's value is 1-100"
    if not (promo.applies_to_orders or promo.applies_to_deposits):
        return "a promo applies to orders, deposits or both"
    if promo.starts_at and promo.ends_at and promo.ends_at <= promo.starts_at:
        return "ends_at must be after starts_at"
    if promo.max_uses is not None and promo.max_uses < promo.uses_count:
        return f"{promo.uses_count} uses are held already; max_uses cannot be lower"
    return None


async def delete_promo(session: AsyncSession, admin_id: uuid.UUID, promo_id: uuid.UUID) -> bool:
    """Deleted when never redeemed; otherwise deactivated (its history stays). True if deleted."""
    promo = await repository.lock(session, promo_id)
    if promo is None:
        raise PromoNotFound(f"No promo {promo_id}")
    figures = (await repository.usage(session, [promo.id]))[promo.id]
    deleted = figures["active"] + figures["released"] == 0
    if deleted:
        await session.delete(promo)
    else:
        promo.active = False
    await audit.record(
        session,
        actor_id=admin_id,
        action="promo.deleted" if deleted else "promo.deactivated",
        subject_type="promo",
        subject_id=promo_id,
        details={"code": promo.code},
    )
    return deleted
