"""Import: read a provider's sizes, regions and images from the provider service and propose
plans for the sizes we do not sell yet, priced at the provider's USD price * USD_IDR_RATE *
(1 + PLAN_MARKUP_PERCENT / 100), rounded up to PLAN_PRICE_STEP_IDR. Proposals are created
inactive: an admin reviews and activates them."""

from __future__ import annotations

import asyncio
import re
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select

from catalog_service.audit.service import AuditAction
from catalog_service.changes import CatalogChanges
from catalog_service.clients import ProviderClient, ProviderImage, ProviderRegion, ProviderSize
from catalog_service.config import CatalogSettings
from catalog_service.images.models import Image, ImageCode
from catalog_service.imports.schemas import (
    ImportReport,
    ImportRequest,
    Proposal,
    ProviderThing,
    SkippedSize,
    StaleCode,
)
from catalog_service.plans import repository as plans
from catalog_service.plans import service as plan_rules
from catalog_service.plans.schemas import PlanCreate, PlanPrices
from catalog_service.pricing import cycle_prices, monthly_price_idr
from catalog_service.regions.models import Region, RegionCode


def plan_slug(provider: str, size: str) -> str:
    words = re.sub(r"[^a-z0-9]+", "-", f"{provider}-{size}".lower()).strip("-")
    return words[:64].rstrip("-")


def plan_name(provider_name: str, size: ProviderSize) -> str:
    memory = size.memory_mb / 1024
    memory_label = f"{memory:g} GB" if size.memory_mb >= 1024 else f"{size.memory_mb} MB"
    return f"{provider_name} {size.vcpus} vCPU {memory_label}"[:100]


async def run(
    changes: CatalogChanges, client: ProviderClient, settings: CatalogSettings, body: ImportRequest
) -> ImportReport:
    session = changes.session
    provider = await plan_rules.provider_by_slug(session, body.provider)
    regions, sizes, images = await asyncio.gather(
        client.regions(provider.slug), client.sizes(provider.slug), client.images(provider.slug)
    )
    our_regions = {
        code: (slug, active)
        for code, slug, active in await session.execute(
            select(RegionCode.code, Region.slug, Region.active)
            .join(Region, Region.id == RegionCode.region_id)
            .where(RegionCode.provider_id == provider.id)
        )
    }
    our_images = {
        code: slug
        for code, slug in await session.execute(
            select(ImageCode.code, Image.slug)
            .join(Image, Image.id == ImageCode.image_id)
            .where(ImageCode.provider_id == provider.id)
        )
    }
    available = {r.code for r in regions if r.available}
    planned = await plans.sizes_planned(session, provider.id)
    taken = await plans.slugs_starting_with(session, f"{provider.slug}-")
    sort_order = await plans.max_sort_order(session)

    proposals: list[Proposal] = []
    skipped: list[SkippedSize] = []
    ordered = sorted(sizes, key=lambda s: (s.price_monthly_usd or 0, s.vcpus, s.memory_mb, s.code))
    for size in ordered:
        reason = _skip_reason(size, planned, body.max_price_monthly_usd)
        if reason is not None:
            skipped.append(SkippedSize(size=size.code, reason=reason))
            continue
        assert size.price_monthly_usd is not None
        where = sorted(
            {
                our_regions[code][0]
                for code in (size.regions or available)
                if code in available and code in our_regions and our_regions[code][1]
            }
        )
        if not where:
            skipped.append(SkippedSize(size=size.code, reason="not_in_our_regions"))
            continue
        monthly = monthly_price_idr(
            size.price_monthly_usd,
            rate=settings.usd_idr_rate,
            markup_percent=settings.plan_markup_percent,
            step=settings.plan_price_step_idr,
        )
        prices = cycle_prices(monthly, settings.cycle_discounts(), settings.plan_price_step_idr)
        slug = _free_slug(plan_slug(provider.slug, size.code), taken)
        taken.add(slug)
        planned.add(size.code)  # a size listed twice is proposed once
        sort_order += 10
        try:
            proposal = PlanCreate(
                slug=slug,
                name=plan_name(provider.name, size),
                provider=provider.slug,
                provider_size_slug=size.code,
                vcpus=size.vcpus,
                memory_mb=size.memory_mb,
                disk_gb=size.disk_gb,
                transfer_gb=size.transfer_gb or 0,
                active=False,
                sort_order=sort_order,
                prices=PlanPrices(**{c.value: a for c, a in prices.items()}),
                regions=where,
            )
        except ValidationError as exc:
            detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            skipped.append(SkippedSize(size=size.code, reason="invalid_spec", detail=detail[:300]))
            continue
        plan_id = None
        if not body.dry_run:
            created = await plan_rules.create(changes, proposal, action=AuditAction.PLAN_IMPORTED)
            plan_id = created.id
        proposals.append(
            Proposal(
                plan_id=plan_id,
                price_monthly_usd=size.price_monthly_usd,
                prices=prices,
                **proposal.model_dump(
                    include={
                        "slug",
                        "name",
                        "provider_size_slug",
                        "vcpus",
                        "memory_mb",
                        "disk_gb",
                        "transfer_gb",
                        "regions",
                    }
                ),
            )
        )

    return ImportReport(
        provider=provider.slug,
        dry_run=body.dry_run,
        usd_idr_rate=settings.usd_idr_rate,
        markup_percent=settings.plan_markup_percent,
        price_step_idr=settings.plan_price_step_idr,
        proposals=proposals,
        skipped=skipped,
        **_drift(regions, images, our_regions, our_images),
    )


def _free_slug(slug: str, taken: set[str]) -> str:
    """`slug`, or `slug-2`, `slug-3`… when an admin already used it for another plan."""
    candidate, n = slug, 1
    while candidate in taken:
        n += 1
        candidate = f"{slug[: 64 - len(str(n)) - 1]}-{n}"
    return candidate


def _skip_reason(size: ProviderSize, planned: set[str], max_usd: Decimal | None) -> str | None:
    if size.code in planned:
        return "already_planned"
    if not size.available:
        return "unavailable"
    if size.price_monthly_usd is None or size.price_monthly_usd <= 0:
        return "no_price"
    if max_usd is not None and size.price_monthly_usd > max_usd:
        return "over_max_price"
    return None


def _drift(
    regions: list[ProviderRegion],
    images: list[ProviderImage],
    our_regions: dict[str, tuple[str, bool]],
    our_images: dict[str, str],
) -> dict[str, list[Any]]:
    """How our codes and the provider's lists disagree: what an admin should map or fix."""
    available = {r.code for r in regions if r.available}
    listed_images = {i.code for i in images if i.available}
    return {
        "unmapped_regions": [
            ProviderThing(code=r.code, name=r.name)
            for r in sorted(regions, key=lambda r: r.code)
            if r.available and r.code not in our_regions
        ],
        "stale_region_codes": [
            StaleCode(slug=slug, code=code)
            for code, (slug, _) in sorted(our_regions.items())
            if code not in available
        ],
        "stale_image_codes": [
            StaleCode(slug=slug, code=code)
            for code, slug in sorted(our_images.items())
            if code not in listed_images
        ],
        "unmapped_images": [
            ProviderThing(code=i.code, name=i.name)
            for i in sorted(images, key=lambda i: i.code)
            if i.available and i.code not in our_images
        ],
    }
