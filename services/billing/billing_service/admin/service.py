"""Admin rules: paying an invoice by hand, clearing a review flag, the invoice's full story."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from billing_service.admin.schemas import (
    AdminInvoiceDetail,
    AuditView,
    CallbackView,
    EventView,
    TransactionView,
)
from billing_service.audit import repository as audit
from billing_service.errors import InvoiceNotFlagged, InvoiceNotFound, InvoiceNotPayable
from billing_service.invoices import closing
from billing_service.invoices import repository as invoices
from billing_service.invoices.models import Invoice, InvoiceStatus
from billing_service.invoices.schemas import InternalInvoiceView
from billing_service.invoices.transitions import resolve_flag
from billing_service.payments import repository as payments
from billing_service.payments.models import Payment, PaymentMethod, PaymentStatus
from billing_service.payments.schemas import PaymentInstructions
from webrana_common.db.base import utcnow

MANUAL = "MANUAL"


async def _locked(session: AsyncSession, invoice_id: uuid.UUID) -> Invoice:
    invoice = await invoices.lock(session, invoice_id)
    if invoice is None:
        raise InvoiceNotFound(f"No invoice {invoice_id}")
    return invoice


async def mark_paid(
    session: AsyncSession,
    invoice_id: uuid.UUID,
    *,
    admin_id: uuid.UUID,
    reason: str,
    reference: str | None,
) -> Invoice:
    """Money that reached us outside Tripay (a bank transfer), or a flagged payment an admin
    accepts: the invoice is paid exactly as a callback pays it (order hears PAID, a top-up is
    credited), and the admin's reason is audited. A flag on it is cleared."""
    invoice = await _locked(session, invoice_id)
    if invoice.status != InvoiceStatus.PENDING:
        raise InvoiceNotPayable(f"Invoice {invoice.number} is {invoice.status}")
    actor = f"admin:{admin_id}"
    now = utcnow()
    payment = Payment(
        id=uuid.uuid4(),
        invoice_id=invoice.id,
        user_id=invoice.user_id,
        method=PaymentMethod.MANUAL,
        channel=MANUAL,
        channel_name="Manual confirmation",
        status=PaymentStatus.PAID,
        amount=invoice.amount,
        total_amount=invoice.amount,
        paid_amount=invoice.amount,
        instructions=[],
        paid_at=now,
        note=f"{reason} (ref {reference})" if reference else reason,
    )
    session.add(payment)
    if invoice.flagged_at is not None:
        resolve_flag(session, invoice, f"paid manually: {reason}", actor=actor)
    await closing.mark_paid(
        session,
        invoice,
        via=MANUAL,
        method_name="Manual confirmation",
        actor=actor,
        reference=reference or f"manual:{payment.id}",
        payment_id=payment.id,
        at=now,
    )
    await audit.record(
        session,
        actor_id=admin_id,
        action="invoice.marked_paid",
        subject_type="invoice",
        subject_id=invoice.id,
        reason=reason,
        details={"number": invoice.number, "amount": invoice.amount, "reference": reference},
    )
    return invoice


async def clear_flag(
    session: AsyncSession, invoice_id: uuid.UUID, *, admin_id: uuid.UUID, reason: str
) -> Invoice:
    invoice = await _locked(session, invoice_id)
    if invoice.flagged_at is None:
        raise InvoiceNotFlagged(f"Invoice {invoice.number} is not flagged")
    resolve_flag(session, invoice, reason, actor=f"admin:{admin_id}")
    await audit.record(
        session,
        actor_id=admin_id,
        action="invoice.flag_resolved",
        subject_type="invoice",
        subject_id=invoice.id,
        reason=reason,
        details={"number": invoice.number, "flag_reason": invoice.flag_reason},
    )
    return invoice


async def invoice_detail(session: AsyncSession, invoice_id: uuid.UUID) -> AdminInvoiceDetail:
    invoice = await invoices.get(session, invoice_id)
    if invoice is None:
        raise InvoiceNotFound(f"No invoice {invoice_id}")
    rows = await payments.for_invoice(session, invoice.id)
    trail = await audit.search(
        session,
        subject_type="invoice",
        subject_id=str(invoice.id),
        action=None,
        cursor=None,
        limit=100,
    )
    return AdminInvoiceDetail(
        **InternalInvoiceView.of(invoice).model_dump(),
        payments=[PaymentInstructions.of(p, invoice.amount) for p in rows],
        transactions=[TransactionView.of(p, invoice) for p in rows],
        callbacks=[
            CallbackView.of(c) for c in await payments.callbacks_for_invoice(session, invoice.id)
        ],
        events=[EventView.of(e) for e in await invoices.events(session, invoice.id)],
        audit=[AuditView.of(a) for a in trail],
    )
