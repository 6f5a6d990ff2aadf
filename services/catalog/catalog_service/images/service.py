from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from catalog_service import provider_codes
from catalog_service.audit.service import AuditAction, TargetType
from catalog_service.changes import CatalogChanges
from catalog_service.errors import ImageNotFound, SlugTaken
from catalog_service.images import repository
from catalog_service.images.models import Image, ImageCode
from catalog_service.images.schemas import ImageCreate, ImageUpdate, ImageView
from catalog_service.providers import repository as providers


async def get(session: AsyncSession, slug: str) -> Image:
    image = await repository.by_slug(session, slug)
    if image is None:
        raise ImageNotFound(f"No image with slug '{slug}'")
    return image


async def view(session: AsyncSession, image: Image) -> ImageView:
    return ImageView.of(image, await providers.slugs_by_id(session))


async def _resolve(
    session: AsyncSession, image_id: uuid.UUID, codes: dict[str, str]
) -> dict[uuid.UUID, str]:
    return await provider_codes.resolve(
        session,
        codes,
        kind="image",
        table=ImageCode,
        owner_column=ImageCode.image_id,
        owner_id=image_id,
    )


async def create(changes: CatalogChanges, body: ImageCreate) -> ImageView:
    session = changes.session
    if await repository.by_slug(session, body.slug) is not None:
        raise SlugTaken(f"Image '{body.slug}' already exists", code="image_slug_taken")
    image_id = uuid.uuid4()
    codes = await _resolve(session, image_id, body.codes)
    image = Image(
        id=image_id,
        **body.model_dump(exclude={"codes"}),
        codes=[ImageCode(provider_id=pid, code=code) for pid, code in codes.items()],
    )
    session.add(image)
    await session.flush()
    result = await view(session, image)
    await changes.record(
        AuditAction.IMAGE_CREATED,
        target_type=TargetType.IMAGE,
        target_id=image.id,
        target_slug=image.slug,
        after=result.audit(),
    )
    return result


async def update(changes: CatalogChanges, slug: str, body: ImageUpdate) -> ImageView:
    session = changes.session
    image = await get(session, slug)
    before = (await view(session, image)).audit()
    fields = body.changes()
    codes = fields.pop("codes", None)
    for name, value in fields.items():
        setattr(image, name, value)
    if codes is not None:
        wanted = await _resolve(session, image.id, codes)
        provider_codes.replace(
            image.codes, wanted, lambda pid, code: ImageCode(provider_id=pid, code=code)
        )
    await session.flush()
    result = await view(session, image)
    after = result.audit()
    if after != before:
        await changes.record(
            AuditAction.IMAGE_UPDATED,
            target_type=TargetType.IMAGE,
            target_id=image.id,
            target_slug=image.slug,
            before=before,
            after=after,
        )
    return result


async def delete(changes: CatalogChanges, slug: str) -> None:
    """Orders keep the provider code their quote gave them, so nothing else depends on the
    row: deleting is always allowed."""
    session = changes.session
    image = await get(session, slug)
    before = (await view(session, image)).audit()
    await session.delete(image)
    await session.flush()
    await changes.record(
        AuditAction.IMAGE_DELETED,
        target_type=TargetType.IMAGE,
        target_id=image.id,
        target_slug=image.slug,
        before=before,
    )
