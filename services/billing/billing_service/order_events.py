"""What the order service hears from billing, through the outbox (delivered after commit,
re-delivered until acknowledged): `POST order:/internal/orders/{order_id}/payment-status`
with `Idempotency-Key: billing:payment-status:<invoice id>:<status>`."""

from __future__ import annotations

from enum import StrEnum

from billing_service.invoices.models import Invoice, InvoiceKind
from webrana_common import outbox
from webrana_common.db.base import utcnow


class OrderPaymentStatus(StrEnum):
    PAID = "PAID"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"
    REFUNDED = "REFUNDED"


async def payment_status(
    session: outbox.Unit, invoice: Invoice, status: OrderPaymentStatus
) -> None:
    if invoice.kind != InvoiceKind.ORDER or invoice.order_id is None:
        return
    payload = {
        "invoice_id": str(invoice.id),
        "invoice_number": invoice.number,
        "order_id": str(invoice.order_id),
        "order_number": invoice.order_number,
        "status": str(status),
        "paid_at": invoice.paid_at.isoformat() if invoice.paid_at else None,
        "amount": invoice.amount,
        "method": invoice.paid_via,
        "occurred_at": utcnow().isoformat(),
    }
    await outbox.add(
        session,
        f"order:/internal/orders/{invoice.order_id}/payment-status",
        payload,
        f"billing:payment-status:{invoice.id}:{status}",
    )
