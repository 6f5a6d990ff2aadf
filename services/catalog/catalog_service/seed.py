"""`webrana up` runs `seed(database_url)` after the migrations, on every start: it inserts the
providers, regions, images and plans of seed_data.py that are missing (by slug), each with its
codes, prices and regions, and leaves every existing row alone — admin edits survive, and a
second run changes nothing (not even the catalog version)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog_service import seed_data
from catalog_service.audit.service import Actor, AuditAction, TargetType
from catalog_service.changes import CatalogChanges
from catalog_service.images.models import Image, ImageCode
from catalog_service.plans.models import Plan, PlanPrice, PlanRegion
from catalog_service.pricing import cycle_prices, monthly_price_idr
from catalog_service.providers.models import Provider
from catalog_service.regions.models import Region, RegionCode
from catalog_service.versioning.models import CatalogState
from webrana_common.db.session import Database


async def seed(database_url: str) -> None:
    db = Database(database_url, pool_size=1)
    try:
        async with db.session() as session:
            inserted = await apply(session)
        total = sum(inserted.values())
        if total:
            print(
                "catalog seed: inserted " + ", ".join(f"{n} {k}" for k, n in inserted.items() if n)
            )
        else:
            print("catalog seed: nothing missing")
    finally:
        await db.dispose()


async def apply(session: AsyncSession) -> dict[str, int]:
    # Two seeds at once (two `webrana up`) queue here instead of racing on the unique slugs.
    await session.execute(select(CatalogState.id).where(CatalogState.id == 1).with_for_update())
    providers, new_providers = await _providers(session)
    inserted = {
        "providers": new_providers,
        "regions": await _regions(session, providers),
        "images": await _images(session, providers),
        "plans": await _plans(session, providers),
    }
    if any(inserted.values()):
        await session.flush()
        await CatalogChanges(session, Actor(service="seed")).record(
            AuditAction.CATALOG_SEEDED,
            target_type=TargetType.CATALOG,
            target_id=None,
            target_slug=None,
            after=inserted,
        )
    return inserted


async def _providers(session: AsyncSession) -> tuple[dict[str, uuid.UUID], int]:
    have = {p.slug: p.id for p in await session.scalars(select(Provider))}
    inserted = 0
    for slug, name, order in seed_data.PROVIDERS:
        if slug not in have:
            provider = Provider(
                id=uuid.uuid4(), slug=slug, name=name, active=True, sort_order=order
            )
            session.add(provider)
            have[slug] = provider.id
            inserted += 1
    await session.flush()
    return have, inserted


async def _regions(session: AsyncSession, providers: dict[str, uuid.UUID]) -> int:
    have = set(await session.scalars(select(Region.slug)))
    taken = {
        (p, c) for p, c in await session.execute(select(RegionCode.provider_id, RegionCode.code))
    }
    inserted = 0
    for r in seed_data.REGIONS:
        if r.slug in have:
            continue
        codes = [
            RegionCode(provider_id=providers[p], code=c)
            for p, c in r.codes.items()
            if p in providers and (providers[p], c) not in taken
        ]
        session.add(
            Region(
                id=uuid.uuid4(), slug=r.slug, name_id=r.name_id, name_en=r.name_en,
                country=r.country, active=True, sort_order=r.sort_order, codes=codes,
            )
        )  # fmt: skip
        inserted += 1
    await session.flush()
    return inserted


async def _images(session: AsyncSession, providers: dict[str, uuid.UUID]) -> int:
    have = set(await session.scalars(select(Image.slug)))
    taken = {
        (p, c) for p, c in await session.execute(select(ImageCode.provider_id, ImageCode.code))
    }
    inserted = 0
    for i in seed_data.IMAGES:
        if i.slug in have:
            continue
        codes = [
            ImageCode(provider_id=providers[p], code=c)
            for p, c in i.codes.items()
            if p in providers and (providers[p], c) not in taken
        ]
        session.add(
            Image(
                id=uuid.uuid4(), slug=i.slug, name=i.name, distribution=i.distribution,
                version=i.version, active=True, sort_order=i.sort_order, codes=codes,
            )
        )  # fmt: skip
        inserted += 1
    await session.flush()
    return inserted


async def _plans(session: AsyncSession, providers: dict[str, uuid.UUID]) -> int:
    have = set(await session.scalars(select(Plan.slug)))
    # Offered only where the region exists and has a code on the plan's provider.
    coded = {
        (slug, provider_id)
        for slug, provider_id in await session.execute(
            select(Region.slug, RegionCode.provider_id).join(
                RegionCode, RegionCode.region_id == Region.id
            )
        )
    }
    region_ids = {slug: rid for rid, slug in await session.execute(select(Region.id, Region.slug))}
    inserted = 0
    for p in seed_data.PLANS:
        if p.slug in have or p.provider not in providers:
            continue
        provider_id = providers[p.provider]
        monthly = monthly_price_idr(
            seed_data.usd_price(p),
            rate=seed_data.SEED_USD_IDR_RATE,
            markup_percent=seed_data.SEED_MARKUP_PERCENT,
            step=seed_data.SEED_PRICE_STEP_IDR,
        )
        prices = cycle_prices(monthly, seed_data.SEED_DISCOUNTS, seed_data.SEED_PRICE_STEP_IDR)
        session.add(
            Plan(
                id=uuid.uuid4(), slug=p.slug, name=p.name, provider_id=provider_id,
                provider_size_slug=p.size, vcpus=p.vcpus, memory_mb=p.memory_mb,
                disk_gb=p.disk_gb, transfer_gb=p.transfer_gb, active=True,
                sort_order=p.sort_order,
                prices=[PlanPrice(cycle=c.value, amount_idr=a) for c, a in prices.items()],
                regions=[
                    PlanRegion(region_id=region_ids[r])
                    for r in p.regions
                    if (r, provider_id) in coded
                ],
            )
        )  # fmt: skip
        inserted += 1
    await session.flush()
    return inserted
