"""Tripay's `payment_status` callback: authenticated by HMAC-SHA256 over the raw body bytes
(checked before anything is parsed or stored), then applied like any Tripay status and kept
byte for byte in `tripay_callbacks` for admins. The common case (an order invoice paid as
asked) is settled on the driver's connection (`settlement.paid_now`); anything else in an ORM
unit of work (`settlement.apply`)."""

from __future__ import annotations

import json
import logging
import uuid

from pydantic import ValidationError

from billing_service.config import BillingSettings
from billing_service.errors import CallbackEventMissing, CallbackMalformed, InvalidCallbackSignature
from billing_service.payments import settlement
from billing_service.payments.models import TripayCallback
from billing_service.tripay.schemas import Callback
from billing_service.tripay.signatures import callback_signature_valid
from webrana_common.db import raw
from webrana_common.db.session import Database

log = logging.getLogger("billing.callbacks")
PAYMENT_STATUS = "payment_status"
MAX_STORED_BODY = 20_000


async def receive(
    db: Database,
    settings: BillingSettings,
    raw_body: bytes,
    *,
    signature: str | None,
    event: str | None,
) -> settlement.Settlement:
    if not callback_signature_valid(
        settings.tripay_private_key.get_secret_value(), raw_body, signature
    ):
        # Nothing is stored for these: anyone can send them.
        log.warning("tripay callback with a bad signature refused", extra={"size": len(raw_body)})
        raise InvalidCallbackSignature("X-Callback-Signature does not match the body")
    if not event:
        raise CallbackEventMissing("X-Callback-Event: payment_status is required")
    text = raw_body.decode("utf-8", errors="replace")[:MAX_STORED_BODY]
    if event != PAYMENT_STATUS:
        # Events Tripay may add later: acknowledged (no retries), kept, not acted on.
        async with db.session() as session:
            session.add(_row(None, text, event, settlement.Settlement("ignored", None, event)))
        return settlement.Settlement("ignored", None, f"event {event}")
    try:
        callback = Callback.model_validate(json.loads(raw_body))
    except (ValueError, ValidationError) as exc:
        raise CallbackMalformed(f"Not a payment_status body: {str(exc)[:200]}") from exc
    status = settlement.TripayStatus.of_callback(callback)
    async with db.transaction() as transaction:
        result = await settlement.paid_now(transaction, status, actor="tripay")
        if result is not None:
            await raw.insert(transaction.connection, _row(callback, text, event, result))
    if result is None:
        async with db.session() as session:
            result = await settlement.apply(
                session, settings.alert_user_ids(), status, actor="tripay"
            )
            session.add(_row(callback, text, event, result))
    log.info(
        "tripay callback",
        extra={
            "reference": callback.reference,
            "status": callback.status,
            "outcome": result.outcome,
        },
    )
    return result


def _row(
    callback: Callback | None,
    text: str,
    event: str,
    result: settlement.Settlement,
) -> TripayCallback:
    return TripayCallback(
        id=uuid.uuid4(),
        reference=callback.reference if callback else None,
        merchant_ref=callback.merchant_ref if callback else None,
        status=callback.status[:12] if callback else None,
        event=event[:40],
        invoice_id=result.invoice_id,
        raw_body=text,
        outcome=result.outcome,
        detail=result.detail[:500] if result.detail else None,
    )
