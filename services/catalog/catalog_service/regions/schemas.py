from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from catalog_service.fields import Country, Name, Patch, ProviderCodes, Slug, SortOrder
from catalog_service.provider_codes import as_slugs
from catalog_service.regions.models import Region

_EXAMPLE = {
    "slug": "sg-sin",
    "name_id": "Singapura",
    "name_en": "Singapore",
    "country": "SG",
    "active": True,
    "sort_order": 10,
    "codes": {"digitalocean": "sgp1", "vultr": "sgp", "linode": "ap-south"},
}


class RegionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE]})
    slug: Slug = Field(description="Our name for the place; orders carry it, it never changes")
    name_id: Name = Field(description="Name in Indonesian")
    name_en: Name = Field(description="Name in English")
    country: Country
    active: bool = True
    sort_order: SortOrder = 0
    codes: ProviderCodes = Field(default_factory=dict)


class RegionUpdate(Patch):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"codes": {"vultr": "sgp", "linode": "sg-sin-2"}}]}
    )
    name_id: Name | None = None
    name_en: Name | None = None
    country: Country | None = None
    active: bool | None = None
    sort_order: SortOrder | None = None
    codes: ProviderCodes | None = Field(
        default=None,
        description="Replaces the whole map. Removing a provider's code is refused while "
        "that provider's plans are offered here.",
    )


class RegionView(BaseModel):
    id: uuid.UUID
    slug: str
    name_id: str
    name_en: str
    country: str
    active: bool
    sort_order: int
    codes: dict[str, str]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, region: Region, provider_slugs: Mapping[uuid.UUID, str]) -> RegionView:
        return cls(
            id=region.id,
            slug=region.slug,
            name_id=region.name_id,
            name_en=region.name_en,
            country=region.country,
            active=region.active,
            sort_order=region.sort_order,
            codes=as_slugs(region.codes, provider_slugs),
            created_at=region.created_at,
            updated_at=region.updated_at,
        )

    def audit(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"created_at", "updated_at"})
