"""Job `invoices.expire_due`: PENDING invoices past their expiry become EXPIRED (the order
hears EXPIRED, the customer INVOICE_EXPIRED, promo uses come back).

Before expiring one, Tripay is asked about its open transaction: a payment made in the last
minute whose callback is still on its way wins over the expiry. While Tripay cannot answer the
invoice waits, at most WAIT_FOR_TRIPAY past its expiry; a payment that still turns up later
goes to the wallet (settlement's late payment). Invoices held for review are left to admins."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from billing_service.context import BillingContext
from billing_service.invoices import closing, repository
from billing_service.invoices.models import InvoiceStatus
from billing_service.payments import reconciliation
from billing_service.payments import repository as payments
from billing_service.payments.models import PaymentStatus
from billing_service.tripay.errors import TripayError, TripayUnavailable
from webrana_common.db.base import utcnow
from webrana_common.db.session import Database

log = logging.getLogger("billing.expiry")
WAIT_FOR_TRIPAY = timedelta(hours=1)


async def expire_due(db: Database, context: BillingContext) -> dict[str, Any]:
    now = utcnow()
    async with db.session() as session:
        due = await repository.due_for_expiry(session, now, context.settings.expiry_batch_size)
    report = {"due": len(due), "expired": 0, "settled_by_tripay": 0, "waiting": 0, "held": 0}
    for invoice_id in due:
        async with db.session() as session:
            found = await repository.get(session, invoice_id)
            open_refs = [
                p.reference
                for p in await payments.open_for_invoice(session, invoice_id)
                if p.status == PaymentStatus.UNPAID and p.reference
            ]
        try:
            for reference in open_refs:
                if await reconciliation.settle_reference(db, context, reference):
                    report["settled_by_tripay"] += 1
        except TripayUnavailable:
            if found is not None and utcnow() - found.expires_at < WAIT_FOR_TRIPAY:
                report["waiting"] += 1
                continue
        except TripayError as exc:
            log.error("tripay lookup failed before expiry", extra={"error": exc.detail})
        async with db.session() as session:
            invoice = await repository.try_lock(session, invoice_id)
            if invoice is None or invoice.status != InvoiceStatus.PENDING:
                continue
            if not invoice.past_due():
                continue
            if invoice.flagged_at is not None:  # flagged since `due_for_expiry` listed it
                report["held"] += 1
                continue
            await closing.close(
                session, invoice, InvoiceStatus.EXPIRED, actor="system", reason="not paid in time"
            )
            report["expired"] += 1
    return report
