from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status

from order_service.context import ContextDep
from order_service.errors import OrderNotFound
from order_service.orders import payments, repository, service
from order_service.orders.models import OrderStatus
from order_service.orders.schemas import (
    CancelOrder,
    CreateOrder,
    OrderDetail,
    OrderView,
    PaymentStatusBody,
    PaymentStatusResult,
)
from webrana_common.auth.api_keys import Internal
from webrana_common.auth.dependencies import CurrentUser
from webrana_common.db.session import DatabaseDep, ReadSessionDep, SessionDep
from webrana_common.openapi import INTERNAL_AUTH, problems
from webrana_common.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, make_page

router = APIRouter(prefix="/api/v1/orders", tags=["orders"])
internal_router = APIRouter(prefix="/internal/orders", tags=["internal"])

USER_AUTH = {"s401": "token_missing token_invalid"}
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="A retried POST with the same key returns the same order",
    ),
]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Order a server",
    description="The price is the catalog's (never the client's); a promo is applied through "
    "billing. `tripay`: the order waits in PENDING_PAYMENT for its invoice to be paid. "
    "`invoice_id` and `invoice_number` are set when billing made the invoice within a moment "
    "(`ORDER_INVOICE_WAIT_SECONDS`); otherwise find it with `GET /api/v1/billing/invoices"
    "?order_id=`. `wallet`: the wallet is debited now and the order is PAID at once. With an "
    "`Idempotency-Key`, a retry (also a concurrent one) returns the same order with "
    "`Idempotent-Replayed: true`.",
    responses=problems(
        **USER_AUTH,
        s409="idempotency_key_reused insufficient_balance promo_already_applied",
        s422="validation_error unknown_plan plan_inactive region_not_offered image_not_offered "
        "unknown_region unknown_image promo_unknown promo_expired promo_inactive "
        "promo_not_started promo_not_applicable promo_min_amount promo_exhausted "
        "promo_user_limit promo_first_order_only",
        s503="dependency_unavailable",
    ),
)
async def create_order(
    body: CreateOrder,
    user: CurrentUser,
    ctx: ContextDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> OrderDetail:
    async with ctx.db.transaction() as transaction:
        placed = await service.create(
            transaction, ctx, body, user_id=user.user_id, idempotency_key=idempotency_key
        )
        events = placed.events
        if events is None:  # a replay: the first request's timeline, as stored
            events = await service.timeline_now(transaction, placed.order)
    order = placed.order
    if not placed.created:
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"/api/v1/orders/{order.id}"
    detail = OrderDetail.build(order, events)
    if placed.invoice is not None:
        # Committed above, before the answer: billing is asked for the invoice only after
        # the commit, and its answer saves the client a lookup.
        made = await service.invoice_made(ctx, order, placed.invoice)
        if made is not None:
            detail.invoice_id, detail.invoice_number = made
    return detail


@router.get("", summary="My orders, newest first", responses=problems(**USER_AUTH))
async def list_orders(
    user: CurrentUser,
    session: ReadSessionDep,
    status_: Annotated[OrderStatus | None, Query(alias="status")] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Page[OrderView]:
    rows = await service.list_for_user(
        session, user.user_id, status=status_, cursor=cursor, limit=limit
    )
    items, next_cursor = make_page(rows, limit)
    return Page[OrderView](items=[OrderView.of(o) for o in items], next_cursor=next_cursor)


@router.get(
    "/{order_id}",
    summary="One of my orders, with its timeline",
    responses=problems(**USER_AUTH, s404="order_not_found"),
)
async def get_order(order_id: uuid.UUID, user: CurrentUser, db: DatabaseDep) -> OrderDetail:
    order, events = await service.detail_for_user(db, order_id, user.user_id)
    return OrderDetail.build(order, events)


@router.post(
    "/{order_id}/cancel",
    summary="Cancel an unpaid order",
    description="Cancels its invoice and releases its promo. Cancelling a cancelled order again "
    "answers 409 like any other status.",
    responses=problems(**USER_AUTH, s404="order_not_found", s409="order_not_cancellable"),
)
async def cancel_order(
    order_id: uuid.UUID,
    user: CurrentUser,
    session: SessionDep,
    ctx: ContextDep,
    body: CancelOrder | None = None,
) -> OrderDetail:
    order = await service.get_for_user(session, order_id, user.user_id)
    order = await service.get(session, order.id, lock=True)
    reason = (body.reason if body else None) or "cancelled by the customer"
    await service.cancel(session, ctx, order, actor=f"user:{user.user_id}", reason=reason)
    return OrderDetail.build(order, await service.timeline(session, order))


@internal_router.post(
    "/{order_id}/payment-status",
    summary="Billing's news about an order's payment (idempotent)",
    description="PAID moves a PENDING_PAYMENT order to PAID and starts provisioning; EXPIRED / "
    "CANCELLED close an unpaid order and release its promo; REFUNDED is recorded. News already "
    "known is acknowledged with `applied: false`.",
    responses=problems(**INTERNAL_AUTH, s404="order_not_found"),
)
async def payment_status(
    order_id: uuid.UUID,
    body: PaymentStatusBody,
    ctx: ContextDep,
    _caller: Internal,
) -> PaymentStatusResult:
    async with ctx.db.transaction() as transaction:
        order = await repository.lock_row(transaction.connection, order_id)
        if order is None:
            raise OrderNotFound(f"No order {order_id}")
        applied = await payments.apply(transaction, ctx, order, body)
    return PaymentStatusResult(order_id=order.id, status=OrderStatus(order.status), applied=applied)
