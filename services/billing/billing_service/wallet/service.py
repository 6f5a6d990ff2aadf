"""Wallet rules: top-ups, paying from the wallet (an order through the order service, or an
invoice by its owner), refunds to the wallet, admin adjustments, the consistency check.

Lock order everywhere: the invoice (if any), then the wallet. Each movement has an idempotency
key, so a retried call finds the entry it made instead of moving money twice."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from billing_service.audit import repository as audit
from billing_service.config import BillingSettings
from billing_service.errors import (
    AdjustmentWouldGoNegative,
    IdempotencyKeyReused,
    InsufficientBalance,
    InvoiceConflict,
    InvoiceNotPayable,
    RefundExceedsPayment,
    TopupAmountOutOfRange,
    WalletPaymentNotAllowed,
)
from billing_service.invoices import closing
from billing_service.invoices import repository as invoices
from billing_service.invoices import service as invoice_service
from billing_service.invoices.models import Invoice, InvoiceKind, InvoiceStatus
from billing_service.invoices.schemas import CreateInvoice, InvoiceItem
from billing_service.invoices.transitions import record, transition
from billing_service.payments.models import Payment, PaymentMethod, PaymentStatus
from billing_service.promos import service as promos
from billing_service.wallet import ledger
from billing_service.wallet.models import LedgerEntry, LedgerKind
from billing_service.wallet.schemas import DebitRequest, RefundRequest
from webrana_common.db.base import utcnow

WALLET = "WALLET"
WALLET_NAME = "Saldo WeBrana"


@dataclass(frozen=True)
class Movement:
    entry: LedgerEntry
    balance: int
    replayed: bool
    invoice: Invoice | None = None


def _same_request(entry: LedgerEntry, user_id: uuid.UUID, amount: int, order_id: uuid.UUID) -> None:
    if entry.user_id != user_id or abs(entry.amount) != amount or entry.order_id != order_id:
        raise IdempotencyKeyReused("This idempotency key was used for another movement")


async def pay_invoice(session: AsyncSession, invoice: Invoice, *, actor: str) -> Payment:
    """Pay a PENDING order invoice (locked by the caller) from its owner's wallet."""
    if invoice.kind == InvoiceKind.DEPOSIT:
        raise WalletPaymentNotAllowed("A top-up is paid through a payment channel")
    wallet = await ledger.lock(session, invoice.user_id)
    if wallet.balance < invoice.amount:
        raise InsufficientBalance(
            f"The balance is Rp {wallet.balance}; Rp {invoice.amount} is needed",
            balance=wallet.balance,
            required=invoice.amount,
        )
    entry = await ledger.append(
        session,
        wallet,
        LedgerKind.ORDER_PAYMENT,
        -invoice.amount,
        key=f"invoice-payment:{invoice.id}",
        description=f"Payment of {invoice.number}",
        actor=actor,
        invoice_id=invoice.id,
        order_id=invoice.order_id,
    )
    return await _settle_with_wallet(session, invoice, entry, actor=actor)


async def _settle_with_wallet(
    session: AsyncSession, invoice: Invoice, entry: LedgerEntry, *, actor: str
) -> Payment:
    now = utcnow()
    payment = Payment(
        id=uuid.uuid4(),
        invoice_id=invoice.id,
        user_id=invoice.user_id,
        method=PaymentMethod.WALLET,
        channel=WALLET,
        channel_name=WALLET_NAME,
        status=PaymentStatus.PAID,
        amount=invoice.amount,
        total_amount=invoice.amount,
        paid_amount=invoice.amount,
        amount_received=invoice.amount,
        instructions=[],
        paid_at=now,
        note=f"wallet entry {entry.id}",
    )
    session.add(payment)
    await closing.mark_paid(
        session,
        invoice,
        via=WALLET,
        method_name=WALLET_NAME,
        actor=actor,
        reference=str(entry.id),
        payment_id=payment.id,
        at=now,
    )
    return payment


async def debit_for_order(session: AsyncSession, body: DebitRequest, *, actor: str) -> Movement:
    """One atomic debit. When the order has an invoice, it is paid by this debit (and the
    order hears PAID through the outbox like any other payment)."""
    key = f"debit:{body.idempotency_key}"
    found = await invoices.by_order(session, body.order_id)
    invoice = await invoices.lock(session, found.id) if found is not None else None
    wallet = await ledger.lock(session, body.user_id)
    existing = await ledger.by_key(session, key)
    if existing is not None:
        _same_request(existing, body.user_id, body.amount, body.order_id)
        return Movement(existing, existing.balance_after, replayed=True, invoice=invoice)
    if invoice is not None:
        if invoice.user_id != body.user_id or invoice.amount != body.amount:
            raise InvoiceConflict(
                f"Order {body.order_id} has invoice {invoice.number} for another user or amount"
            )
        if invoice.status != InvoiceStatus.PENDING:
            raise InvoiceNotPayable(f"Invoice {invoice.number} is {invoice.status}")
    if wallet.balance < body.amount:
        raise InsufficientBalance(
            f"The balance is Rp {wallet.balance}; Rp {body.amount} is needed",
            balance=wallet.balance,
            required=body.amount,
        )
    entry = await ledger.append(
        session,
        wallet,
        LedgerKind.ORDER_PAYMENT,
        -body.amount,
        key=key,
        description=body.description or f"Payment of order {body.order_id}",
        actor=actor,
        order_id=body.order_id,
        invoice_id=invoice.id if invoice else None,
    )
    if invoice is not None:
        await _settle_with_wallet(session, invoice, entry, actor=actor)
    return Movement(entry, wallet.balance, replayed=False, invoice=invoice)


async def refund_for_order(session: AsyncSession, body: RefundRequest, *, actor: str) -> Movement:
    """Credit (part of) what was paid for an order; all refunds of an order together never
    exceed what was paid for it."""
    key = f"refund:{body.idempotency_key}"
    found = await invoices.by_order(session, body.order_id)
    invoice = await invoices.lock(session, found.id) if found is not None else None
    wallet = await ledger.lock(session, body.user_id)
    existing = await ledger.by_key(session, key)
    if existing is not None:
        _same_request(existing, body.user_id, body.amount, body.order_id)
        return Movement(existing, existing.balance_after, replayed=True, invoice=invoice)
    totals = await ledger.order_totals(session, body.order_id)
    settled = invoice is not None and invoice.status in (InvoiceStatus.PAID, InvoiceStatus.REFUNDED)
    if invoice is not None and invoice.user_id != body.user_id:
        raise InvoiceConflict(f"Order {body.order_id} belongs to another user")
    paid = invoice.amount if settled and invoice else -totals.get(LedgerKind.ORDER_PAYMENT, 0)
    refunded = totals.get(LedgerKind.REFUND, 0)
    if invoice is not None and invoice.status == InvoiceStatus.REFUNDED:
        # Refunded in full already: by refunds to the wallet, or by Tripay (a REFUND callback),
        # which leaves no wallet entry to count.
        refunded = paid
    if refunded + body.amount > paid:
        raise RefundExceedsPayment(
            f"Rp {paid} was paid for this order and Rp {refunded} already refunded",
            paid=paid,
            refunded=refunded,
        )
    entry = await ledger.append(
        session,
        wallet,
        LedgerKind.REFUND,
        body.amount,
        key=key,
        description=f"Refund of order {invoice.order_number if invoice else body.order_id}",
        actor=actor,
        order_id=body.order_id,
        invoice_id=invoice.id if invoice else None,
        reason=body.reason,
    )
    if (
        invoice is not None
        and invoice.status == InvoiceStatus.PAID
        and (refunded + body.amount == invoice.amount)
    ):
        # The order service asked for it: no REFUNDED message back to it.
        transition(session, invoice, InvoiceStatus.REFUNDED, actor=actor, reason=body.reason)
    return Movement(entry, wallet.balance, replayed=False, invoice=invoice)


async def adjust(
    session: AsyncSession,
    *,
    admin_id: uuid.UUID,
    user_id: uuid.UUID,
    amount: int,
    reason: str,
    idempotency_key: str | None = None,
) -> Movement:
    """With `idempotency_key`, a repeat (a double click, a retried request) replays the first
    adjustment instead of making a second one."""
    if amount == 0:
        raise AdjustmentWouldGoNegative(
            "An adjustment of 0 changes nothing", code="adjustment_zero"
        )
    wallet = await ledger.lock(session, user_id)
    key = f"adjustment:{user_id}:{idempotency_key or uuid.uuid4()}"
    if idempotency_key is not None and (existing := await ledger.by_key(session, key)):
        if existing.amount != amount or existing.reason != reason:
            raise IdempotencyKeyReused("This idempotency key was used for another adjustment")
        return Movement(existing, existing.balance_after, replayed=True)
    if wallet.balance + amount < 0:
        raise AdjustmentWouldGoNegative(
            f"The balance is Rp {wallet.balance}; it cannot go below zero", balance=wallet.balance
        )
    entry = await ledger.append(
        session,
        wallet,
        LedgerKind.ADJUSTMENT,
        amount,
        key=key,
        description="Adjustment by WeBrana",
        actor=f"admin:{admin_id}",
        reason=reason,
    )
    await audit.record(
        session,
        actor_id=admin_id,
        action="wallet.adjusted",
        subject_type="wallet",
        subject_id=user_id,
        reason=reason,
        details={"amount": amount, "balance_after": entry.balance_after, "entry_id": str(entry.id)},
    )
    return Movement(entry, wallet.balance, replayed=False)


async def topup(
    session: AsyncSession,
    settings: BillingSettings,
    *,
    user_id: uuid.UUID,
    amount: int,
    promo_code: str | None,
) -> Invoice:
    """A deposit invoice; paid through Tripay, it credits the wallet (and a promo's bonus)."""
    if not settings.wallet_topup_min <= amount <= settings.wallet_topup_max:
        raise TopupAmountOutOfRange(
            f"A top-up is between Rp {settings.wallet_topup_min} and "
            f"Rp {settings.wallet_topup_max}",
            min=settings.wallet_topup_min,
            max=settings.wallet_topup_max,
        )
    name = f"Top up saldo WeBrana Rp {amount:,}".replace(",", ".")
    invoice, _ = await invoice_service.create(
        session,
        settings,
        CreateInvoice(
            user_id=user_id,
            kind="deposit",
            amount=amount,
            description=name,
            items=[InvoiceItem(name=name, price=amount, sku="TOPUP")],
            promo_code=promo_code,
        ),
        actor=f"user:{user_id}",
    )
    if promo_code:
        redemption, _ = await promos.redeem(
            session,
            promo_code,
            user_id=user_id,
            kind="deposit",
            amount=amount,
            invoice_id=invoice.id,
        )
        record(
            session,
            invoice,
            "promo_applied",
            actor=f"user:{user_id}",
            reason=f"{invoice.promo_code}: bonus Rp {redemption.discount}",
        )
    return invoice


async def consistency(session: AsyncSession) -> tuple[int, list[tuple[uuid.UUID, int, int]]]:
    return await ledger.count_wallets(session), await ledger.mismatches(session)
