from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from catalog_service.pricing import BillingCycle


class Quote(BaseModel):
    """What the order service charges and provisions. `amount_idr` is authoritative: read
    from the database at the moment of the call, never from a cache."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "plan_id": "7d1f0a52-3c5e-4a8e-9d55-0b8c4b1f6a01",
                    "plan_slug": "do-basic-1gb",
                    "plan_name": "DigitalOcean Basic 1 GB",
                    "plan_active": True,
                    "cycle": "quarterly",
                    "months": 3,
                    "amount_idr": 368000,
                    "currency": "IDR",
                    "provider": "digitalocean",
                    "provider_size": "s-1vcpu-1gb",
                    "region": "sg-sin",
                    "provider_region": "sgp1",
                    "image": "ubuntu-24.04",
                    "provider_image": "ubuntu-24-04-x64",
                    "vcpus": 1,
                    "memory_mb": 1024,
                    "disk_gb": 25,
                    "transfer_gb": 1000,
                    "catalog_version": 42,
                    "quoted_at": "2025-01-01T03:00:00Z",
                }
            ]
        }
    )
    plan_id: uuid.UUID
    plan_slug: str
    plan_name: str
    plan_active: bool = Field(description="False only in renewal quotes of retired plans")
    cycle: BillingCycle
    months: int
    amount_idr: int = Field(description="Whole rupiah for the whole cycle")
    currency: Literal["IDR"] = "IDR"
    provider: str = Field(description="Provider slug, as the provider service knows it")
    provider_size: str = Field(description="The provider's size id")
    region: str | None = Field(description="Our region slug (null in a renewal quote without one)")
    provider_region: str | None = Field(description="The provider's region code")
    image: str | None
    provider_image: str | None = Field(
        description="DigitalOcean image slug, Vultr os_id (decimal string), Linode image id"
    )
    vcpus: int
    memory_mb: int
    disk_gb: int
    transfer_gb: int
    catalog_version: int
    quoted_at: datetime
