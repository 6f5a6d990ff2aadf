from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from catalog_service.fields import Slug
from catalog_service.pricing import BillingCycle


class ImportRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"provider": "vultr", "max_price_monthly_usd": "100", "dry_run": True}]
        },
    )
    provider: Slug
    max_price_monthly_usd: Decimal | None = Field(
        default=None, gt=0, le=100_000, description="Leave out bigger sizes (GPU, dedicated)"
    )
    dry_run: bool = Field(default=False, description="Only report what would be proposed")


class Proposal(BaseModel):
    plan_id: uuid.UUID | None = Field(description="The inactive plan created; null on a dry run")
    slug: str
    name: str
    provider_size_slug: str
    vcpus: int
    memory_mb: int
    disk_gb: int
    transfer_gb: int
    price_monthly_usd: Decimal
    prices: dict[BillingCycle, int] = Field(description="Whole rupiah per cycle")
    regions: list[str]


SkipReason = Literal[
    "already_planned",
    "unavailable",
    "no_price",
    "over_max_price",
    "not_in_our_regions",
    "invalid_spec",
]


class SkippedSize(BaseModel):
    size: str
    reason: SkipReason
    detail: str | None = None


class ProviderThing(BaseModel):
    code: str
    name: str


class StaleCode(BaseModel):
    slug: str = Field(description="Our region or image")
    code: str = Field(description="The code we hold, which the provider does not list")


class ImportReport(BaseModel):
    provider: str
    dry_run: bool
    usd_idr_rate: Decimal
    markup_percent: Decimal
    price_step_idr: int
    proposals: list[Proposal] = Field(description="Created inactive, for review (PATCH active)")
    skipped: list[SkippedSize]
    unmapped_regions: list[ProviderThing] = Field(
        description="Available provider regions no region of ours maps (add a code to offer them)"
    )
    stale_region_codes: list[StaleCode] = Field(
        description="Our region codes the provider no longer lists as available"
    )
    stale_image_codes: list[StaleCode] = Field(
        description="Our image codes the provider no longer lists"
    )
    unmapped_images: list[ProviderThing]
