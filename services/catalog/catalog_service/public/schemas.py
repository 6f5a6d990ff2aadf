"""The public JSON, for OpenAPI only: bodies are rendered from the snapshot (snapshot.py) and
served as stored bytes, never through these models."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

from catalog_service.pricing import BillingCycle


class ProviderRef(BaseModel):
    slug: str = Field(examples=["digitalocean"])
    name: str = Field(examples=["DigitalOcean"])


class RegionRef(BaseModel):
    slug: str = Field(examples=["sg-sin"])
    name_id: str = Field(description="Indonesian name", examples=["Singapura"])
    name_en: str = Field(description="English name", examples=["Singapore"])
    country: str = Field(description="ISO 3166-1 alpha-2", examples=["SG"])


class PublicRegion(RegionRef):
    providers: list[str] = Field(description="Provider slugs serving it", examples=[["vultr"]])


class ImageRef(BaseModel):
    slug: str = Field(examples=["ubuntu-24.04"])
    name: str = Field(examples=["Ubuntu 24.04 LTS"])
    distribution: str = Field(examples=["Ubuntu"])
    version: str = Field(examples=["24.04"])


class PublicImage(ImageRef):
    providers: list[str] = Field(description="Provider slugs offering it")


class CyclePrice(BaseModel):
    amount_idr: int = Field(description="Whole rupiah for the whole cycle", examples=[368000])
    months: int = Field(examples=[3])
    per_month_idr: int = Field(description="amount / months, rounded up", examples=[122667])
    discount_percent: float = Field(
        description="Saving against paying monthly, for display", examples=[4.9]
    )


class PublicPlan(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "7d1f0a52-3c5e-4a8e-9d55-0b8c4b1f6a01",
                    "slug": "do-basic-1gb",
                    "name": "DigitalOcean Basic 1 GB",
                    "provider": {"slug": "digitalocean", "name": "DigitalOcean"},
                    "vcpus": 1,
                    "memory_mb": 1024,
                    "disk_gb": 25,
                    "transfer_gb": 1000,
                    "prices": {
                        "monthly": {
                            "amount_idr": 129000,
                            "months": 1,
                            "per_month_idr": 129000,
                            "discount_percent": 0.0,
                        },
                        "annual": {
                            "amount_idr": 1316000,
                            "months": 12,
                            "per_month_idr": 109667,
                            "discount_percent": 15.0,
                        },
                    },
                    "regions": [
                        {
                            "slug": "sg-sin",
                            "name_id": "Singapura",
                            "name_en": "Singapore",
                            "country": "SG",
                        }
                    ],
                }
            ]
        }
    )
    id: uuid.UUID
    slug: str
    name: str
    provider: ProviderRef
    vcpus: int
    memory_mb: int
    disk_gb: int
    transfer_gb: int = Field(description="Monthly transfer allowance, GB")
    prices: dict[BillingCycle, CyclePrice]
    regions: list[RegionRef] = Field(description="Where it can be ordered")


class PublicPlanDetail(PublicPlan):
    images: list[ImageRef] = Field(description="Images that can be installed on it")


class PlanPage(BaseModel):
    items: list[PublicPlan]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last"
    )


class RegionPage(BaseModel):
    items: list[PublicRegion]
    next_cursor: str | None


class ImagePage(BaseModel):
    items: list[PublicImage]
    next_cursor: str | None


class ProviderPage(BaseModel):
    items: list[ProviderRef]
    next_cursor: str | None
