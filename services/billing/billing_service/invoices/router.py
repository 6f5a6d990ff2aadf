from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status

from billing_service.dependencies import DEFAULT_PAGE, Cursor, Limit, SettingsDep
from billing_service.errors import InvoiceNotFound
from billing_service.invoices import repository, service
from billing_service.invoices.models import InvoiceStatus
from billing_service.invoices.schemas import (
    CancelInvoice,
    CreateInvoice,
    InternalInvoiceView,
    InvoiceDetail,
    InvoiceView,
)
from billing_service.payments import repository as payments
from billing_service.payments.schemas import PaymentInstructions
from webrana_common.auth.api_keys import Internal
from webrana_common.auth.dependencies import CurrentUser
from webrana_common.db.session import DatabaseDep, ReadSessionDep, SessionDep
from webrana_common.openapi import INTERNAL_AUTH, problems
from webrana_common.pagination import Page, make_page

router = APIRouter(prefix="/api/v1/billing", tags=["invoices"])
internal_router = APIRouter(prefix="/internal", tags=["internal"])
USER_AUTH = {"s401": "token_missing token_invalid"}


@router.get("/invoices", summary="My invoices, newest first", responses=problems(**USER_AUTH))
async def list_invoices(
    user: CurrentUser,
    session: ReadSessionDep,
    status_: Annotated[
        str | None, Query(alias="status", pattern="^(PENDING|PAID|EXPIRED|CANCELLED|REFUNDED)$")
    ] = None,
    kind: Annotated[str | None, Query(pattern="^(order|deposit)$")] = None,
    order_id: Annotated[
        uuid.UUID | None,
        Query(description="Only the invoice of this order of mine (an order page's Pay button)"),
    ] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_PAGE,
) -> Page[InvoiceView]:
    rows = await service.list_for_user(
        session,
        user.user_id,
        status=status_,
        kind=kind,
        order_id=order_id,
        cursor=cursor,
        limit=limit,
    )
    items, next_cursor = make_page(rows, limit)
    return Page(items=[InvoiceView.of(i) for i in items], next_cursor=next_cursor)


@router.get(
    "/invoices/{invoice_id}",
    summary="One of my invoices, with how to pay it",
    description="`payment` is the open transaction (pay code, QR string, checkout URL, steps) "
    "while the invoice is PENDING, else the payment that settled it. Someone else's invoice "
    "is 404.",
    responses=problems(**USER_AUTH, s404="invoice_not_found"),
)
async def get_invoice(
    invoice_id: uuid.UUID, user: CurrentUser, session: ReadSessionDep
) -> InvoiceDetail:
    invoice = await service.get_for_user(session, invoice_id, user.user_id)
    # Only a PENDING invoice shows a way to pay: money for a transaction left UNPAID on a paid
    # or closed invoice would only end up in the wallet, flagged for review.
    payment = None
    if invoice.status == InvoiceStatus.PENDING:
        payment = await payments.current(session, invoice.id)
    payment = payment or await payments.latest_paid(session, invoice.id)
    return InvoiceDetail(
        **InvoiceView.of(invoice).model_dump(),
        payment=PaymentInstructions.of(payment, invoice.amount) if payment else None,
    )


@router.post(
    "/invoices/{invoice_id}/cancel",
    summary="Cancel one of my unpaid invoices",
    description="The order of an order invoice is cancelled with it (the order service hears "
    "CANCELLED). Cancelling one already cancelled or expired changes nothing.",
    responses=problems(
        **USER_AUTH,
        s404="invoice_not_found",
        s409="invoice_not_cancellable invoice_under_review",
    ),
)
async def cancel_invoice(
    invoice_id: uuid.UUID, user: CurrentUser, session: SessionDep
) -> InvoiceView:
    invoice = await service.cancel(
        session,
        invoice_id,
        owner=user.user_id,
        actor=f"user:{user.user_id}",
        reason="cancelled by the customer",
    )
    return InvoiceView.of(invoice)


@internal_router.post(
    "/invoices",
    status_code=status.HTTP_201_CREATED,
    summary="Create an invoice (service-to-service)",
    description="Idempotent on `order_id` for order invoices (and on `Idempotency-Key` for "
    "others): the same order again answers 200 with the existing invoice; the same order with "
    "another user or amount is 409 `invoice_conflict`. Items, when given, must add up to "
    "`amount` (a discount line may be negative). Expiry: `expires_at`, or `expires_in` "
    "seconds, or INVOICE_TTL_MINUTES.",
    responses={
        200: {"model": InternalInvoiceView, "description": "Exists already (same order)"},
        **problems(
            **INTERNAL_AUTH,
            s409="invoice_conflict",
            s422="invoice_items_mismatch invoice_expiry_invalid validation_error",
        ),
    },
)
async def create_invoice(
    body: CreateInvoice,
    response: Response,
    db: DatabaseDep,
    settings: SettingsDep,
    caller: Internal,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=150)] = None,
) -> InternalInvoiceView:
    async with db.transaction() as transaction:
        invoice, created = await service.create_now(
            transaction,
            settings,
            body,
            actor=f"service:{caller.name}",
            idempotency_key=f"{caller.name}:{idempotency_key}" if idempotency_key else None,
        )
    if not created:
        response.status_code = status.HTTP_200_OK
    return InternalInvoiceView.of(invoice)


@internal_router.get(
    "/invoices/{invoice_id}",
    summary="An invoice (service-to-service)",
    responses=problems(**INTERNAL_AUTH, s404="invoice_not_found"),
)
async def internal_invoice(
    invoice_id: uuid.UUID, session: ReadSessionDep, _caller: Internal
) -> InternalInvoiceView:
    return InternalInvoiceView.of(await service.get(session, invoice_id))


@internal_router.get(
    "/orders/{order_id}/invoice",
    summary="The invoice of an order (service-to-service)",
    responses=problems(**INTERNAL_AUTH, s404="invoice_not_found"),
)
async def invoice_of_order(
    order_id: uuid.UUID, session: ReadSessionDep, _caller: Internal
) -> InternalInvoiceView:
    invoice = await repository.by_order(session, order_id)
    if invoice is None:
        raise InvoiceNotFound(f"No invoice for order {order_id}")
    return InternalInvoiceView.of(invoice)


@internal_router.post(
    "/invoices/{invoice_id}/cancel",
    summary="Cancel an unpaid invoice (service-to-service)",
    description="For the order service cancelling an order: no CANCELLED message is sent back "
    "to it. Idempotent: an invoice already cancelled or expired is answered as it is. A paid "
    "one is 409 `invoice_not_cancellable` (refund instead).",
    responses=problems(
        **INTERNAL_AUTH,
        s404="invoice_not_found",
        s409="invoice_not_cancellable invoice_under_review",
    ),
)
async def internal_cancel(
    invoice_id: uuid.UUID, body: CancelInvoice, session: SessionDep, caller: Internal
) -> InternalInvoiceView:
    invoice = await service.cancel(
        session,
        invoice_id,
        actor=f"service:{caller.name}",
        reason=body.reason or f"cancelled by {caller.name}",
        tell_order=False,
    )
    return InternalInvoiceView.of(invoice)
