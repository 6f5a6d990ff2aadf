from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from order_service.orders.models import Order, OrderEvent, OrderStatus, PaymentMethod

# RFC 1123 label: letters, digits and hyphens, 1-63 characters, no hyphen at either end.
Hostname = Annotated[
    str,
    StringConstraints(
        min_length=1, max_length=63, pattern=r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"
    ),
]
Slug = Annotated[
    str, StringConstraints(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9.-]*$")
]
PromoCode = Annotated[
    str, StringConstraints(min_length=1, max_length=40, strip_whitespace=True, to_upper=True)
]
SshKey = Annotated[str, StringConstraints(min_length=1, max_length=8192, strip_whitespace=True)]


class BillingCycle(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    SEMIANNUAL = "semiannual"
    ANNUAL = "annual"


class CreateOrder(BaseModel):
    """Prices come from the catalog: a body carrying `price`, `amount` or anything else not
    listed here is refused (422)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "plan_id": "7d1f0a52-3c5e-4a8e-9d55-0b8c4b1f6a01",
                    "region": "sg-sin",
                    "image": "ubuntu-24.04",
                    "hostname": "web-1",
                    "billing_cycle": "monthly",
                    "promo_code": "HEMAT10",
                    "payment": "tripay",
                }
            ]
        },
    )

    plan_id: uuid.UUID
    region: Slug
    image: Slug
    hostname: Hostname = Field(description="RFC 1123 label: a-z, 0-9, '-', at most 63")
    billing_cycle: BillingCycle
    promo_code: PromoCode | None = None
    payment: PaymentMethod
    ssh_keys: Annotated[list[SshKey], Field(max_length=10)] = Field(
        default=[], description="OpenSSH public keys installed for root"
    )


class CancelOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = None


class EventView(BaseModel):
    action: str
    from_status: str | None
    to_status: str | None
    actor: str = Field(description="customer, admin, billing, worker or system")
    reason: str | None
    at: datetime

    @classmethod
    def of(cls, event: OrderEvent, *, for_admin: bool = False) -> EventView:
        actor = event.actor if for_admin else _public_actor(event.actor)
        return cls(
            action=event.action,
            from_status=event.from_status,
            to_status=event.to_status,
            actor=actor,
            reason=event.reason,
            at=event.created_at,
        )


def _public_actor(actor: str) -> str:
    kind = actor.partition(":")[0]
    return {"user": "customer"}.get(kind, kind)


class OrderView(BaseModel):
    id: uuid.UUID
    number: str = Field(examples=["ORD-20250115-AB12C"])
    status: OrderStatus
    plan_id: uuid.UUID
    plan_name: str
    provider: str
    region: str
    image: str
    hostname: str
    billing_cycle: str
    months: int
    base_amount: int = Field(description="Catalog price, whole rupiah")
    discount: int
    amount: int = Field(description="What is paid, whole rupiah")
    currency: Literal["IDR"] = "IDR"
    promo_code: str | None
    payment_method: str
    invoice_id: uuid.UUID | None
    invoice_number: str | None
    paid_at: datetime | None
    instance_id: uuid.UUID | None = Field(description="Set once the server is active")
    ipv4: str | None
    ipv6: str | None
    failure_reason: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, order: Order) -> OrderView:
        return cls(
            **{name: getattr(order, name) for name in _ORDER_FIELDS},
            instance_id=order.instance_id if order.status == OrderStatus.ACTIVE else None,
        )


_ORDER_FIELDS = [n for n in OrderView.model_fields if n not in ("instance_id", "currency")]


class OrderDetail(OrderView):
    timeline: list[EventView]

    @classmethod
    def build(
        cls, order: Order, events: list[OrderEvent], *, for_admin: bool = False
    ) -> OrderDetail:
        return cls(
            **OrderView.of(order).model_dump(),
            timeline=[EventView.of(e, for_admin=for_admin) for e in events],
        )


class PaymentStatus(StrEnum):
    PAID = "PAID"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"
    REFUNDED = "REFUNDED"


class PaymentStatusBody(BaseModel):
    """What billing sends (billing_service/order_events.py)."""

    model_config = ConfigDict(extra="ignore")

    status: PaymentStatus
    invoice_id: uuid.UUID | None = None
    invoice_number: str | None = None
    order_id: uuid.UUID | None = None
    order_number: str | None = None
    paid_at: datetime | None = None
    amount: int | None = None
    method: str | None = None
    occurred_at: datetime | None = None


class PaymentStatusResult(BaseModel):
    order_id: uuid.UUID
    status: OrderStatus
    applied: bool = Field(description="False when this news was already known (a re-delivery)")
