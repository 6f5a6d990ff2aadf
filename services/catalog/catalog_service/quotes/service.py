"""The authoritative price of a plan for a cycle, and how to build it: provider, size, region
code and image code. New orders need an active plan offered in an active region with an
active image; a renewal (`renewal=true`) prices an existing server, so a plan, region or image
retired since is still quoted — only an unknown one is refused."""

from __future__ import annotations

import uuid
from collections.abc import Hashable

from sqlalchemy.ext.asyncio import AsyncSession

from catalog_service.errors import (
    ImageNotOffered,
    PlanInactive,
    PlanNotFound,
    RegionNotOffered,
    UnknownReference,
)
from catalog_service.images import repository as images
from catalog_service.plans import repository as plans
from catalog_service.pricing import BillingCycle
from catalog_service.providers.models import Provider
from catalog_service.quotes.schemas import Quote
from catalog_service.regions import repository as regions
from catalog_service.versioning import repository as versions
from webrana_common.db.base import utcnow


class QuoteCache:
    """Quotes by question, each kept with the catalog version it was read at. Every change a
    quote shows bumps that version (only the `referenced` marker does not, and a quote does
    not show it), so a quote is served again only while its version is current: one query
    per quote instead of six. Refusals are not kept."""

    def __init__(self, max_entries: int = 2048) -> None:
        self.max_entries = max_entries
        self._entries: dict[Hashable, tuple[int, Quote]] = {}

    def get(self, key: Hashable, version: int) -> Quote | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] != version:
            return None
        return entry[1]

    def put(self, key: Hashable, version: int, quote: Quote) -> None:
        if key not in self._entries and len(self._entries) >= self.max_entries:
            self._entries.pop(next(iter(self._entries)))  # the oldest
        self._entries[key] = (version, quote)


async def quote(
    session: AsyncSession,
    plan_id: uuid.UUID,
    cycle: BillingCycle,
    *,
    region_slug: str | None,
    image_slug: str | None,
    renewal: bool,
    cache: QuoteCache | None = None,
) -> Quote:
    # The version first: data read after it is at least as new, never older.
    version = await versions.current(session)
    key = (plan_id, cycle, region_slug, image_slug, renewal)
    cached = cache.get(key, version) if cache is not None else None
    if cached is not None:
        return cached.model_copy(update={"quoted_at": utcnow()})
    fresh = await _quote(session, plan_id, cycle, region_slug, image_slug, renewal, version)
    if cache is not None:
        cache.put(key, version, fresh)
    return fresh


async def _quote(
    session: AsyncSession,
    plan_id: uuid.UUID,
    cycle: BillingCycle,
    region_slug: str | None,
    image_slug: str | None,
    renewal: bool,
    version: int,
) -> Quote:
    plan = await plans.get(session, plan_id)
    if plan is None:
        raise PlanNotFound(f"No plan with id {plan_id}")
    provider = await session.get(Provider, plan.provider_id)
    assert provider is not None  # RESTRICT foreign key
    if not renewal and not (plan.active and provider.active):
        reason = "is inactive" if not plan.active else f"is on inactive provider {provider.slug}"
        raise PlanInactive(f"Plan {plan.slug} {reason} and cannot be ordered")

    provider_region = None
    if region_slug is not None:
        region = await regions.by_slug(session, region_slug)
        if region is None:
            raise UnknownReference(f"region: unknown region '{region_slug}'", code="unknown_region")
        code = next((c.code for c in region.codes if c.provider_id == provider.id), None)
        offered = any(r.region_id == region.id for r in plan.regions)
        if code is None or not offered:
            raise RegionNotOffered(f"Plan {plan.slug} is not offered in region {region_slug}")
        if not renewal and not region.active:
            raise RegionNotOffered(f"Region {region_slug} is not taking new orders")
        provider_region = code

    provider_image = None
    if image_slug is not None:
        image = await images.by_slug(session, image_slug)
        if image is None:
            raise UnknownReference(f"image: unknown image '{image_slug}'", code="unknown_image")
        code = next((c.code for c in image.codes if c.provider_id == provider.id), None)
        if code is None:
            raise ImageNotOffered(f"Image {image_slug} is not available on {provider.slug}")
        if not renewal and not image.active:
            raise ImageNotOffered(f"Image {image_slug} is no longer offered")
        provider_image = code

    amounts = {p.cycle: p.amount_idr for p in plan.prices}
    return Quote(
        plan_id=plan.id,
        plan_slug=plan.slug,
        plan_name=plan.name,
        plan_active=plan.active,
        cycle=cycle,
        months=cycle.months,
        amount_idr=amounts[cycle.value],
        provider=provider.slug,
        provider_size=plan.provider_size_slug,
        region=region_slug,
        provider_region=provider_region,
        image=image_slug,
        provider_image=provider_image,
        vcpus=plan.vcpus,
        memory_mb=plan.memory_mb,
        disk_gb=plan.disk_gb,
        transfer_gb=plan.transfer_gb,
        catalog_version=version,
        quoted_at=utcnow(),
    )
