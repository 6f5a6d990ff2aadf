"""Messages for the notification service (`POST notification:/internal/notifications/send`),
written to the outbox in the caller's transaction. Data follow
services/notification/notification_service/contracts.py."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import sentry_sdk
from sqlalchemy.ext.asyncio import AsyncSession

from billing_service.invoices.models import Invoice
from webrana_common import outbox
from webrana_common.db.base import utcnow

TARGET = "notification:/internal/notifications/send"
# Not in the notification contract yet (README, "Needs from notification"): sent only to the
# admins named in BILLING_ALERT_USER_IDS.
REVIEW_EVENT = "BILLING_REVIEW_REQUIRED"
log = logging.getLogger("billing.alerts")


async def notify(
    session: outbox.Unit,
    event: str,
    user_id: uuid.UUID,
    data: dict[str, Any],
    idempotency_key: str,
) -> None:
    payload = {
        "event": event,
        "user_id": str(user_id),
        "data": data,
        "idempotency_key": idempotency_key,
    }
    await outbox.add(session, TARGET, payload, idempotency_key)


async def payment_confirmed(session: outbox.Unit, invoice: Invoice) -> None:
    assert invoice.paid_at is not None
    await notify(
        session,
        "PAYMENT_CONFIRMED",
        invoice.user_id,
        {
            "invoice_id": str(invoice.id),
            "invoice_number": invoice.number,
            "order_number": invoice.order_number,
            "amount": invoice.amount,
            "payment_method": invoice.payment_method or invoice.paid_via or "-",
            "paid_at": invoice.paid_at.isoformat(),
        },
        f"billing:payment-confirmed:{invoice.id}",
    )


async def invoice_expired(session: AsyncSession, invoice: Invoice) -> None:
    await notify(
        session,
        "INVOICE_EXPIRED",
        invoice.user_id,
        {
            "invoice_id": str(invoice.id),
            "invoice_number": invoice.number,
            "order_number": invoice.order_number,
            "amount": invoice.amount,
            "expired_at": (invoice.closed_at or utcnow()).isoformat(),
        },
        f"billing:invoice-expired:{invoice.id}",
    )


async def wallet_topup(
    session: AsyncSession, invoice: Invoice, *, bonus: int, balance: int, reference: str
) -> None:
    await notify(
        session,
        "WALLET_TOPUP",
        invoice.user_id,
        {
            "amount": invoice.amount,
            "bonus": bonus,
            "balance": balance,
            "reference": reference,
            "topped_up_at": (invoice.paid_at or utcnow()).isoformat(),
            "invoice_number": invoice.number,
        },
        f"billing:wallet-topup:{invoice.id}",
    )


async def review_needed(
    session: AsyncSession,
    admin_ids: list[uuid.UUID],
    invoice: Invoice,
    reason: str,
    details: dict[str, Any],
) -> None:
    """An invoice a person must look at: logged as an error (and so reported to Sentry) and
    sent to each admin of BILLING_ALERT_USER_IDS."""
    log.error(
        "invoice flagged for review",
        extra={"invoice": invoice.number, "reason": reason, **details},
    )
    sentry_sdk.capture_message(f"billing: {invoice.number} flagged: {reason}", level="warning")
    alert_id = uuid.uuid4()
    for admin_id in admin_ids:
        await notify(
            session,
            REVIEW_EVENT,
            admin_id,
            {
                "invoice_id": str(invoice.id),
                "invoice_number": invoice.number,
                "user_id": str(invoice.user_id),
                "reason": reason,
                **details,
            },
            f"billing:review:{alert_id}:{admin_id}",
        )
