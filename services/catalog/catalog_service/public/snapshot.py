"""The public catalog in memory: everything a customer may see, read in one consistent
transaction and tagged with the catalog version it was read at.

Only what is on sale is here: active plans of active providers, in active regions that have a
code on the plan's provider, with the active images that provider has. Each entry carries its
public JSON form, built once per version.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from catalog_service.images.models import Image, ImageCode
from catalog_service.plans.models import Plan, PlanPrice, PlanRegion
from catalog_service.pricing import CYCLES, BillingCycle, discount_percent, per_month
from catalog_service.providers.models import Provider
from catalog_service.regions.models import Region, RegionCode
from catalog_service.versioning.models import CatalogState
from webrana_common.db.session import Database


@dataclass(frozen=True, slots=True)
class ProviderEntry:
    id: uuid.UUID
    slug: str
    sort_key: tuple[int, str]
    json: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RegionEntry:
    id: uuid.UUID
    slug: str
    sort_key: tuple[int, str]
    providers: frozenset[str]
    json: dict[str, Any]
    ref: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ImageEntry:
    id: uuid.UUID
    slug: str
    distribution: str
    sort_key: tuple[int, str]
    providers: frozenset[str]
    json: dict[str, Any]
    ref: dict[str, Any]


@dataclass(frozen=True, slots=True)
class PlanEntry:
    id: uuid.UUID
    slug: str
    provider: str
    vcpus: int
    memory_mb: int
    disk_gb: int
    sort_order: int
    prices: dict[BillingCycle, int]
    regions: frozenset[str]
    json: dict[str, Any]
    detail_json: dict[str, Any]


@dataclass(slots=True)
class Snapshot:
    version: int
    providers: list[ProviderEntry] = field(default_factory=list)
    regions: list[RegionEntry] = field(default_factory=list)
    images: list[ImageEntry] = field(default_factory=list)
    plans: list[PlanEntry] = field(default_factory=list)
    plans_by_id: dict[uuid.UUID, PlanEntry] = field(default_factory=dict)
    plans_by_slug: dict[str, PlanEntry] = field(default_factory=dict)

    @property
    def provider_slugs(self) -> set[str]:
        return {p.slug for p in self.providers}

    @property
    def region_slugs(self) -> set[str]:
        return {r.slug for r in self.regions}


def _prices_json(prices: dict[BillingCycle, int]) -> dict[str, Any]:
    monthly = prices[BillingCycle.MONTHLY]
    return {
        cycle.value: {
            "amount_idr": prices[cycle],
            "months": cycle.months,
            "per_month_idr": per_month(prices[cycle], cycle),
            "discount_percent": discount_percent(prices[cycle], cycle, monthly),
        }
        for cycle in CYCLES
        if cycle in prices
    }


async def load(db: Database) -> Snapshot:
    async with db.sessionmaker() as session:
        # One snapshot of the database: the version and the rows it describes agree.
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        version = int((await session.execute(select(CatalogState.version))).scalar_one())
        providers = (
            await session.execute(
                select(Provider.id, Provider.slug, Provider.name, Provider.sort_order).where(
                    Provider.active
                )
            )
        ).all()
        regions = (
            await session.execute(
                select(
                    Region.id,
                    Region.slug,
                    Region.name_id,
                    Region.name_en,
                    Region.country,
                    Region.sort_order,
                ).where(Region.active)
            )
        ).all()
        region_codes = (
            await session.execute(select(RegionCode.region_id, RegionCode.provider_id))
        ).all()
        images = (
            await session.execute(
                select(
                    Image.id,
                    Image.slug,
                    Image.name,
                    Image.distribution,
                    Image.version,
                    Image.sort_order,
                ).where(Image.active)
            )
        ).all()
        image_codes = (
            await session.execute(select(ImageCode.image_id, ImageCode.provider_id))
        ).all()
        plans = (
            await session.execute(
                select(
                    Plan.id,
                    Plan.slug,
                    Plan.name,
                    Plan.provider_id,
                    Plan.vcpus,
                    Plan.memory_mb,
                    Plan.disk_gb,
                    Plan.transfer_gb,
                    Plan.sort_order,
                ).where(Plan.active)
            )
        ).all()
        prices = (
            await session.execute(select(PlanPrice.plan_id, PlanPrice.cycle, PlanPrice.amount_idr))
        ).all()
        offered = (await session.execute(select(PlanRegion.plan_id, PlanRegion.region_id))).all()
        await session.rollback()

    snapshot = Snapshot(version=version)
    provider_by_id = {}
    for row in sorted(providers, key=lambda r: (r.sort_order, r.slug)):
        entry = ProviderEntry(
            id=row.id,
            slug=row.slug,
            sort_key=(row.sort_order, row.slug),
            json={"slug": row.slug, "name": row.name},
        )
        provider_by_id[row.id] = entry
        snapshot.providers.append(entry)

    region_providers: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for region_id, provider_id in region_codes:
        if provider_id in provider_by_id:
            region_providers[region_id].add(provider_id)
    region_by_id = {}
    for row in sorted(regions, key=lambda r: (r.sort_order, r.slug)):
        on = frozenset(provider_by_id[p].slug for p in region_providers[row.id])
        ref = {
            "slug": row.slug,
            "name_id": row.name_id,
            "name_en": row.name_en,
            "country": row.country,
        }
        entry = RegionEntry(
            id=row.id,
            slug=row.slug,
            sort_key=(row.sort_order, row.slug),
            providers=on,
            json={**ref, "providers": sorted(on)},
            ref=ref,
        )
        region_by_id[row.id] = entry
        snapshot.regions.append(entry)

    image_providers: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for image_id, provider_id in image_codes:
        if provider_id in provider_by_id:
            image_providers[image_id].add(provider_id)
    for row in sorted(images, key=lambda r: (r.sort_order, r.slug)):
        on = frozenset(provider_by_id[p].slug for p in image_providers[row.id])
        ref = {
            "slug": row.slug,
            "name": row.name,
            "distribution": row.distribution,
            "version": row.version,
        }
        snapshot.images.append(
            ImageEntry(
                id=row.id,
                slug=row.slug,
                distribution=row.distribution.lower(),
                sort_key=(row.sort_order, row.slug),
                providers=on,
                json={**ref, "providers": sorted(on)},
                ref=ref,
            )
        )

    plan_prices: dict[uuid.UUID, dict[BillingCycle, int]] = defaultdict(dict)
    for plan_id, cycle, amount in prices:
        plan_prices[plan_id][BillingCycle(cycle)] = int(amount)
    plan_regions: dict[uuid.UUID, list[RegionEntry]] = defaultdict(list)
    for plan_id, region_id in offered:
        if region_id in region_by_id:
            plan_regions[plan_id].append(region_by_id[region_id])

    for plan in sorted(plans, key=lambda p: (p.sort_order, p.slug)):
        provider = provider_by_id.get(plan.provider_id)
        price = plan_prices[plan.id]
        if provider is None or BillingCycle.MONTHLY not in price:
            continue
        where = sorted(
            (r for r in plan_regions[plan.id] if provider.slug in r.providers),
            key=lambda r: r.sort_key,
        )
        if not where:
            continue  # nowhere to buy it
        public = {
            "id": str(plan.id),
            "slug": plan.slug,
            "name": plan.name,
            "provider": provider.json,
            "vcpus": plan.vcpus,
            "memory_mb": plan.memory_mb,
            "disk_gb": plan.disk_gb,
            "transfer_gb": plan.transfer_gb,
            "prices": _prices_json(price),
            "regions": [r.ref for r in where],
        }
        images_here = [i.ref for i in snapshot.images if provider.slug in i.providers]
        entry = PlanEntry(
            id=plan.id,
            slug=plan.slug,
            provider=provider.slug,
            vcpus=plan.vcpus,
            memory_mb=plan.memory_mb,
            disk_gb=plan.disk_gb,
            sort_order=plan.sort_order,
            prices=price,
            regions=frozenset(r.slug for r in where),
            json=public,
            detail_json={**public, "images": images_here},
        )
        snapshot.plans.append(entry)
        snapshot.plans_by_id[plan.id] = entry
        snapshot.plans_by_slug[plan.slug] = entry
    return snapshot
