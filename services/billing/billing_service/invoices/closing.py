"""What follows when an invoice is paid, expires or is cancelled: the transition, the wallet
for top-ups, open Tripay transactions, promo uses, and the messages to the order and
notification services (outbox, same transaction). The caller holds the invoice's lock."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from billing_service import notifications, order_events
from billing_service.invoices.models import Invoice, InvoiceKind, InvoiceStatus
from billing_service.invoices.transitions import transition
from billing_service.order_events import OrderPaymentStatus
from billing_service.payments import repository as payments
from billing_service.payments.models import PaymentStatus
from billing_service.promos import service as promos
from billing_service.wallet import ledger
from billing_service.wallet.models import LedgerKind


async def mark_paid(
    session: AsyncSession,
    invoice: Invoice,
    *,
    via: str,
    method_name: str,
    actor: str,
    reference: str,
    payment_id: uuid.UUID,
    at: datetime | None = None,
) -> None:
    await abandon_open(session, invoice, keep=payment_id)
    transition(
        session, invoice, InvoiceStatus.PAID, actor=actor, reason=f"paid via {method_name}", at=at
    )
    invoice.payment_id = payment_id
    invoice.paid_via = via
    invoice.payment_method = method_name
    if invoice.kind == InvoiceKind.DEPOSIT:
        await credit_deposit(session, invoice, reference=reference, actor=actor)
        return
    await order_events.payment_status(session, invoice, OrderPaymentStatus.PAID)
    await notifications.payment_confirmed(session, invoice)


async def abandon_open(
    session: AsyncSession, invoice: Invoice, *, keep: uuid.UUID | None = None
) -> None:
    """The invoice's UNPAID Tripay transactions (but `keep`) stop being shown and offered.
    They may still be paid at Tripay: reconciliation keeps watching them, and such money goes
    to the wallet."""
    for payment in await payments.open_for_invoice(session, invoice.id):
        if payment.status == PaymentStatus.UNPAID and payment.id != keep:
            payment.status = PaymentStatus.ABANDONED


async def credit_deposit(
    session: AsyncSession, invoice: Invoice, *, reference: str, actor: str
) -> None:
    """The top-up and its promo bonus, once each (keyed on the invoice)."""
    wallet = await ledger.lock(session, invoice.user_id)
    key = f"deposit:{invoice.id}"
    if await ledger.by_key(session, key) is None:
        await ledger.append(
            session,
            wallet,
            LedgerKind.DEPOSIT,
            invoice.amount,
            key=key,
            description=f"Top up {invoice.number}",
            actor=actor,
            invoice_id=invoice.id,
        )
    bonus = 0
    redemption = await promos.deposit_bonus(session, invoice.id)
    bonus_key = f"promo-bonus:{invoice.id}"
    if redemption is not None and redemption.discount > 0:
        bonus = redemption.discount
        if await ledger.by_key(session, bonus_key) is None:
            await ledger.append(
                session,
                wallet,
                LedgerKind.PROMO_BONUS,
                bonus,
                key=bonus_key,
                description=f"Promo bonus {invoice.promo_code or ''} on {invoice.number}".strip(),
                actor=actor,
                invoice_id=invoice.id,
            )
    await notifications.wallet_topup(
        session, invoice, bonus=bonus, balance=wallet.balance, reference=reference
    )


async def close(
    session: AsyncSession,
    invoice: Invoice,
    status: InvoiceStatus,
    *,
    actor: str,
    reason: str,
    tell_order: bool = True,
) -> None:
    """EXPIRED or CANCELLED; open Tripay transactions are abandoned."""
    transition(session, invoice, status, actor=actor, reason=reason)
    await abandon_open(session, invoice)
    reason_for_promo = f"invoice {status.lower()}"
    await promos.release(session, invoice_id=invoice.id, reason=reason_for_promo)
    if invoice.order_id is not None:
        await promos.release(session, order_id=invoice.order_id, reason=reason_for_promo)
    if status == InvoiceStatus.EXPIRED:
        await order_events.payment_status(session, invoice, OrderPaymentStatus.EXPIRED)
        await notifications.invoice_expired(session, invoice)
    elif tell_order:
        await order_events.payment_status(session, invoice, OrderPaymentStatus.CANCELLED)
