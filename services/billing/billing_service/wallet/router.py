from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from billing_service.dependencies import DEFAULT_PAGE, Cursor, Limit, SettingsDep
from billing_service.invoices.schemas import InvoiceView
from billing_service.wallet import ledger, service
from billing_service.wallet.schemas import (
    DebitRequest,
    LedgerEntryView,
    RefundRequest,
    TopupRequest,
    WalletMovement,
    WalletView,
)
from webrana_common.auth.api_keys import Internal
from webrana_common.auth.dependencies import CurrentUser
from webrana_common.db.session import ReadSessionDep, SessionDep
from webrana_common.openapi import INTERNAL_AUTH, problems
from webrana_common.pagination import Page, make_page

router = APIRouter(prefix="/api/v1/billing/wallet", tags=["wallet"])
internal_router = APIRouter(prefix="/internal", tags=["internal"])
USER_AUTH = {"s401": "token_missing token_invalid"}
KINDS = "^(deposit|order_payment|refund|promo_bonus|adjustment|deposit_reversal)$"


def _movement(movement: service.Movement) -> WalletMovement:
    return WalletMovement(
        entry_id=movement.entry.id,
        user_id=movement.entry.user_id,
        order_id=movement.entry.order_id,
        amount=movement.entry.amount,
        balance=movement.balance,
        replayed=movement.replayed,
        invoice_id=movement.invoice.id if movement.invoice else None,
        invoice_status=movement.invoice.status if movement.invoice else None,
    )


@router.get("", summary="My wallet balance", responses=problems(**USER_AUTH))
async def my_wallet(user: CurrentUser, session: ReadSessionDep) -> WalletView:
    wallet = await ledger.get(session, user.user_id)
    return WalletView(user_id=user.user_id, balance=wallet.balance if wallet else 0)


@router.get(
    "/ledger", summary="My wallet's movements, newest first", responses=problems(**USER_AUTH)
)
async def my_ledger(
    user: CurrentUser,
    session: ReadSessionDep,
    kind: Annotated[str | None, Query(pattern=KINDS)] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_PAGE,
) -> Page[LedgerEntryView]:
    rows = await ledger.entries(session, user.user_id, kind=kind, cursor=cursor, limit=limit)
    items, next_cursor = make_page(rows, limit)
    return Page(items=[LedgerEntryView.of(e) for e in items], next_cursor=next_cursor)


@router.post(
    "/topups",
    status_code=status.HTTP_201_CREATED,
    summary="Top up my wallet",
    description="Creates a deposit invoice (WALLET_TOPUP_MIN..MAX); pay it like any invoice "
    "(`POST /api/v1/billing/invoices/{id}/pay`). Once Tripay confirms, the amount (and a "
    "deposit promo's bonus) is credited and WALLET_TOPUP is sent.",
    responses=problems(
        **USER_AUTH,
        s422="topup_amount_out_of_range promo_unknown promo_inactive promo_not_started "
        "promo_expired promo_not_applicable promo_min_amount promo_exhausted promo_user_limit "
        "validation_error",
    ),
)
async def topup(
    body: TopupRequest, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> InvoiceView:
    invoice = await service.topup(
        session, settings, user_id=user.user_id, amount=body.amount, promo_code=body.promo_code
    )
    return InvoiceView.of(invoice)


@internal_router.post(
    "/wallet/debit",
    status_code=status.HTTP_201_CREATED,
    summary="Pay an order from the wallet (service-to-service)",
    description="One atomic debit; the balance never goes below zero. Idempotent on "
    "`idempotency_key` (the same key answers the same entry with `replayed: true`; with "
    "another amount/user/order it is 409 `idempotency_key_reused`). If the order has a "
    "PENDING invoice it becomes PAID by this debit, and the order service also hears PAID "
    "through the usual payment-status message.",
    responses=problems(
        **INTERNAL_AUTH,
        s409="insufficient_balance idempotency_key_reused invoice_not_payable invoice_conflict",
    ),
)
async def debit(
    body: DebitRequest, session: SessionDep, caller: Internal, response: Response
) -> WalletMovement:
    movement = await service.debit_for_order(session, body, actor=f"service:{caller.name}")
    if movement.replayed:
        response.status_code = status.HTTP_200_OK
    return _movement(movement)


@internal_router.post(
    "/wallet/refund",
    status_code=status.HTTP_201_CREATED,
    summary="Refund (part of) an order to the wallet (service-to-service)",
    description="Idempotent on `idempotency_key`. All refunds of an order together never "
    "exceed what was paid for it (409 `refund_exceeds_payment`). A full refund marks the "
    "order's invoice REFUNDED (no message back to the order service). An invoice Tripay "
    "refunded has nothing left to refund.",
    responses=problems(
        **INTERNAL_AUTH, s409="refund_exceeds_payment idempotency_key_reused invoice_conflict"
    ),
)
async def refund(
    body: RefundRequest, session: SessionDep, caller: Internal, response: Response
) -> WalletMovement:
    movement = await service.refund_for_order(session, body, actor=f"service:{caller.name}")
    if movement.replayed:
        response.status_code = status.HTTP_200_OK
    return _movement(movement)


@internal_router.get(
    "/wallets/{user_id}",
    summary="A user's wallet balance (service-to-service)",
    responses=problems(**INTERNAL_AUTH),
)
async def internal_wallet(
    user_id: uuid.UUID, session: ReadSessionDep, _caller: Internal
) -> WalletView:
    wallet = await ledger.get(session, user_id)
    return WalletView(user_id=user_id, balance=wallet.balance if wallet else 0)
