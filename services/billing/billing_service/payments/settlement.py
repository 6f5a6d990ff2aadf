"""Applying a Tripay status (from a callback, or from reconciliation asking Tripay) to our
payment and its invoice, under the invoice's lock.

Idempotent on (reference, status) through the payment's own state: PAID applies to an open
transaction only, EXPIRED/FAILED to an open one only, REFUND to a PAID one only; anything else
is a duplicate that changes nothing. A PAID whose amount is not what the customer was asked
for flags the invoice for review instead of paying it; money for an invoice that is no longer
open goes to the customer's wallet (and the invoice is flagged)."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from billing_service import notifications, order_events
from billing_service.invoices import closing
from billing_service.invoices import repository as invoices
from billing_service.invoices.models import Invoice, InvoiceKind, InvoiceStatus
from billing_service.invoices.transitions import flag, record, record_now, transition
from billing_service.order_events import OrderPaymentStatus
from billing_service.payments import repository as payments
from billing_service.payments.models import OPEN_STATUSES, Payment, PaymentMethod, PaymentStatus
from billing_service.promos import service as promos
from billing_service.tripay.schemas import Callback, Transaction
from billing_service.wallet import ledger
from billing_service.wallet.models import LedgerKind
from webrana_common.db.raw import RawTransaction

log = logging.getLogger("billing.settlement")


@dataclass(frozen=True)
class TripayStatus:
    reference: str
    merchant_ref: str | None
    status: str  # PAID | EXPIRED | FAILED | REFUND (UNPAID is never applied)
    total_amount: int
    amount_received: int | None
    paid_at: datetime | None
    method_code: str | None
    method_name: str | None

    @classmethod
    def of_callback(cls, callback: Callback) -> TripayStatus:
        return cls(
            reference=callback.reference,
            merchant_ref=callback.merchant_ref,
            status=callback.status.upper(),
            total_amount=callback.total_amount,
            amount_received=callback.amount_received,
            paid_at=_time(callback.paid_at),
            method_code=callback.payment_method_code,
            method_name=callback.payment_method,
        )

    @classmethod
    def of_transaction(cls, transaction: Transaction, status: str | None = None) -> TripayStatus:
        return cls(
            reference=transaction.reference,
            merchant_ref=transaction.merchant_ref,
            status=(status or transaction.status).upper(),
            total_amount=transaction.amount,
            amount_received=transaction.amount_received,
            paid_at=_time(transaction.paid_at),
            method_code=transaction.payment_method,
            method_name=transaction.payment_name,
        )


def _time(unix: int | None) -> datetime | None:
    return datetime.fromtimestamp(unix, UTC) if unix else None


@dataclass(frozen=True)
class Settlement:
    outcome: str  # applied | duplicate | flagged | ignored | unknown_invoice
    invoice_id: uuid.UUID | None = None
    detail: str | None = None


async def _locate(
    session: AsyncSession, status: TripayStatus
) -> tuple[Invoice | None, Payment | None]:
    """The invoice (locked first, as everywhere) and the payment of this reference."""
    invoice = None
    if status.merchant_ref:
        invoice = await invoices.lock_by_number(session, status.merchant_ref)
    if invoice is None:
        owner = await session.scalar(
            select(Payment.invoice_id).where(Payment.reference == status.reference)
        )
        invoice = await invoices.lock(session, owner) if owner else None
    payment = await payments.by_reference(session, status.reference)
    return invoice, payment


def _adopt(session: AsyncSession, invoice: Invoice, status: TripayStatus) -> Payment:
    """A transaction we never stored (our create call timed out after Tripay made it)."""
    payment = Payment(
        id=uuid.uuid4(),
        invoice_id=invoice.id,
        user_id=invoice.user_id,
        method=PaymentMethod.TRIPAY,
        channel=status.method_code,
        channel_name=status.method_name,
        reference=status.reference,
        status=PaymentStatus.UNPAID,
        amount=status.total_amount,
        total_amount=status.total_amount,
        instructions=[],
        note="adopted from Tripay: unknown reference for this invoice",
    )
    session.add(payment)
    return payment


async def apply(
    session: AsyncSession, admin_ids: list[uuid.UUID], status: TripayStatus, *, actor: str
) -> Settlement:
    invoice, payment = await _locate(session, status)
    if invoice is None:
        log.error("tripay status for an unknown invoice", extra={"reference": status.reference})
        return Settlement("unknown_invoice", None, f"no invoice {status.merchant_ref}")
    if payment is None:
        payment = _adopt(session, invoice, status)
    elif payment.invoice_id != invoice.id:
        reason = f"Tripay reference {status.reference} belongs to another invoice"
        await _flag(session, admin_ids, invoice, reason, actor=actor)
        return Settlement("flagged", invoice.id, reason)
    handlers = {
        "PAID": _paid,
        "EXPIRED": _closed,
        "FAILED": _closed,
        "REFUND": _refunded,
    }
    handler = handlers.get(status.status)
    if handler is None:
        return Settlement("ignored", invoice.id, f"status {status.status} is not applied")
    return await handler(session, admin_ids, invoice, payment, status, actor)


async def paid_now(
    transaction: RawTransaction, status: TripayStatus, *, actor: str
) -> Settlement | None:
    """What almost every callback is (PAID, for the open transaction of a PENDING order invoice,
    the amount the customer was asked for), applied as `apply` would, on the driver's
    connection (webrana_common.db.raw): every checkout brings one. None, with nothing written,
    for anything else (a duplicate, a mismatch, a late or unknown payment, a top-up), which
    `apply` then decides. The same locks in the same order as `_locate`."""
    if status.status != "PAID" or not status.merchant_ref:
        return None
    connection = transaction.connection
    invoice = await invoices.lock_row_by_number(connection, status.merchant_ref)
    if (
        invoice is None
        or invoice.kind != InvoiceKind.ORDER
        or invoice.status != InvoiceStatus.PENDING
    ):
        return None
    payment = await payments.lock_row_by_reference(connection, status.reference)
    if (
        payment is None
        or payment.invoice_id != invoice.id
        or payment.status not in OPEN_STATUSES
        or status.total_amount != payment.total_amount
    ):
        return None
    now = datetime.now(UTC)
    payment.paid_amount = status.total_amount
    payment.amount_received = status.amount_received
    payment.paid_at = status.paid_at or now
    await payments.mark_paid_row(connection, payment, now)
    await payments.abandon_others_row(connection, invoice.id, payment.id, now)
    method_name = payment.channel_name or payment.channel or "Tripay"
    invoice.status = InvoiceStatus.PAID
    invoice.paid_at = payment.paid_at
    invoice.payment_id = payment.id
    invoice.paid_via = payment.channel or "TRIPAY"
    invoice.payment_method = method_name
    await invoices.mark_paid_row(connection, invoice, now)
    await record_now(
        transaction,
        invoice,
        "paid",
        actor=actor,
        now=now,
        reason=f"paid via {method_name}",
        from_status=InvoiceStatus.PENDING,
    )
    await order_events.payment_status(transaction, invoice, OrderPaymentStatus.PAID)
    await notifications.payment_confirmed(transaction, invoice)
    return Settlement("applied", invoice.id, "invoice paid")


async def _flag(
    session: AsyncSession,
    admin_ids: list[uuid.UUID],
    invoice: Invoice,
    reason: str,
    *,
    actor: str,
    **details: object,
) -> None:
    flag(session, invoice, reason, actor=actor)
    await notifications.review_needed(session, admin_ids, invoice, reason, dict(details))


async def _paid(
    session: AsyncSession,
    admin_ids: list[uuid.UUID],
    invoice: Invoice,
    payment: Payment,
    status: TripayStatus,
    actor: str,
) -> Settlement:
    if payment.status in (PaymentStatus.PAID, PaymentStatus.REFUNDED):
        return Settlement(
            "duplicate", invoice.id, f"{status.reference} is already {payment.status}"
        )
    payment.status = PaymentStatus.PAID
    payment.paid_amount = status.total_amount
    payment.amount_received = status.amount_received
    payment.paid_at = status.paid_at or datetime.now(UTC)
    if status.total_amount != payment.total_amount:
        payment.note = f"amount mismatch: asked {payment.total_amount}, paid {status.total_amount}"
        reason = (
            f"Tripay reports Rp {status.total_amount} paid for {status.reference}; "
            f"the customer was asked for Rp {payment.total_amount}"
        )
        await _flag(
            session,
            admin_ids,
            invoice,
            reason,
            actor=actor,
            expected_amount=payment.total_amount,
            reported_amount=status.total_amount,
            reference=status.reference,
        )
        return Settlement("flagged", invoice.id, reason)
    if invoice.status == InvoiceStatus.PENDING:
        await closing.mark_paid(
            session,
            invoice,
            via=payment.channel or "TRIPAY",
            method_name=payment.channel_name or payment.channel or "Tripay",
            actor=actor,
            reference=status.reference,
            payment_id=payment.id,
            at=payment.paid_at,
        )
        return Settlement("applied", invoice.id, "invoice paid")
    return await _late_payment(session, admin_ids, invoice, payment, actor)


async def _late_payment(
    session: AsyncSession,
    admin_ids: list[uuid.UUID],
    invoice: Invoice,
    payment: Payment,
    actor: str,
) -> Settlement:
    """Paid for an invoice already paid another way, expired or cancelled: the customer's
    money is not lost: it goes to their wallet, and a person looks at it."""
    wallet = await ledger.lock(session, invoice.user_id)
    key = f"late-payment:{payment.id}"
    if await ledger.by_key(session, key) is None:
        await ledger.append(
            session,
            wallet,
            LedgerKind.DEPOSIT,
            invoice.amount,
            key=key,
            description=f"Payment {payment.reference} for {invoice.number} ({invoice.status})",
            actor=actor,
            invoice_id=invoice.id,
        )
    reason = (
        f"Payment {payment.reference} arrived for a {invoice.status} invoice; "
        f"Rp {invoice.amount} credited to the wallet"
    )
    await _flag(session, admin_ids, invoice, reason, actor=actor, reference=payment.reference)
    return Settlement("flagged", invoice.id, reason)


async def _closed(
    session: AsyncSession,
    admin_ids: list[uuid.UUID],
    invoice: Invoice,
    payment: Payment,
    status: TripayStatus,
    actor: str,
) -> Settlement:
    if payment.status not in OPEN_STATUSES:
        return Settlement(
            "duplicate", invoice.id, f"{status.reference} is already {payment.status}"
        )
    payment.status = PaymentStatus.EXPIRED if status.status == "EXPIRED" else PaymentStatus.FAILED
    record(
        session, invoice, f"payment_{payment.status.lower()}", actor=actor, reason=status.reference
    )
    still_open = [
        p
        for p in await payments.open_for_invoice(session, invoice.id)
        if p.id != payment.id and p.status == PaymentStatus.UNPAID
    ]
    if invoice.status == InvoiceStatus.PENDING and invoice.past_due() and not still_open:
        await closing.close(
            session, invoice, InvoiceStatus.EXPIRED, actor=actor, reason="not paid in time"
        )
    return Settlement("applied", invoice.id, f"transaction {payment.status}")


async def _refunded(
    session: AsyncSession,
    admin_ids: list[uuid.UUID],
    invoice: Invoice,
    payment: Payment,
    status: TripayStatus,
    actor: str,
) -> Settlement:
    if payment.status == PaymentStatus.REFUNDED:
        return Settlement("duplicate", invoice.id, f"{status.reference} is already REFUNDED")
    if payment.status != PaymentStatus.PAID:
        return Settlement("ignored", invoice.id, f"refund of a {payment.status} transaction")
    payment.status = PaymentStatus.REFUNDED
    if invoice.status != InvoiceStatus.PAID or invoice.payment_id != payment.id:
        reason = f"Tripay refunded {status.reference}, which did not settle {invoice.number}"
        await _flag(session, admin_ids, invoice, reason, actor=actor)
        return Settlement("flagged", invoice.id, reason)
    if invoice.kind == InvoiceKind.DEPOSIT:
        wallet = await ledger.lock(session, invoice.user_id)
        # The promo bonus came with the top-up, so it goes with it (and the promo use is
        # given back): the payer gets their money back from Tripay, not a bonus too.
        bonus_entry = await ledger.by_key(session, f"promo-bonus:{invoice.id}")
        bonus = bonus_entry.amount if bonus_entry is not None else 0
        if wallet.balance < invoice.amount + bonus:
            reason = f"Tripay refunded top-up {invoice.number} but the wallet holds less"
            await _flag(session, admin_ids, invoice, reason, actor=actor)
            return Settlement("flagged", invoice.id, reason)
        await ledger.append(
            session,
            wallet,
            LedgerKind.DEPOSIT_REVERSAL,
            -invoice.amount,
            key=f"deposit-reversal:{invoice.id}",
            description=f"Top-up {invoice.number} refunded by Tripay",
            actor=actor,
            invoice_id=invoice.id,
        )
        if bonus:
            await ledger.append(
                session,
                wallet,
                LedgerKind.DEPOSIT_REVERSAL,
                -bonus,
                key=f"promo-bonus-reversal:{invoice.id}",
                description=f"Promo bonus on {invoice.number} withdrawn with the top-up",
                actor=actor,
                invoice_id=invoice.id,
            )
            await promos.release(session, invoice_id=invoice.id, reason="top-up refunded")
    transition(session, invoice, InvoiceStatus.REFUNDED, actor=actor, reason="refunded by Tripay")
    await order_events.payment_status(session, invoice, OrderPaymentStatus.REFUNDED)
    return Settlement("applied", invoice.id, "invoice refunded")
