from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from billing_service.promos.models import Promo, PromoRedemption

Code = Annotated[str, Field(min_length=2, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]
Rupiah = Annotated[int, Field(gt=0, le=10_000_000_000)]


class PromoCheck(BaseModel):
    """User: is this code good for that amount?"""

    model_config = ConfigDict(extra="forbid")

    code: Code
    amount: Rupiah
    kind: Literal["order", "deposit"] = "order"


class InternalPromoCheck(PromoCheck):
    user_id: uuid.UUID


class RedeemRequest(BaseModel):
    """Order service: apply a code to an order (one live promo per order)."""

    model_config = ConfigDict(extra="forbid")

    code: Code
    user_id: uuid.UUID
    amount: Rupiah = Field(description="The order's price before the discount")
    order_id: uuid.UUID


class ReleaseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_id: uuid.UUID
    reason: Annotated[str, Field(min_length=1, max_length=200)] = "order cancelled"


class PromoQuote(BaseModel):
    code: str
    kind: str
    amount: int
    discount: int = Field(description="Order discount, or deposit bonus")
    final_amount: int = Field(description="What the order costs with the code (deposits: same)")
    description: str


class RedemptionView(BaseModel):
    redemption_id: uuid.UUID
    promo_id: uuid.UUID
    code: str
    user_id: uuid.UUID
    order_id: uuid.UUID | None
    amount: int
    discount: int
    final_amount: int
    status: str
    replayed: bool = False

    @classmethod
    def of(cls, redemption: PromoRedemption, code: str, *, replayed: bool) -> RedemptionView:
        return cls(
            redemption_id=redemption.id,
            promo_id=redemption.promo_id,
            code=code,
            user_id=redemption.user_id,
            order_id=redemption.order_id,
            amount=redemption.amount,
            discount=redemption.discount,
            final_amount=redemption.amount - redemption.discount,
            status=redemption.status,
            replayed=replayed,
        )


class ReleaseResult(BaseModel):
    order_id: uuid.UUID
    released: int


class PromoFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: Annotated[str, Field(max_length=300)] = ""
    discount_type: Literal["percent", "fixed"]
    value: Rupiah = Field(description="Percent (1-100) or rupiah")
    max_discount: Rupiah | None = Field(default=None, description="Cap of a percent promo")
    applies_to_orders: bool = True
    applies_to_deposits: bool = False
    min_amount: Annotated[int, Field(ge=0, le=10_000_000_000)] = 0
    # Zoned only: a naive time means no instant, and cannot be compared with a stored one.
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    max_uses: Annotated[int, Field(ge=1)] | None = None
    max_uses_per_user: Annotated[int, Field(ge=1)] | None = None
    first_order_only: bool = False
    active: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> Any:
        if self.discount_type == "percent" and self.value > 100:
            raise ValueError("a percent promo's value is 1-100")
        if not (self.applies_to_orders or self.applies_to_deposits):
            raise ValueError("a promo applies to orders, deposits or both")
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class CreatePromo(PromoFields):
    code: Code


class UpdatePromo(BaseModel):
    """Any subset of the fields; the code itself never changes. `null` clears a field that may
    be empty (a cap, a limit, a date) and is refused for the others."""

    model_config = ConfigDict(extra="forbid")

    description: Annotated[str, Field(max_length=300)] | None = None
    value: Rupiah | None = None
    max_discount: Rupiah | None = None
    applies_to_orders: bool | None = None
    applies_to_deposits: bool | None = None
    min_amount: Annotated[int, Field(ge=0, le=10_000_000_000)] | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    max_uses: Annotated[int, Field(ge=1)] | None = None
    max_uses_per_user: Annotated[int, Field(ge=1)] | None = None
    first_order_only: bool | None = None
    active: bool | None = None

    @field_validator(
        "description",
        "value",
        "applies_to_orders",
        "applies_to_deposits",
        "min_amount",
        "first_order_only",
        "active",
        mode="before",
    )
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Only a value sent is validated: a field left out (None by default) never gets here.
        if value is None:
            raise ValueError("must not be null; leave the field out to keep its value")
        return value


class PromoUsage(BaseModel):
    uses: int = Field(description="Uses held now (active redemptions)")
    remaining: int | None
    released: int
    users: int
    discount_total: int


class PromoView(BaseModel):
    id: uuid.UUID
    code: str
    description: str
    discount_type: str
    value: int
    max_discount: int | None
    applies_to_orders: bool
    applies_to_deposits: bool
    min_amount: int
    starts_at: datetime | None
    ends_at: datetime | None
    max_uses: int | None
    max_uses_per_user: int | None
    first_order_only: bool
    active: bool
    created_at: datetime
    updated_at: datetime
    usage: PromoUsage

    @classmethod
    def of(cls, promo: Promo, figures: dict[str, int]) -> PromoView:
        return cls(
            id=promo.id,
            code=promo.code,
            description=promo.description,
            discount_type=promo.discount_type,
            value=promo.value,
            max_discount=promo.max_discount,
            applies_to_orders=promo.applies_to_orders,
            applies_to_deposits=promo.applies_to_deposits,
            min_amount=promo.min_amount,
            starts_at=promo.starts_at,
            ends_at=promo.ends_at,
            max_uses=promo.max_uses,
            max_uses_per_user=promo.max_uses_per_user,
            first_order_only=promo.first_order_only,
            active=promo.active,
            created_at=promo.created_at,
            updated_at=promo.updated_at,
            usage=PromoUsage(
                uses=promo.uses_count,
                remaining=None if promo.max_uses is None else promo.max_uses - promo.uses_count,
                released=figures.get("released", 0),
                users=figures.get("users", 0),
                discount_total=figures.get("discount_total", 0),
            ),
        )
