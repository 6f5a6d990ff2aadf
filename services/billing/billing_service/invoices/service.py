"""Invoice rules: creation (idempotent per order), the customer's reads, cancellation."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from billing_service.config import BillingSettings
from billing_service.errors import (
    InvalidExpiry,
    InvoiceConflict,
    InvoiceItemsMismatch,
    InvoiceNotCancellable,
    InvoiceNotFound,
    InvoiceUnderReview,
)
from billing_service.invoices import closing, repository
from billing_service.invoices.models import Invoice, InvoiceKind, InvoiceStatus
from billing_service.invoices.schemas import CreateInvoice
from billing_service.invoices.transitions import record, record_now
from billing_service.numbers import invoice_number
from webrana_common.db import raw
from webrana_common.db.base import utcnow
from webrana_common.db.raw import RawTransaction

NUMBER_ATTEMPTS = 5


def _items(body: CreateInvoice) -> list[dict[str, Any]]:
    if not body.items:
        return [{"name": body.description[:200], "price": body.amount, "quantity": 1}]
    items = [item.model_dump(exclude_none=True) for item in body.items]
    if sum(i["price"] * i["quantity"] for i in items) != body.amount:
        raise InvoiceItemsMismatch(
            f"The items add up to {sum(i['price'] * i['quantity'] for i in items)}, "
            f"not {body.amount}"
        )
    return items


def _expiry(body: CreateInvoice, settings: BillingSettings, now: datetime) -> datetime:
    if body.expires_at is not None:
        expires_at = body.expires_at
        if expires_at.tzinfo is None:
            raise InvalidExpiry("expires_at needs a timezone")
    elif body.expires_in is not None:
        expires_at = now + timedelta(seconds=body.expires_in)
    else:
        expires_at = now + timedelta(minutes=settings.invoice_ttl_minutes)
    if expires_at < now + timedelta(minutes=5):
        raise InvalidExpiry("An invoice must stay payable for at least 5 minutes")
    return expires_at


def _same(existing: Invoice, body: CreateInvoice) -> Invoice:
    if existing.user_id != body.user_id or existing.amount != body.amount:
        raise InvoiceConflict(
            f"Invoice {existing.number} exists for this order with another user or amount",
            invoice_id=str(existing.id),
        )
    return existing


async def _existing(session: AsyncSession, body: CreateInvoice, key: str | None) -> Invoice | None:
    if body.kind == InvoiceKind.ORDER and body.order_id is not None:
        return await repository.by_order(session, body.order_id)
    return await repository.by_idempotency_key(session, key) if key else None


def _key(body: CreateInvoice, idempotency_key: str | None) -> str | None:
    return f"order:{body.order_id}" if body.kind == InvoiceKind.ORDER else idempotency_key


def _new(
    body: CreateInvoice, items: list[dict[str, Any]], key: str | None, expires_at: datetime
) -> Invoice:
    return Invoice(
        id=uuid.uuid4(),
        user_id=body.user_id,
        kind=body.kind,
        status=InvoiceStatus.PENDING,
        order_id=body.order_id,
        order_number=body.order_number,
        description=body.description,
        items=items,
        amount=body.amount,
        discount=body.discount,
        promo_code=body.promo_code.strip().upper() if body.promo_code else None,
        idempotency_key=key,
        expires_at=expires_at,
    )


async def create_now(
    transaction: RawTransaction,
    settings: BillingSettings,
    body: CreateInvoice,
    *,
    actor: str,
    idempotency_key: str | None = None,
) -> tuple[Invoice, bool]:
    """`create` on the driver's connection (webrana_common.db.raw), for `POST
    /internal/invoices`, which every order makes. A taken number or key is met by the INSERT
    itself (ON CONFLICT DO NOTHING), so no savepoint: a concurrent request for the same order
    waits for the first one's commit, then finds its invoice."""
    now = utcnow()
    items = _items(body)
    expires_at = _expiry(body, settings, now)
    key = _key(body, idempotency_key)
    connection = transaction.connection
    existing = await repository.existing_row(connection, body.kind, body.order_id, key)
    if existing is not None:
        return _same(existing, body), False
    invoice = _new(body, items, key, expires_at)
    invoice.created_at = invoice.updated_at = now
    for _ in range(NUMBER_ATTEMPTS):
        invoice.number = invoice_number(now)
        if await raw.insert(connection, invoice, skip_conflicts=True):
            break
        existing = await repository.existing_row(connection, body.kind, body.order_id, key)
        if existing is not None:
            return _same(existing, body), False
        # Otherwise the number was taken: another one.
    else:
        raise RuntimeError("could not find a free invoice number")
    await record_now(transaction, invoice, "created", actor=actor, now=now)
    return invoice, True


async def create(
    session: AsyncSession,
    settings: BillingSettings,
    body: CreateInvoice,
    *,
    actor: str,
    idempotency_key: str | None = None,
) -> tuple[Invoice, bool]:
    """(invoice, created). The same order (or key) again returns its invoice."""
    now = utcnow()
    items = _items(body)
    expires_at = _expiry(body, settings, now)
    key = _key(body, idempotency_key)
    existing = await _existing(session, body, key)
    if existing is not None:
        return _same(existing, body), False
    invoice = _new(body, items, key, expires_at)
    for _ in range(NUMBER_ATTEMPTS):
        invoice.number = invoice_number(now)
        try:
            async with session.begin_nested():
                session.add(invoice)
                await session.flush()
            break
        except IntegrityError as exc:
            if "uq_invoices_number" in str(exc.orig):
                continue
            # A concurrent request for the same order (or key) committed first.
            existing = await _existing(session, body, key)
            if existing is None:
                raise
            return _same(existing, body), False
    else:
        raise RuntimeError("could not find a free invoice number")
    record(session, invoice, "created", actor=actor)
    return invoice, True


async def get_for_user(session: AsyncSession, invoice_id: uuid.UUID, user_id: uuid.UUID) -> Invoice:
    invoice = await repository.get(session, invoice_id)
    # Someone else's invoice is "not found", not "forbidden": ids are not confirmed.
    if invoice is None or invoice.user_id != user_id:
        raise InvoiceNotFound(f"No invoice {invoice_id}")
    return invoice


async def get(session: AsyncSession, invoice_id: uuid.UUID) -> Invoice:
    invoice = await repository.get(session, invoice_id)
    if invoice is None:
        raise InvoiceNotFound(f"No invoice {invoice_id}")
    return invoice


async def list_for_user(
    session: AsyncSession,
    user_id: uuid.UUID,
    *,
    status: str | None,
    kind: str | None,
    order_id: uuid.UUID | None = None,
    cursor: str | None,
    limit: int,
) -> Sequence[Invoice]:
    return await repository.search(
        session,
        user_id=user_id,
        status=status,
        kind=kind,
        order_id=order_id,
        cursor=cursor,
        limit=limit,
    )


async def cancel(
    session: AsyncSession,
    invoice_id: uuid.UUID,
    *,
    actor: str,
    reason: str,
    owner: uuid.UUID | None = None,
    tell_order: bool = True,
) -> Invoice:
    """Cancel an unpaid invoice. Cancelling one already cancelled or expired changes nothing
    (the order service may retry); a paid one is refused."""
    invoice = await repository.lock(session, invoice_id)
    if invoice is None or (owner is not None and invoice.user_id != owner):
        raise InvoiceNotFound(f"No invoice {invoice_id}")
    if invoice.status in (InvoiceStatus.CANCELLED, InvoiceStatus.EXPIRED):
        return invoice
    if invoice.status != InvoiceStatus.PENDING:
        raise InvoiceNotCancellable(f"Invoice {invoice.number} is {invoice.status}")
    if invoice.flagged_at is not None:
        raise InvoiceUnderReview(
            f"Invoice {invoice.number} is held for review: {invoice.flag_reason}"
        )
    await closing.close(
        session, invoice, InvoiceStatus.CANCELLED, actor=actor, reason=reason, tell_order=tell_order
    )
    return invoice
