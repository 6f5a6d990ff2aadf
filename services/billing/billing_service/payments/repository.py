from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from billing_service.invoices.models import Invoice
from billing_service.payments.models import (
    OPEN_STATUSES,
    Payment,
    PaymentMethod,
    PaymentStatus,
    TripayCallback,
)
from webrana_common.db import raw
from webrana_common.pagination import paginate_newest_first

# Built once (see invoices/repository.py): read on every pay and callback.
_FOR_INVOICE = (
    select(Payment)
    .where(Payment.invoice_id == bindparam("invoice_id"))
    .order_by(Payment.created_at, Payment.id)
    .execution_options(populate_existing=True)
)
_BY_REFERENCE_LOCKED = (
    select(Payment)
    .where(Payment.reference == bindparam("reference"))
    .with_for_update()
    .execution_options(populate_existing=True)
)


# The pay request's statements, on the driver's connection (webrana_common.db.raw).
_CURRENT_ROW = (
    f"SELECT {raw.columns(Payment)} FROM payments"  # noqa: S608
    f" WHERE invoice_id = $1 AND status = '{PaymentStatus.UNPAID}'"
    " ORDER BY created_at DESC, id DESC LIMIT 1"
)
_ABANDON = (
    f"UPDATE payments SET status = '{PaymentStatus.ABANDONED}', updated_at = $2"  # noqa: S608
    " WHERE id = $1"
)


_LOCK_ROW_BY_REFERENCE = (
    f"SELECT {raw.columns(Payment)} FROM payments WHERE reference = $1 FOR UPDATE"  # noqa: S608
)
_MARK_PAID = (
    f"UPDATE payments SET status = '{PaymentStatus.PAID}', paid_amount = $2,"  # noqa: S608
    " amount_received = $3, paid_at = $4, updated_at = $5 WHERE id = $1"
)
_ABANDON_OTHERS = (
    f"UPDATE payments SET status = '{PaymentStatus.ABANDONED}', updated_at = $3"  # noqa: S608
    f" WHERE invoice_id = $1 AND id <> $2 AND status = '{PaymentStatus.UNPAID}'"
)


async def lock_row_by_reference(connection: asyncpg.Connection, reference: str) -> Payment | None:
    return raw.load(Payment, await connection.fetchrow(_LOCK_ROW_BY_REFERENCE, reference))


async def mark_paid_row(connection: asyncpg.Connection, payment: Payment, now: datetime) -> None:
    """The columns settlement's PAID sets, as already set on `payment`."""
    await connection.execute(
        _MARK_PAID,
        payment.id,
        payment.paid_amount,
        payment.amount_received,
        payment.paid_at,
        now,
    )


async def abandon_others_row(
    connection: asyncpg.Connection, invoice_id: uuid.UUID, paid_id: uuid.UUID, now: datetime
) -> None:
    """`closing.abandon_open` for the invoice `paid_id` just paid."""
    await connection.execute(_ABANDON_OTHERS, invoice_id, paid_id, now)


async def current_row(connection: asyncpg.Connection, invoice_id: uuid.UUID) -> Payment | None:
    """`current`: the newest UNPAID transaction of the invoice."""
    return raw.load(Payment, await connection.fetchrow(_CURRENT_ROW, invoice_id))


async def abandon(connection: asyncpg.Connection, payment_id: uuid.UUID, now: datetime) -> None:
    await connection.execute(_ABANDON, payment_id, now)


async def for_invoice(session: AsyncSession, invoice_id: uuid.UUID) -> Sequence[Payment]:
    return (await session.scalars(_FOR_INVOICE, {"invoice_id": invoice_id})).all()


async def open_for_invoice(session: AsyncSession, invoice_id: uuid.UUID) -> list[Payment]:
    return [
        p
        for p in await for_invoice(session, invoice_id)
        if p.method == PaymentMethod.TRIPAY and p.status in OPEN_STATUSES
    ]


async def current(session: AsyncSession, invoice_id: uuid.UUID) -> Payment | None:
    """The transaction the customer holds: the newest UNPAID one."""
    unpaid = [p for p in await for_invoice(session, invoice_id) if p.status == PaymentStatus.UNPAID]
    return unpaid[-1] if unpaid else None


async def latest_paid(session: AsyncSession, invoice_id: uuid.UUID) -> Payment | None:
    paid = [p for p in await for_invoice(session, invoice_id) if p.status == PaymentStatus.PAID]
    return paid[-1] if paid else None


async def by_reference(session: AsyncSession, reference: str) -> Payment | None:
    return (await session.scalars(_BY_REFERENCE_LOCKED, {"reference": reference})).one_or_none()


async def due_for_reconciliation(
    session: AsyncSession, *, created_before: datetime, limit: int
) -> list[tuple[uuid.UUID, str]]:
    """(invoice id, Tripay reference) of open transactions older than `created_before`, those
    never asked about first, then the least recently asked."""
    stmt = (
        select(Payment.invoice_id, Payment.reference)
        .where(
            Payment.method == PaymentMethod.TRIPAY,
            Payment.status.in_(OPEN_STATUSES),
            Payment.reference.is_not(None),
            Payment.created_at <= created_before,
        )
        .order_by(Payment.reconciled_at.asc().nulls_first(), Payment.created_at)
        .limit(limit)
    )
    return [(i, str(r)) for i, r in (await session.execute(stmt)).all()]


async def mark_reconciled(session: AsyncSession, references: list[str], now: datetime) -> None:
    """Asked about just now, and still open (or unreadable): to the back of the queue."""
    if references:
        await session.execute(
            update(Payment).where(Payment.reference.in_(references)).values(reconciled_at=now)
        )


def transactions_query(filters: dict[str, Any]) -> Select[Any]:
    """Payments with their invoice, filtered (admin listing and CSV export)."""
    stmt = select(Payment, Invoice).join(Invoice, Invoice.id == Payment.invoice_id)
    if filters.get("status"):
        stmt = stmt.where(Payment.status == filters["status"])
    if filters.get("channel"):
        stmt = stmt.where(Payment.channel == filters["channel"].upper())
    if filters.get("method"):
        stmt = stmt.where(Payment.method == filters["method"])
    if filters.get("user_id"):
        stmt = stmt.where(Payment.user_id == filters["user_id"])
    if filters.get("invoice_number"):
        stmt = stmt.where(Invoice.number == filters["invoice_number"].upper())
    if filters.get("date_from"):
        stmt = stmt.where(Payment.created_at >= filters["date_from"])
    if filters.get("date_to"):
        stmt = stmt.where(Payment.created_at < filters["date_to"])
    return stmt


async def transactions(
    session: AsyncSession, filters: dict[str, Any], *, cursor: str | None, limit: int
) -> list[tuple[Payment, Invoice]]:
    stmt = paginate_newest_first(
        transactions_query(filters), Payment.created_at, Payment.id, cursor, limit
    )
    return [(p, i) for p, i in (await session.execute(stmt)).all()]


async def callbacks_for_invoice(
    session: AsyncSession, invoice_id: uuid.UUID
) -> Sequence[TripayCallback]:
    stmt = (
        select(TripayCallback)
        .where(TripayCallback.invoice_id == invoice_id)
        .order_by(TripayCallback.received_at, TripayCallback.id)
    )
    return (await session.scalars(stmt)).all()
