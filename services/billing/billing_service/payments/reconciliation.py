"""Job `payments.reconcile`: Tripay transactions still open on our side a while after they
were made (their callback never came, or came while we were down) are looked up with
`transaction/detail` and settled exactly as their callback would have settled them."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from billing_service.context import BillingContext
from billing_service.payments import repository, settlement
from billing_service.tripay.errors import TripayError, TripayUnavailable
from webrana_common.db.base import utcnow
from webrana_common.db.session import Database

log = logging.getLogger("billing.reconciliation")
ACTOR = "reconciliation"


async def settle_reference(
    db: Database, context: BillingContext, reference: str
) -> settlement.Settlement | None:
    """Ask Tripay about one transaction and apply what it says; None while it is still open.
    Raises TripayUnavailable."""
    transaction = await context.tripay.transaction_detail(reference)
    status = transaction.status.upper()
    if status == "UNPAID":
        expired_time = transaction.expired_time
        if expired_time is None or expired_time > utcnow().timestamp():
            return None
        status = "EXPIRED"  # past its time at Tripay; the sweep there just has not run yet
    async with db.session() as session:
        return await settlement.apply(
            session,
            context.settings.alert_user_ids(),
            settlement.TripayStatus.of_transaction(transaction, status),
            actor=ACTOR,
        )


async def reconcile(db: Database, context: BillingContext) -> dict[str, Any]:
    settings = context.settings
    async with db.session() as session:
        due = await repository.due_for_reconciliation(
            session,
            created_before=utcnow() - timedelta(minutes=settings.reconcile_after_minutes),
            limit=settings.reconcile_batch_size,
        )
    report: dict[str, Any] = {"checked": 0, "open": 0, "outcomes": {}}
    asked: list[str] = []  # and still open: the next rounds ask the others first
    for _invoice_id, reference in due:
        try:
            result = await settle_reference(db, context, reference)
        except TripayUnavailable:
            log.warning("reconciliation stopped: Tripay unavailable", exc_info=True)
            report["stopped"] = "tripay_unavailable"
            break
        except TripayError as exc:
            # Unknown to Tripay, or an answer we cannot read: a later round tries again.
            log.error("tripay lookup failed", extra={"reference": reference, "error": exc.detail})
            asked.append(reference)
            continue
        report["checked"] += 1
        if result is None:
            report["open"] += 1
            asked.append(reference)
            continue
        report["outcomes"][result.outcome] = report["outcomes"].get(result.outcome, 0) + 1
        log.warning(
            "reconciled a transaction whose callback never came",
            extra={"reference": reference, "outcome": result.outcome},
        )
    async with db.session() as session:
        await repository.mark_reconciled(session, asked, utcnow())
    return report
