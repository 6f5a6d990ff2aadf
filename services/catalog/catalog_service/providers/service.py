from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from catalog_service.audit.service import AuditAction, TargetType
from catalog_service.changes import CatalogChanges
from catalog_service.errors import ProviderInUse, ProviderNotFound, SlugTaken
from catalog_service.providers import repository
from catalog_service.providers.models import Provider
from catalog_service.providers.schemas import ProviderCreate, ProviderUpdate, ProviderView


async def get(session: AsyncSession, slug: str) -> Provider:
    provider = await repository.by_slug(session, slug)
    if provider is None:
        raise ProviderNotFound(f"No provider with slug '{slug}'")
    return provider


async def create(changes: CatalogChanges, body: ProviderCreate) -> Provider:
    session = changes.session
    if await repository.by_slug(session, body.slug) is not None:
        raise SlugTaken(f"Provider '{body.slug}' already exists", code="provider_slug_taken")
    provider = Provider(id=uuid.uuid4(), **body.model_dump())
    session.add(provider)
    await session.flush()
    await changes.record(
        AuditAction.PROVIDER_CREATED,
        target_type=TargetType.PROVIDER,
        target_id=provider.id,
        target_slug=provider.slug,
        after=ProviderView.of(provider).audit(),
    )
    return provider


async def update(changes: CatalogChanges, slug: str, body: ProviderUpdate) -> Provider:
    session = changes.session
    provider = await get(session, slug)
    before = ProviderView.of(provider).audit()
    for name, value in body.changes().items():
        setattr(provider, name, value)
    await session.flush()
    after = ProviderView.of(provider).audit()
    if after != before:
        await changes.record(
            AuditAction.PROVIDER_UPDATED,
            target_type=TargetType.PROVIDER,
            target_id=provider.id,
            target_slug=provider.slug,
            before=before,
            after=after,
        )
    return provider


async def delete(changes: CatalogChanges, slug: str) -> None:
    session = changes.session
    provider = await get(session, slug)
    if await repository.has_plans(session, provider.id):
        raise ProviderInUse(
            f"Provider '{slug}' has plans; delete or move them first, or set active=false"
        )
    before = ProviderView.of(provider).audit()
    await session.delete(provider)
    await session.flush()
    await changes.record(
        AuditAction.PROVIDER_DELETED,
        target_type=TargetType.PROVIDER,
        target_id=provider.id,
        target_slug=provider.slug,
        before=before,
    )
