from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from catalog_service.fields import ImageSlug, Name, Patch, ProviderCodes, ShortText, SortOrder
from catalog_service.images.models import Image
from catalog_service.provider_codes import as_slugs

_EXAMPLE = {
    "slug": "ubuntu-24.04",
    "name": "Ubuntu 24.04 LTS",
    "distribution": "Ubuntu",
    "version": "24.04",
    "active": True,
    "sort_order": 10,
    "codes": {
        "digitalocean": "ubuntu-24-04-x64",
        "vultr": "2284",
        "linode": "linode/ubuntu24.04",
    },
}


class ImageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE]})
    slug: ImageSlug = Field(description="Our name for the image; orders carry it")
    name: Name
    distribution: ShortText = Field(examples=["Ubuntu"])
    version: ShortText = Field(examples=["24.04"])
    active: bool = True
    sort_order: SortOrder = 0
    codes: ProviderCodes = Field(
        default_factory=dict,
        description="DigitalOcean image slug, Vultr `os_id` (as a string), Linode image id",
    )


class ImageUpdate(Patch):
    model_config = ConfigDict(json_schema_extra={"examples": [{"active": False}]})
    name: Name | None = None
    distribution: ShortText | None = None
    version: ShortText | None = None
    active: bool | None = None
    sort_order: SortOrder | None = None
    codes: ProviderCodes | None = Field(default=None, description="Replaces the whole map")


class ImageView(BaseModel):
    id: uuid.UUID
    slug: str
    name: str
    distribution: str
    version: str
    active: bool
    sort_order: int
    codes: dict[str, str]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, image: Image, provider_slugs: Mapping[uuid.UUID, str]) -> ImageView:
        return cls(
            id=image.id,
            slug=image.slug,
            name=image.name,
            distribution=image.distribution,
            version=image.version,
            active=image.active,
            sort_order=image.sort_order,
            codes=as_slugs(image.codes, provider_slugs),
            created_at=image.created_at,
            updated_at=image.updated_at,
        )

    def audit(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"created_at", "updated_at"})
