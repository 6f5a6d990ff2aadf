from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from catalog_service.fields import Name, Patch, PlanSlug, ProviderCode, Rupiah, Slug, SortOrder
from catalog_service.plans.models import Plan
from catalog_service.pricing import CYCLES, BillingCycle

VCpus = Annotated[int, Field(ge=1, le=512)]
MemoryMb = Annotated[int, Field(ge=128, le=4_194_304, description="RAM in MiB")]
DiskGb = Annotated[int, Field(ge=1, le=100_000)]
TransferGb = Annotated[int, Field(ge=0, le=10_000_000, description="Monthly transfer in GB")]


def _distinct(slugs: list[str]) -> list[str]:
    if len(set(slugs)) != len(slugs):
        raise ValueError("regions must not repeat")
    return slugs


RegionSlugs = Annotated[
    list[Slug],
    Field(max_length=100, description="Our region slugs the plan is offered in"),
    AfterValidator(_distinct),
]

_PRICES_EXAMPLE = {"monthly": 129000, "quarterly": 368000, "semiannual": 697000, "annual": 1316000}


class PlanPrices(BaseModel):
    """Whole rupiah per cycle. A longer cycle may not cost more per month than a shorter one."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_PRICES_EXAMPLE]})
    monthly: Rupiah
    quarterly: Rupiah
    semiannual: Rupiah
    annual: Rupiah


class PlanPricesPatch(Patch):
    model_config = ConfigDict(json_schema_extra={"examples": [{"monthly": 135000}]})
    monthly: Rupiah | None = None
    quarterly: Rupiah | None = None
    semiannual: Rupiah | None = None
    annual: Rupiah | None = None


class PlanCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "slug": "do-basic-1gb",
                    "name": "Basic 1 GB",
                    "provider": "digitalocean",
                    "provider_size_slug": "s-1vcpu-1gb",
                    "vcpus": 1,
                    "memory_mb": 1024,
                    "disk_gb": 25,
                    "transfer_gb": 1000,
                    "active": True,
                    "sort_order": 10,
                    "prices": _PRICES_EXAMPLE,
                    "regions": ["sg-sin", "in-blr"],
                }
            ]
        },
    )
    slug: PlanSlug
    name: Name
    provider: Slug
    provider_size_slug: ProviderCode = Field(description="The provider's size (plan) id")
    vcpus: VCpus
    memory_mb: MemoryMb
    disk_gb: DiskGb
    transfer_gb: TransferGb
    active: bool = True
    sort_order: SortOrder = 0
    prices: PlanPrices
    regions: RegionSlugs = Field(default_factory=list)


class PlanUpdate(Patch):
    """Provider and size of a plan referenced by orders are frozen (`409 plan_referenced`):
    running servers were built from them."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"prices": {"monthly": 135000}, "active": True}]}
    )
    slug: PlanSlug | None = None
    name: Name | None = None
    provider: Slug | None = None
    provider_size_slug: ProviderCode | None = None
    vcpus: VCpus | None = None
    memory_mb: MemoryMb | None = None
    disk_gb: DiskGb | None = None
    transfer_gb: TransferGb | None = None
    active: bool | None = None
    sort_order: SortOrder | None = None
    prices: PlanPricesPatch | None = Field(default=None, description="Only the cycles given")
    regions: RegionSlugs | None = Field(default=None, description="Replaces the whole list")


class AdminPlanView(BaseModel):
    id: uuid.UUID
    slug: str
    name: str
    provider: str
    provider_size_slug: str
    vcpus: int
    memory_mb: int
    disk_gb: int
    transfer_gb: int
    active: bool
    sort_order: int
    referenced: bool = Field(description="An order uses it: DELETE deactivates instead")
    referenced_at: datetime | None
    prices: dict[BillingCycle, int] = Field(description="Whole rupiah per billing cycle")
    regions: list[str]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(
        cls,
        plan: Plan,
        provider_slugs: Mapping[uuid.UUID, str],
        region_slugs: Mapping[uuid.UUID, str],
    ) -> AdminPlanView:
        amounts = {p.cycle: p.amount_idr for p in plan.prices}
        return cls(
            id=plan.id,
            slug=plan.slug,
            name=plan.name,
            provider=provider_slugs[plan.provider_id],
            provider_size_slug=plan.provider_size_slug,
            vcpus=plan.vcpus,
            memory_mb=plan.memory_mb,
            disk_gb=plan.disk_gb,
            transfer_gb=plan.transfer_gb,
            active=plan.active,
            sort_order=plan.sort_order,
            referenced=plan.referenced,
            referenced_at=plan.referenced_at,
            prices={c: amounts[c] for c in CYCLES if c in amounts},
            regions=sorted(region_slugs[r.region_id] for r in plan.regions),
            created_at=plan.created_at,
            updated_at=plan.updated_at,
        )

    def audit(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"created_at", "updated_at", "referenced_at"})


class PlanDeleted(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "outcome": "deactivated",
                    "detail": "Plan do-basic-1gb is referenced by orders, so it was deactivated "
                    "instead of deleted",
                    "plan": None,
                }
            ]
        }
    )
    outcome: Literal["deleted", "deactivated"]
    detail: str
    plan: AdminPlanView | None = Field(description="The deactivated plan; null when deleted")


class ReferencedView(BaseModel):
    plan_id: uuid.UUID
    referenced: bool
    referenced_at: datetime
