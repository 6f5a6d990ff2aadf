"""Wallet rows and ledger entries: the only SQL that moves money in a wallet. Callers lock the
wallet (`lock`) before reading its balance to decide, then `append`; the database trigger moves
the balance and refuses anything below zero regardless."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from billing_service.wallet.models import LedgerEntry, LedgerKind, Wallet
from webrana_common.db.base import utcnow
from webrana_common.pagination import paginate_newest_first


async def lock(session: AsyncSession, user_id: uuid.UUID) -> Wallet:
    """The user's wallet (created at 0 on first use), locked until the transaction ends."""
    await session.execute(
        insert(Wallet)
        .values(user_id=user_id, balance=0)
        .on_conflict_do_nothing(index_elements=["user_id"])
    )
    wallet = await session.get(Wallet, user_id, with_for_update=True, populate_existing=True)
    assert wallet is not None
    return wallet


async def get(session: AsyncSession, user_id: uuid.UUID) -> Wallet | None:
    return await session.get(Wallet, user_id, populate_existing=True)


async def by_key(session: AsyncSession, key: str) -> LedgerEntry | None:
    stmt = select(LedgerEntry).where(LedgerEntry.idempotency_key == key)
    return (await session.scalars(stmt)).one_or_none()


async def append(
    session: AsyncSession,
    wallet: Wallet,
    kind: LedgerKind,
    amount: int,
    *,
    key: str,
    description: str,
    actor: str,
    invoice_id: uuid.UUID | None = None,
    order_id: uuid.UUID | None = None,
    reason: str | None = None,
) -> LedgerEntry:
    """One entry; the trigger sets `balance_after` and moves `wallet.balance` with it."""
    entry_id = uuid.uuid4()
    stmt = (
        insert(LedgerEntry)
        .values(
            id=entry_id,
            user_id=wallet.user_id,
            kind=str(kind),
            amount=amount,
            balance_after=0,  # replaced by the trigger
            invoice_id=invoice_id,
            order_id=order_id,
            idempotency_key=key,
            description=description[:300],
            actor=actor,
            reason=reason,
            created_at=utcnow(),
        )
        .returning(LedgerEntry)
    )
    entry = (await session.scalars(stmt, execution_options={"populate_existing": True})).one()
    # What the trigger wrote, without marking the wallet dirty (nothing to write back).
    set_committed_value(wallet, "balance", entry.balance_after)
    return entry


async def entries(
    session: AsyncSession, user_id: uuid.UUID, *, kind: str | None, cursor: str | None, limit: int
) -> Sequence[LedgerEntry]:
    stmt = select(LedgerEntry).where(LedgerEntry.user_id == user_id)
    if kind:
        stmt = stmt.where(LedgerEntry.kind == kind)
    stmt = paginate_newest_first(stmt, LedgerEntry.created_at, LedgerEntry.id, cursor, limit)
    return (await session.scalars(stmt)).all()


async def order_totals(session: AsyncSession, order_id: uuid.UUID) -> dict[str, int]:
    stmt = (
        select(LedgerEntry.kind, func.coalesce(func.sum(LedgerEntry.amount), 0))
        .where(LedgerEntry.order_id == order_id)
        .group_by(LedgerEntry.kind)
    )
    return {kind: int(total) for kind, total in (await session.execute(stmt)).all()}


async def mismatches(session: AsyncSession) -> list[tuple[uuid.UUID, int, int]]:
    """(user_id, balance, ledger sum) of every wallet whose balance is not its ledger's sum."""
    sums = (
        select(LedgerEntry.user_id, func.sum(LedgerEntry.amount).label("total"))
        .group_by(LedgerEntry.user_id)
        .subquery()
    )
    total = func.coalesce(sums.c.total, 0)
    stmt = (
        select(Wallet.user_id, Wallet.balance, total)
        .outerjoin(sums, sums.c.user_id == Wallet.user_id)
        .where(Wallet.balance != total)
    )
    return [(u, int(b), int(t)) for u, b, t in (await session.execute(stmt)).all()]


async def count_wallets(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Wallet)) or 0)
