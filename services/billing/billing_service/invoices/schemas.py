from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from billing_service.invoices.models import Invoice
from billing_service.payments.schemas import PaymentInstructions

Rupiah = Annotated[int, Field(ge=0, le=10_000_000_000, description="Whole rupiah")]
PositiveRupiah = Annotated[int, Field(gt=0, le=10_000_000_000, description="Whole rupiah")]


class InvoiceItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=200)]
    # A discount line may be negative; the items must add up to the invoice amount.
    price: Annotated[int, Field(ge=-10_000_000_000, le=10_000_000_000)]
    quantity: Annotated[int, Field(ge=1, le=1000)] = 1
    sku: Annotated[str, Field(max_length=100)] | None = None


class CreateInvoice(BaseModel):
    """The body of `POST /internal/invoices`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "order_id": "6f1c8f5e-2b7a-4c8e-9d0a-1f2e3d4c5b6a",
                    "order_number": "ORD-20250115-AB12C",
                    "user_id": "5b0e4c1e-8a8b-4a36-9d55-3b1e0f6f2d11",
                    "amount": 135000,
                    "description": "Cloud VPS 2 GB, monthly (web-1)",
                    "items": [
                        {
                            "name": "Cloud VPS 2 GB, monthly",
                            "price": 150000,
                            "sku": "do-s-1vcpu-2gb",
                        },
                        {"name": "Promo HEMAT10", "price": -15000},
                    ],
                    "discount": 15000,
                    "promo_code": "HEMAT10",
                    "kind": "order",
                    "expires_in": 86400,
                }
            ]
        },
    )

    order_id: uuid.UUID | None = None
    order_number: Annotated[str, Field(max_length=40)] | None = None
    user_id: uuid.UUID
    amount: PositiveRupiah
    description: Annotated[str, Field(min_length=1, max_length=300)]
    items: Annotated[list[InvoiceItem], Field(max_length=50)] | None = None
    kind: Literal["order", "deposit"] = "order"
    discount: Rupiah = 0
    promo_code: Annotated[str, Field(max_length=40)] | None = None
    expires_in: Annotated[int, Field(ge=300, le=30 * 86_400, description="Seconds")] | None = None
    expires_at: datetime | None = None

    @model_validator(mode="after")
    def _consistent(self) -> CreateInvoice:
        if self.kind == "order" and self.order_id is None:
            raise ValueError("an order invoice needs order_id")
        if self.expires_in is not None and self.expires_at is not None:
            raise ValueError("give expires_in or expires_at, not both")
        return self


class CancelInvoice(BaseModel):
    reason: Annotated[str, Field(min_length=1, max_length=500)] | None = None


class InvoiceView(BaseModel):
    id: uuid.UUID
    number: str
    kind: str
    status: str
    amount: int
    discount: int
    promo_code: str | None
    description: str
    items: list[dict[str, Any]]
    order_id: uuid.UUID | None
    order_number: str | None
    expires_at: datetime
    paid_at: datetime | None
    paid_via: str | None
    payment_method: str | None
    closed_at: datetime | None
    under_review: bool
    created_at: datetime

    @classmethod
    def of(cls, invoice: Invoice) -> InvoiceView:
        return cls(
            id=invoice.id,
            number=invoice.number,
            kind=invoice.kind,
            status=invoice.status,
            amount=invoice.amount,
            discount=invoice.discount,
            promo_code=invoice.promo_code,
            description=invoice.description,
            items=invoice.items,
            order_id=invoice.order_id,
            order_number=invoice.order_number,
            expires_at=invoice.expires_at,
            paid_at=invoice.paid_at,
            paid_via=invoice.paid_via,
            payment_method=invoice.payment_method,
            closed_at=invoice.closed_at,
            under_review=invoice.flagged_at is not None,
            created_at=invoice.created_at,
        )


class InternalInvoiceView(InvoiceView):
    user_id: uuid.UUID
    close_reason: str | None
    flagged_at: datetime | None
    flag_reason: str | None

    @classmethod
    def of(cls, invoice: Invoice) -> InternalInvoiceView:
        return cls(
            **InvoiceView.of(invoice).model_dump(),
            user_id=invoice.user_id,
            close_reason=invoice.close_reason,
            flagged_at=invoice.flagged_at,
            flag_reason=invoice.flag_reason,
        )


class InvoiceDetail(InvoiceView):
    payment: PaymentInstructions | None = None
