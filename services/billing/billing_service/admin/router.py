from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse

from billing_service.admin import csv_export, service
from billing_service.admin.schemas import (
    AdminInvoiceDetail,
    AuditView,
    MarkPaidRequest,
    ResolveFlagRequest,
    TransactionView,
)
from billing_service.audit import repository as audit
from billing_service.dependencies import DEFAULT_PAGE, Cursor, Limit
from billing_service.invoices import repository as invoices
from billing_service.invoices.schemas import InternalInvoiceView
from billing_service.numbers import JAKARTA
from billing_service.payments import repository as payments
from billing_service.wallet import ledger
from billing_service.wallet import service as wallet
from billing_service.wallet.schemas import (
    AdjustmentRequest,
    AdminLedgerEntryView,
    ConsistencyReport,
    WalletMovement,
)
from webrana_common.auth.dependencies import AdminUser
from webrana_common.db.session import ReadSessionDep, SessionDep
from webrana_common.openapi import ADMIN_AUTH, problems
from webrana_common.pagination import Page, make_page

router = APIRouter(prefix="/api/v1/admin/billing", tags=["admin: billing"])
PAYMENT_STATUS = "^(UNPAID|PAID|EXPIRED|FAILED|REFUNDED|ABANDONED)$"
INVOICE_STATUS = "^(PENDING|PAID|EXPIRED|CANCELLED|REFUNDED)$"


def _when(value: datetime | None) -> datetime | None:
    # A date or time without a zone is a Jakarta one (what admins read on their invoices).
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=JAKARTA)
    return value


async def transaction_filters(
    status: Annotated[str | None, Query(pattern=PAYMENT_STATUS)] = None,
    channel: Annotated[str | None, Query(max_length=30)] = None,
    method: Annotated[str | None, Query(pattern="^(tripay|wallet|manual)$")] = None,
    user_id: uuid.UUID | None = None,
    invoice_number: Annotated[str | None, Query(max_length=20)] = None,
    date_from: Annotated[datetime | None, Query(description="Inclusive; no zone = Jakarta")] = None,
    date_to: Annotated[datetime | None, Query(description="Exclusive; no zone = Jakarta")] = None,
) -> dict[str, Any]:
    return {
        "status": status,
        "channel": channel,
        "method": method,
        "user_id": user_id,
        "invoice_number": invoice_number,
        "date_from": _when(date_from),
        "date_to": _when(date_to),
    }


Filters = Annotated[dict[str, Any], Depends(transaction_filters)]


@router.get(
    "/transactions",
    summary="Payments (Tripay transactions, wallet payments, manual ones), newest first",
    responses=problems(**ADMIN_AUTH),
)
async def list_transactions(
    _admin: AdminUser,
    session: ReadSessionDep,
    filters: Filters,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_PAGE,
) -> Page[TransactionView]:
    rows = await payments.transactions(session, filters, cursor=cursor, limit=limit)
    items, next_cursor = make_page([p for p, _ in rows], limit)
    by_id = {p.id: i for p, i in rows}
    return Page(items=[TransactionView.of(p, by_id[p.id]) for p in items], next_cursor=next_cursor)


@router.get(
    "/transactions.csv",
    summary="The same transactions as CSV (all pages, at most 100 000 rows)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}, **problems(**ADMIN_AUTH)},
)
async def export_transactions(
    _admin: AdminUser, request: Request, filters: Filters
) -> StreamingResponse:
    stamp = datetime.now(JAKARTA).strftime("%Y%m%d-%H%M")
    return StreamingResponse(
        csv_export.stream(request.app.state.db, filters),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="transactions-{stamp}.csv"'},
    )


@router.get(
    "/invoices",
    summary="Invoices, newest first (flagged=true: those held for review)",
    responses=problems(**ADMIN_AUTH),
)
async def list_invoices(
    _admin: AdminUser,
    session: ReadSessionDep,
    status: Annotated[str | None, Query(pattern=INVOICE_STATUS)] = None,
    kind: Annotated[str | None, Query(pattern="^(order|deposit)$")] = None,
    flagged: bool | None = None,
    user_id: uuid.UUID | None = None,
    number: Annotated[str | None, Query(max_length=20)] = None,
    order_id: uuid.UUID | None = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_PAGE,
) -> Page[InternalInvoiceView]:
    rows = await invoices.search(
        session,
        user_id=user_id,
        status=status,
        kind=kind,
        flagged=flagged,
        number=number,
        order_id=order_id,
        cursor=cursor,
        limit=limit,
    )
    items, next_cursor = make_page(rows, limit)
    return Page(items=[InternalInvoiceView.of(i) for i in items], next_cursor=next_cursor)


@router.get(
    "/invoices/{invoice_id}",
    summary="An invoice's full story: payments, raw Tripay callbacks, events, audit",
    responses=problems(**ADMIN_AUTH, s404="invoice_not_found"),
)
async def invoice_detail(
    invoice_id: uuid.UUID, _admin: AdminUser, session: ReadSessionDep
) -> AdminInvoiceDetail:
    return await service.invoice_detail(session, invoice_id)


@router.post(
    "/invoices/{invoice_id}/mark-paid",
    summary="Mark an unpaid invoice paid by hand (audited)",
    description="For money that reached us outside Tripay, or a flagged payment accepted "
    "after review. Settles exactly like a callback: the order hears PAID, a top-up is "
    "credited. Clears the review flag.",
    responses=problems(
        **ADMIN_AUTH, s404="invoice_not_found", s409="invoice_not_payable", s422="validation_error"
    ),
)
async def mark_paid(
    invoice_id: uuid.UUID, body: MarkPaidRequest, admin: AdminUser, session: SessionDep
) -> InternalInvoiceView:
    invoice = await service.mark_paid(
        session, invoice_id, admin_id=admin.user_id, reason=body.reason, reference=body.reference
    )
    return InternalInvoiceView.of(invoice)


@router.post(
    "/invoices/{invoice_id}/resolve-flag",
    summary="Clear an invoice's review flag (audited)",
    responses=problems(**ADMIN_AUTH, s404="invoice_not_found", s409="invoice_not_flagged"),
)
async def resolve(
    invoice_id: uuid.UUID, body: ResolveFlagRequest, admin: AdminUser, session: SessionDep
) -> InternalInvoiceView:
    invoice = await service.clear_flag(
        session, invoice_id, admin_id=admin.user_id, reason=body.reason
    )
    return InternalInvoiceView.of(invoice)


@router.get(
    "/wallets/consistency",
    summary="Check that every wallet's balance equals the sum of its ledger",
    responses=problems(**ADMIN_AUTH),
)
async def consistency(_admin: AdminUser, session: ReadSessionDep) -> ConsistencyReport:
    checked, mismatches = await wallet.consistency(session)
    return ConsistencyReport(
        wallets_checked=checked,
        consistent=not mismatches,
        mismatches=[{"user_id": str(u), "balance": b, "ledger_sum": s} for u, b, s in mismatches],
    )


@router.get(
    "/wallets/{user_id}/ledger",
    summary="A user's wallet movements with actors and reasons",
    responses=problems(**ADMIN_AUTH),
)
async def user_ledger(
    user_id: uuid.UUID,
    _admin: AdminUser,
    session: ReadSessionDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_PAGE,
) -> Page[AdminLedgerEntryView]:
    rows = await ledger.entries(session, user_id, kind=None, cursor=cursor, limit=limit)
    items, next_cursor = make_page(rows, limit)
    return Page(items=[AdminLedgerEntryView.of(e) for e in items], next_cursor=next_cursor)


@router.post(
    "/wallets/{user_id}/adjustments",
    status_code=201,
    summary="Credit or debit a wallet by hand, with a reason (audited)",
    description="Send an `Idempotency-Key` (a form's token) so that a double click or a retried "
    "request replays the first adjustment (`replayed: true`, the balance after it) instead of "
    "making a second one; the same key with another amount or reason is 409.",
    responses=problems(
        **ADMIN_AUTH, s409="insufficient_balance adjustment_zero idempotency_key_reused"
    ),
)
async def adjust(
    user_id: uuid.UUID,
    body: AdjustmentRequest,
    admin: AdminUser,
    session: SessionDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=150)] = None,
) -> WalletMovement:
    movement = await wallet.adjust(
        session,
        admin_id=admin.user_id,
        user_id=user_id,
        amount=body.amount,
        reason=body.reason,
        idempotency_key=idempotency_key,
    )
    return WalletMovement(
        entry_id=movement.entry.id,
        user_id=user_id,
        order_id=None,
        amount=movement.entry.amount,
        balance=movement.balance,
        replayed=movement.replayed,
    )


@router.get("/audit", summary="What admins did in billing", responses=problems(**ADMIN_AUTH))
async def audit_trail(
    _admin: AdminUser,
    session: ReadSessionDep,
    subject_type: Annotated[str | None, Query(max_length=30)] = None,
    subject_id: Annotated[str | None, Query(max_length=100)] = None,
    action: Annotated[str | None, Query(max_length=60)] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_PAGE,
) -> Page[AuditView]:
    rows = await audit.search(
        session,
        subject_type=subject_type,
        subject_id=subject_id,
        action=action,
        cursor=cursor,
        limit=limit,
    )
    items, next_cursor = make_page(rows, limit)
    return Page(items=[AuditView.of(a) for a in items], next_cursor=next_cursor)
