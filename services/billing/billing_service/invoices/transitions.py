"""The one place an invoice changes status or flag: each change validated against the
allowed transitions and recorded in `invoice_events` (what, who, when, why).

PENDING → PAID | EXPIRED | CANCELLED; PAID → REFUNDED. Everything else is refused."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from billing_service.invoices.models import Invoice, InvoiceEvent, InvoiceStatus
from webrana_common.db.base import utcnow
from webrana_common.db.raw import RawTransaction
from webrana_common.errors import Conflict

ALLOWED: dict[str, frozenset[str]] = {
    InvoiceStatus.PENDING: frozenset(
        {InvoiceStatus.PAID, InvoiceStatus.EXPIRED, InvoiceStatus.CANCELLED}
    ),
    InvoiceStatus.PAID: frozenset({InvoiceStatus.REFUNDED}),
}


class TransitionRefused(Conflict):
    code = "invoice_transition_refused"
    title = "Invoice cannot change to that status"


def record(
    session: AsyncSession,
    invoice: Invoice,
    event: str,
    *,
    actor: str,
    reason: str | None = None,
    from_status: str | None = None,
) -> None:
    session.add(
        InvoiceEvent(
            id=uuid.uuid4(),
            invoice_id=invoice.id,
            event=event,
            from_status=from_status,
            to_status=invoice.status,
            actor=actor,
            reason=reason[:500] if reason else None,
        )
    )


_INSERT_EVENT = (
    "INSERT INTO invoice_events (id, invoice_id, event, from_status, to_status, actor, reason,"
    " created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
)


async def record_now(
    transaction: RawTransaction,
    invoice: Invoice,
    event: str,
    *,
    actor: str,
    now: datetime,
    reason: str | None = None,
    from_status: str | None = None,
) -> None:
    """`record` on the driver's connection (webrana_common.db.raw)."""
    await transaction.connection.execute(
        _INSERT_EVENT,
        uuid.uuid4(),
        invoice.id,
        event,
        from_status,
        invoice.status,
        actor,
        reason[:500] if reason else None,
        now,
    )


def transition(
    session: AsyncSession,
    invoice: Invoice,
    to: InvoiceStatus,
    *,
    actor: str,
    reason: str | None = None,
    at: datetime | None = None,
) -> None:
    if to not in ALLOWED.get(invoice.status, frozenset()):
        raise TransitionRefused(f"Invoice {invoice.number} is {invoice.status}, not {to}-able")
    at = at or utcnow()
    previous = invoice.status
    invoice.status = to
    if to == InvoiceStatus.PAID:
        invoice.paid_at = at
    else:
        invoice.closed_at = at
        invoice.close_reason = reason[:500] if reason else None
    record(session, invoice, to.lower(), actor=actor, reason=reason, from_status=previous)


def flag(session: AsyncSession, invoice: Invoice, reason: str, *, actor: str) -> None:
    invoice.flagged_at = utcnow()
    invoice.flag_reason = reason[:500]
    record(session, invoice, "flagged", actor=actor, reason=reason, from_status=invoice.status)


def resolve_flag(session: AsyncSession, invoice: Invoice, reason: str, *, actor: str) -> None:
    invoice.flagged_at = None
    record(
        session, invoice, "flag_resolved", actor=actor, reason=reason, from_status=invoice.status
    )
