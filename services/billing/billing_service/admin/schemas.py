from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from billing_service.audit.models import AuditEntry
from billing_service.invoices.models import Invoice, InvoiceEvent
from billing_service.invoices.schemas import InternalInvoiceView
from billing_service.payments.models import Payment, TripayCallback
from billing_service.payments.schemas import PaymentInstructions

Reason = Annotated[str, Field(min_length=3, max_length=500)]


class TransactionView(BaseModel):
    id: uuid.UUID
    invoice_id: uuid.UUID
    invoice_number: str
    invoice_kind: str
    user_id: uuid.UUID
    method: str
    channel: str | None
    channel_name: str | None
    reference: str | None
    status: str
    amount: int
    fee_customer: int
    fee_merchant: int
    total_amount: int
    paid_amount: int | None
    amount_received: int | None
    paid_at: datetime | None
    note: str | None
    created_at: datetime

    @classmethod
    def of(cls, payment: Payment, invoice: Invoice) -> TransactionView:
        return cls(
            id=payment.id,
            invoice_id=invoice.id,
            invoice_number=invoice.number,
            invoice_kind=invoice.kind,
            user_id=payment.user_id,
            method=payment.method,
            channel=payment.channel,
            channel_name=payment.channel_name,
            reference=payment.reference,
            status=payment.status,
            amount=payment.amount,
            fee_customer=payment.fee_customer,
            fee_merchant=payment.fee_merchant,
            total_amount=payment.total_amount,
            paid_amount=payment.paid_amount,
            amount_received=payment.amount_received,
            paid_at=payment.paid_at,
            note=payment.note,
            created_at=payment.created_at,
        )


class CallbackView(BaseModel):
    id: uuid.UUID
    received_at: datetime
    reference: str | None
    status: str | None
    event: str
    outcome: str
    detail: str | None
    raw_body: str = Field(description="Exactly the bytes Tripay sent (UTF-8)")

    @classmethod
    def of(cls, callback: TripayCallback) -> CallbackView:
        return cls(
            id=callback.id,
            received_at=callback.received_at,
            reference=callback.reference,
            status=callback.status,
            event=callback.event,
            outcome=callback.outcome,
            detail=callback.detail,
            raw_body=callback.raw_body,
        )


class EventView(BaseModel):
    event: str
    from_status: str | None
    to_status: str
    actor: str
    reason: str | None
    created_at: datetime

    @classmethod
    def of(cls, event: InvoiceEvent) -> EventView:
        return cls(
            event=event.event,
            from_status=event.from_status,
            to_status=event.to_status,
            actor=event.actor,
            reason=event.reason,
            created_at=event.created_at,
        )


class AuditView(BaseModel):
    id: uuid.UUID
    actor_id: uuid.UUID | None
    action: str
    subject_type: str
    subject_id: str
    reason: str | None
    details: dict[str, Any]
    created_at: datetime

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditView:
        return cls(
            id=entry.id,
            actor_id=entry.actor_id,
            action=entry.action,
            subject_type=entry.subject_type,
            subject_id=entry.subject_id,
            reason=entry.reason,
            details=entry.details,
            created_at=entry.created_at,
        )


class AdminInvoiceDetail(InternalInvoiceView):
    payments: list[PaymentInstructions]
    transactions: list[TransactionView]
    callbacks: list[CallbackView]
    events: list[EventView]
    audit: list[AuditView]


class MarkPaidRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason
    reference: Annotated[str, Field(max_length=100)] | None = Field(
        default=None, description="Bank transfer reference or similar proof"
    )


class ResolveFlagRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason
