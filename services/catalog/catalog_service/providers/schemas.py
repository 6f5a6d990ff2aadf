from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from catalog_service.fields import Name, Patch, Slug, SortOrder
from catalog_service.providers.models import Provider


class ProviderCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"slug": "vultr", "name": "Vultr", "active": True, "sort_order": 20}]
        },
    )
    slug: Slug
    name: Name
    active: bool = True
    sort_order: SortOrder = 0


class ProviderUpdate(Patch):
    """The slug never changes: the provider service and stored orders know it."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"active": False}]})
    name: Name | None = None
    active: bool | None = None
    sort_order: SortOrder | None = None


class ProviderView(BaseModel):
    id: uuid.UUID
    slug: str
    name: str
    active: bool
    sort_order: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, provider: Provider) -> ProviderView:
        return cls(
            id=provider.id,
            slug=provider.slug,
            name=provider.name,
            active=provider.active,
            sort_order=provider.sort_order,
            created_at=provider.created_at,
            updated_at=provider.updated_at,
        )

    def audit(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"created_at", "updated_at"})
