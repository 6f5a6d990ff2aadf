from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response, status

from billing_service.dependencies import ContextDep, SettingsDep
from billing_service.invoices import service as invoices
from billing_service.payments import callbacks, service
from billing_service.payments.schemas import (
    CallbackAnswer,
    ChannelOptions,
    PaymentInstructions,
    PayRequest,
)
from billing_service.wallet import service as wallet
from webrana_common.auth.dependencies import CurrentUser
from webrana_common.db.session import DatabaseDep, ReadSessionDep
from webrana_common.openapi import problems

router = APIRouter(prefix="/api/v1/billing", tags=["payments"])
webhook_router = APIRouter(prefix="/api/v1/billing/callbacks", tags=["webhooks"])
USER_AUTH = {"s401": "token_missing token_invalid"}


@router.get(
    "/invoices/{invoice_id}/channels",
    summary="How I can pay this invoice, with each channel's fee",
    description="Every active Tripay channel with the fee the customer pays on top (per "
    "FEE_BORNE_BY) and the total, and whether it can take this invoice (amount limits, time "
    "left). For order invoices, `wallet_balance` tells whether channel WALLET can pay it.",
    responses=problems(**USER_AUTH, s404="invoice_not_found", s503="tripay_unavailable"),
)
async def channels(
    invoice_id: uuid.UUID, user: CurrentUser, session: ReadSessionDep, context: ContextDep
) -> ChannelOptions:
    invoice = await invoices.get_for_user(session, invoice_id, user.user_id)
    return await service.channel_options(session, context, invoice)


@router.post(
    "/invoices/{invoice_id}/pay",
    status_code=status.HTTP_201_CREATED,
    summary="Pay an invoice with a channel",
    description="Creates a closed Tripay transaction and answers how to pay it (201). Asking "
    "again with the same channel answers the open transaction (200), not a new one; another "
    "channel abandons it and makes a new one. `WALLET` pays an order invoice from the wallet "
    "at once.",
    responses={
        200: {"model": PaymentInstructions, "description": "The open transaction, again"},
        **problems(
            **USER_AUTH,
            s404="invoice_not_found",
            s409="invoice_not_payable invoice_expired invoice_under_review insufficient_balance "
            "wallet_payment_not_allowed",
            s422="channel_unknown channel_amount_out_of_range channel_window_too_short "
            "customer_phone_required validation_error",
            s502="tripay_rejected tripay_error",
            s503="tripay_unavailable auth_unavailable",
        ),
    },
)
async def pay(
    invoice_id: uuid.UUID,
    body: PayRequest,
    response: Response,
    user: CurrentUser,
    db: DatabaseDep,
    context: ContextDep,
) -> PaymentInstructions:
    if body.channel.strip().upper() == wallet.WALLET:
        async with db.session() as session:
            payment = await service.pay_from_wallet(session, invoice_id, user_id=user.user_id)
            invoice = await invoices.get(session, payment.invoice_id)
        return PaymentInstructions.of(payment, invoice.amount)
    async with db.transaction() as transaction:
        payment, created, invoice = await service.pay(
            transaction, context, invoice_id, user_id=user.user_id, channel_code=body.channel
        )
    if not created:
        response.status_code = status.HTTP_200_OK
    return PaymentInstructions.of(payment, invoice.amount)


@webhook_router.post(
    "/tripay",
    summary="Tripay payment_status callback (public, signed)",
    description="Verified by HMAC-SHA256 of the raw body with the merchant's private key "
    "against `X-Callback-Signature` (constant-time); `X-Callback-Event: payment_status` is "
    'required. Answers `{"success": true}` once recorded, duplicates included (Tripay '
    "retries). A bad signature is 403 and changes nothing.",
    responses=problems(s400="callback_event_missing callback_malformed", s403="invalid_signature"),
)
async def tripay_callback(
    request: Request,
    db: DatabaseDep,
    settings: SettingsDep,
    signature: Annotated[str | None, Header(alias="X-Callback-Signature")] = None,
    event: Annotated[str | None, Header(alias="X-Callback-Event")] = None,
) -> CallbackAnswer:
    # The exact bytes Tripay signed: read before anything parses the body.
    raw = await request.body()
    await callbacks.receive(db, settings, raw, signature=signature, event=event)
    return CallbackAnswer(success=True)
