from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from order_service.admin import service
from order_service.admin.schemas import AdminAction, Refund
from order_service.context import ContextDep
from order_service.orders import service as orders
from order_service.orders.models import OrderStatus
from order_service.orders.repository import search
from order_service.orders.schemas import OrderDetail, OrderView
from order_service.provisioning import service as provisioning
from webrana_common.auth.dependencies import AdminUser
from webrana_common.db.session import ReadSessionDep, SessionDep
from webrana_common.openapi import ADMIN_AUTH, problems
from webrana_common.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, make_page

router = APIRouter(prefix="/api/v1/admin/orders", tags=["admin"])


def _actor(admin: AdminUser) -> str:
    return f"admin:{admin.user_id}"


async def _detail(session: SessionDep, order_id: uuid.UUID) -> OrderDetail:
    order = await orders.get(session, order_id)
    return OrderDetail.build(order, await orders.timeline(session, order), for_admin=True)


@router.get("", summary="Search orders", responses=problems(**ADMIN_AUTH))
async def search_orders(
    _admin: AdminUser,
    session: ReadSessionDep,
    status: OrderStatus | None = None,
    user_id: uuid.UUID | None = None,
    provider: Annotated[str | None, Query(max_length=40)] = None,
    q: Annotated[
        str | None,
        Query(max_length=100, description="Order number, hostname, IPv4 or provider server id"),
    ] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Page[OrderView]:
    rows = await search(
        session,
        user_id=user_id,
        status=status,
        provider=provider,
        query=q,
        cursor=cursor,
        limit=limit,
    )
    items, next_cursor = make_page(rows, limit)
    return Page[OrderView](items=[OrderView.of(o) for o in items], next_cursor=next_cursor)


@router.get(
    "/{order_id}",
    summary="An order with its full timeline (actors named)",
    responses=problems(**ADMIN_AUTH, s404="order_not_found"),
)
async def get_order(order_id: uuid.UUID, _admin: AdminUser, session: ReadSessionDep) -> OrderDetail:
    return await _detail(session, order_id)


@router.post(
    "/{order_id}/retry-provisioning",
    summary="Provision a PROVISIONING_FAILED order again",
    responses=problems(**ADMIN_AUTH, s404="order_not_found", s409="order_not_retryable"),
)
async def retry_provisioning(
    order_id: uuid.UUID, body: AdminAction, admin: AdminUser, session: SessionDep, ctx: ContextDep
) -> OrderDetail:
    order = await orders.get(session, order_id, lock=True)
    await provisioning.retry(session, ctx, order, actor=_actor(admin), reason=body.reason)
    return await _detail(session, order_id)


@router.post(
    "/{order_id}/cancel",
    summary="Cancel an unpaid order, or give up a failed one",
    responses=problems(**ADMIN_AUTH, s404="order_not_found", s409="order_not_cancellable"),
)
async def cancel_order(
    order_id: uuid.UUID, body: AdminAction, admin: AdminUser, session: SessionDep, ctx: ContextDep
) -> OrderDetail:
    order = await orders.get(session, order_id, lock=True)
    await orders.cancel(session, ctx, order, actor=_actor(admin), reason=body.reason, admin=True)
    return await _detail(session, order_id)


@router.post(
    "/{order_id}/refund",
    summary="Refund a paid order that got no server to the customer's wallet",
    responses=problems(**ADMIN_AUTH, s404="order_not_found", s409="order_not_refundable"),
)
async def refund_order(
    order_id: uuid.UUID, body: Refund, admin: AdminUser, session: SessionDep
) -> OrderDetail:
    order = await orders.get(session, order_id, lock=True)
    await service.refund(session, order, body.amount, actor=_actor(admin), reason=body.reason)
    return await _detail(session, order_id)
