from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from catalog_service import provider_codes
from catalog_service.audit.service import AuditAction, TargetType
from catalog_service.changes import CatalogChanges
from catalog_service.errors import RegionInUse, RegionNotFound, SlugTaken
from catalog_service.providers import repository as providers
from catalog_service.regions import repository
from catalog_service.regions.models import Region, RegionCode
from catalog_service.regions.schemas import RegionCreate, RegionUpdate, RegionView


async def get(session: AsyncSession, slug: str) -> Region:
    region = await repository.by_slug(session, slug)
    if region is None:
        raise RegionNotFound(f"No region with slug '{slug}'")
    return region


async def view(session: AsyncSession, region: Region) -> RegionView:
    return RegionView.of(region, await providers.slugs_by_id(session))


async def _resolve(
    session: AsyncSession, region_id: uuid.UUID, codes: dict[str, str]
) -> dict[uuid.UUID, str]:
    return await provider_codes.resolve(
        session,
        codes,
        kind="region",
        table=RegionCode,
        owner_column=RegionCode.region_id,
        owner_id=region_id,
    )


async def create(changes: CatalogChanges, body: RegionCreate) -> RegionView:
    session = changes.session
    if await repository.by_slug(session, body.slug) is not None:
        raise SlugTaken(f"Region '{body.slug}' already exists", code="region_slug_taken")
    region_id = uuid.uuid4()
    codes = await _resolve(session, region_id, body.codes)
    region = Region(
        id=region_id,
        **body.model_dump(exclude={"codes"}),
        codes=[RegionCode(provider_id=pid, code=code) for pid, code in codes.items()],
    )
    session.add(region)
    await session.flush()
    result = await view(session, region)
    await changes.record(
        AuditAction.REGION_CREATED,
        target_type=TargetType.REGION,
        target_id=region.id,
        target_slug=region.slug,
        after=result.audit(),
    )
    return result


async def update(changes: CatalogChanges, slug: str, body: RegionUpdate) -> RegionView:
    session = changes.session
    region = await get(session, slug)
    before = (await view(session, region)).audit()
    fields = body.changes()
    codes = fields.pop("codes", None)
    for name, value in fields.items():
        setattr(region, name, value)
    if codes is not None:
        wanted = await _resolve(session, region.id, codes)
        removed, _ = provider_codes.replace(
            region.codes, wanted, lambda pid, code: RegionCode(provider_id=pid, code=code)
        )
        if removed:
            offered = await repository.plan_slugs_offered_in(session, region.id, removed)
            if offered:
                raise RegionInUse(
                    f"Plans {', '.join(offered)} are offered in '{slug}' on a provider whose "
                    "code would be removed; take the region off those plans first"
                )
    await session.flush()
    result = await view(session, region)
    after = result.audit()
    if after != before:
        await changes.record(
            AuditAction.REGION_UPDATED,
            target_type=TargetType.REGION,
            target_id=region.id,
            target_slug=region.slug,
            before=before,
            after=after,
        )
    return result


async def delete(changes: CatalogChanges, slug: str) -> None:
    session = changes.session
    region = await get(session, slug)
    offered = await repository.plan_slugs_offered_in(session, region.id)
    if offered:
        raise RegionInUse(
            f"Plans {', '.join(offered[:10])} are offered in '{slug}'; take the region off "
            "those plans first, or set active=false"
        )
    before = (await view(session, region)).audit()
    await session.delete(region)
    await session.flush()
    await changes.record(
        AuditAction.REGION_DELETED,
        target_type=TargetType.REGION,
        target_id=region.id,
        target_slug=region.slug,
        before=before,
    )
