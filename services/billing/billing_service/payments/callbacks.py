"""Tripay's `payment_status` callback: authenticated by HMAC-SHA256 over the raw body bytes
(checked before anything is parsed or stored), then applied like any Tripay status and kept
byte for byte in `tripay_callbacks` for admins."""

from __future__ import annotations

import json
import logging
import uuid

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from billing_service.config import BillingSettings
from billing_service.errors import CallbackEventMissing, CallbackMalformed, InvalidCallbackSignature
from billing_service.payments import settlement
from billing_service.payments.models import TripayCallback
from billing_service.tripay.schemas import Callback
from billing_service.tripay.signatures import callback_signature_valid

log = logging.getLogger("billing.callbacks")
PAYMENT_STATUS = "payment_status"
MAX_STORED_BODY = 20_000


async def receive(
    session: AsyncSession,
    settings: BillingSettings,
    raw: bytes,
    *,
    signature: str | None,
    event: str | None,
) -> settlement.Settlement:
    if not callback_signature_valid(settings.tripay_private_key.get_secret_value(), raw, signature):
        # Nothing is stored for these: anyone can send them.
        log.warning("tripay callback with a bad signature refused", extra={"size": len(raw)})
        raise InvalidCallbackSignature("X-Callback-Signature does not match the body")
    if not event:
        raise CallbackEventMissing("X-Callback-Event: payment_status is required")
    text = raw.decode("utf-8", errors="replace")[:MAX_STORED_BODY]
    if event != PAYMENT_STATUS:
        # Events Tripay may add later: acknowledged (no retries), kept, not acted on.
        _store(session, None, text, event, settlement.Settlement("ignored", None, event))
        return settlement.Settlement("ignored", None, f"event {event}")
    try:
        callback = Callback.model_validate(json.loads(raw))
    except (ValueError, ValidationError) as exc:
        raise CallbackMalformed(f"Not a payment_status body: {str(exc)[:200]}") from exc
    result = await settlement.apply(
        session,
        settings.alert_user_ids(),
        settlement.TripayStatus.of_callback(callback),
        actor="tripay",
    )
    _store(session, callback, text, event, result)
    log.info(
        "tripay callback",
        extra={
            "reference": callback.reference,
            "status": callback.status,
            "outcome": result.outcome,
        },
    )
    return result


def _store(
    session: AsyncSession,
    callback: Callback | None,
    text: str,
    event: str,
    result: settlement.Settlement,
) -> None:
    session.add(
        TripayCallback(
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
    )
