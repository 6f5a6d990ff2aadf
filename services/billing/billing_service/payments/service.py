"""Paying an invoice: the channels on offer with their fees, and starting (or reusing) a
closed Tripay transaction, or paying from the wallet."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from billing_service.context import BillingContext
from billing_service.errors import (
    ChannelAmountOutOfRange,
    ChannelUnknown,
    ChannelWindowTooShort,
    CustomerPhoneRequired,
    InvoiceExpired,
    InvoiceNotFound,
    InvoiceNotPayable,
    InvoiceUnderReview,
)
from billing_service.invoices import repository as invoices
from billing_service.invoices.models import Invoice, InvoiceKind, InvoiceStatus
from billing_service.invoices.transitions import record_now
from billing_service.payments import repository
from billing_service.payments.models import Payment, PaymentMethod, PaymentStatus
from billing_service.payments.schemas import ChannelOption, ChannelOptions
from billing_service.tripay.client import NewTransaction, OrderItem
from billing_service.tripay.fees import FEE_ITEM_NAME, Quote, quote
from billing_service.tripay.windows import window
from billing_service.wallet import ledger
from billing_service.wallet import service as wallet
from webrana_common.db import raw
from webrana_common.db.base import utcnow
from webrana_common.db.raw import RawTransaction

# An open transaction this close to its end is not handed out again: a new one is made.
REUSE_MARGIN = timedelta(minutes=2)


def _check_payable(invoice: Invoice, now: datetime) -> None:
    if invoice.status != InvoiceStatus.PENDING:
        raise InvoiceNotPayable(f"Invoice {invoice.number} is {invoice.status}")
    if invoice.past_due(now):
        raise InvoiceExpired(f"Invoice {invoice.number} expired at {invoice.expires_at}")
    if invoice.flagged_at is not None:
        raise InvoiceUnderReview(f"Invoice {invoice.number} is held for review")


def transaction_expiry(code: str, invoice_expires_at: datetime, now: datetime) -> datetime:
    """As late as the invoice and the channel allow."""
    shortest, longest = window(code)
    expires_at = min(invoice_expires_at, now + timedelta(minutes=longest)).replace(microsecond=0)
    if expires_at < now + timedelta(minutes=shortest):
        raise ChannelWindowTooShort(
            f"{code} needs at least {shortest} minutes to pay; the invoice expires sooner"
        )
    return expires_at


def order_items(invoice: Invoice, priced: Quote) -> list[OrderItem]:
    """The invoice's lines (Σ = amount) plus our fee line; Tripay takes no negative prices,
    so an invoice with a discount line goes as one line."""
    lines = invoice.items
    if all(item["price"] > 0 for item in lines):
        items = [
            OrderItem(item["name"][:200], item["price"], item.get("quantity", 1), item.get("sku"))
            for item in lines
        ]
    else:
        items = [OrderItem(invoice.description[:200], invoice.amount, 1, invoice.number)]
    if priced.surcharge:
        items.append(OrderItem(FEE_ITEM_NAME, priced.surcharge, 1, "FEE"))
    return items


async def channel_options(
    session: AsyncSession, context: BillingContext, invoice: Invoice
) -> ChannelOptions:
    now = utcnow()
    options = []
    for channel in await context.channels.active():
        priced = quote(channel, invoice.amount, fee_borne_by=context.settings.fee_borne_by)
        reason = None
        if not priced.within_limits:
            reason = "amount outside this channel's limits"
        else:
            try:
                transaction_expiry(channel.code, invoice.expires_at, now)
            except ChannelWindowTooShort:
                reason = "the invoice expires too soon for this channel"
        options.append(
            ChannelOption(
                code=channel.code,
                name=channel.name,
                group=channel.group,
                type=channel.type,
                icon_url=channel.icon_url,
                fee=priced.customer_fee,
                total=priced.total,
                available=reason is None,
                unavailable_reason=reason,
            )
        )
    balance = None
    if invoice.kind == InvoiceKind.ORDER:
        found = await ledger.get(session, invoice.user_id)
        balance = found.balance if found else 0
    return ChannelOptions(
        invoice_id=invoice.id,
        amount=invoice.amount,
        fee_borne_by=context.settings.fee_borne_by,
        wallet_balance=balance,
        channels=options,
    )


async def pay_from_wallet(
    session: AsyncSession, invoice_id: uuid.UUID, *, user_id: uuid.UUID
) -> Payment:
    """One atomic debit of the wallet, under the invoice's lock."""
    invoice = await invoices.lock(session, invoice_id)
    if invoice is None or invoice.user_id != user_id:
        raise InvoiceNotFound(f"No invoice {invoice_id}")
    _check_payable(invoice, utcnow())
    return await wallet.pay_invoice(session, invoice, actor=f"user:{user_id}")


async def pay(
    transaction: RawTransaction,
    context: BillingContext,
    invoice_id: uuid.UUID,
    *,
    user_id: uuid.UUID,
    channel_code: str,
) -> tuple[Payment, bool, Invoice]:
    """(payment, created, invoice) for a Tripay channel. The same channel again returns the
    open transaction; another channel abandons it and makes a new one. Tripay is called under
    the invoice's lock, so two clicks never make two transactions.

    Every checkout pays, so on the driver's connection (webrana_common.db.raw)."""
    connection = transaction.connection
    invoice = await invoices.lock_row(connection, invoice_id)
    if invoice is None or invoice.user_id != user_id:
        raise InvoiceNotFound(f"No invoice {invoice_id}")
    now = utcnow()
    _check_payable(invoice, now)
    code = channel_code.strip().upper()
    actor = f"user:{user_id}"
    channel = await context.channels.get(code)
    if channel is None:
        raise ChannelUnknown(f"No active payment channel {code}")
    priced = quote(channel, invoice.amount, fee_borne_by=context.settings.fee_borne_by)
    if not priced.within_limits:
        raise ChannelAmountOutOfRange(
            f"{code} takes Rp {channel.minimum_amount} to Rp {channel.maximum_amount}",
            minimum=channel.minimum_amount,
            maximum=channel.maximum_amount,
        )
    current = await repository.current_row(connection, invoice.id)
    if (
        current is not None
        and current.channel == code
        and current.expires_at is not None
        and (current.expires_at > now + REUSE_MARGIN)
    ):
        return current, False, invoice
    expires_at = transaction_expiry(code, invoice.expires_at, now)
    customer = await context.auth.customer(invoice.user_id)
    if channel.type == "redirect" and not customer.phone:
        raise CustomerPhoneRequired(f"{channel.name} needs a phone number on your account")
    made = await context.tripay.create_transaction(
        NewTransaction(
            method=code,
            merchant_ref=invoice.number,
            amount=priced.request_amount,
            customer_name=customer.full_name,
            customer_email=customer.email,
            customer_phone=customer.phone,
            order_items=order_items(invoice, priced),
            expires_at=expires_at,
            callback_url=context.settings.callback_url,
            return_url=context.settings.return_url(invoice.id),
        )
    )
    if current is not None:
        await repository.abandon(connection, current.id, now)
        await record_now(
            transaction,
            invoice,
            "payment_abandoned",
            actor=actor,
            now=now,
            reason=current.reference,
        )
    payment = Payment(
        id=uuid.uuid4(),
        invoice_id=invoice.id,
        user_id=invoice.user_id,
        method=PaymentMethod.TRIPAY,
        channel=code,
        channel_name=made.payment_name or channel.name,
        reference=made.reference,
        status=PaymentStatus.UNPAID,
        amount=priced.request_amount,
        fee_customer=priced.surcharge + made.fee_customer,
        fee_merchant=made.fee_merchant,
        total_amount=made.amount,
        pay_code=made.pay_code,
        pay_url=made.pay_url,
        checkout_url=made.checkout_url,
        qr_string=made.qr_string,
        qr_url=made.qr_url,
        instructions=[i.model_dump() for i in made.instructions],
        expires_at=expires_at,
        created_at=now,
        updated_at=now,
    )
    await raw.insert(connection, payment)
    await record_now(
        transaction,
        invoice,
        "payment_started",
        actor=actor,
        now=now,
        reason=f"{code} {payment.reference}",
    )
    return payment, True, invoice
