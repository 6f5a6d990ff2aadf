from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from catalog_service.dependencies import AdminChanges, AdminUser
from catalog_service.fields import IMAGE_SLUG_PATTERN
from catalog_service.images import repository, service
from catalog_service.images.schemas import ImageCreate, ImageUpdate, ImageView
from catalog_service.paging import decode_cursor, encode_cursor
from catalog_service.providers import repository as providers
from webrana_common.db.session import ReadSessionDep
from webrana_common.openapi import ADMIN_AUTH, problems
from webrana_common.pagination import MAX_LIMIT, Page

router = APIRouter(prefix="/api/v1/admin/catalog/images", tags=["admin: images"])

SlugPath = Annotated[
    str, Path(pattern=IMAGE_SLUG_PATTERN, max_length=40, examples=["ubuntu-24.04"])
]


@router.get(
    "",
    summary="Images, active or not, by slug",
    responses=problems(**ADMIN_AUTH, s400="invalid_cursor"),
)
async def list_images(
    session: ReadSessionDep,
    _admin: AdminUser,
    active: bool | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = MAX_LIMIT,
) -> Page[ImageView]:
    after = decode_cursor(cursor, length=1)[0] if cursor else None
    rows = await repository.search(session, active=active, after_slug=after, limit=limit)
    slugs = await providers.slugs_by_id(session)
    items = [ImageView.of(i, slugs) for i in rows[:limit]]
    next_cursor = encode_cursor([items[-1].slug]) if len(rows) > limit else None
    return Page[ImageView](items=items, next_cursor=next_cursor)


@router.post(
    "",
    status_code=201,
    summary="Add an image",
    responses=problems(
        **ADMIN_AUTH,
        s409="image_slug_taken image_code_taken",
        s422="validation_error unknown_provider",
    ),
)
async def create_image(body: ImageCreate, changes: AdminChanges) -> ImageView:
    return await service.create(changes, body)


@router.get(
    "/{slug}", summary="One image", responses=problems(**ADMIN_AUTH, s404="image_not_found")
)
async def get_image(slug: SlugPath, session: ReadSessionDep, _admin: AdminUser) -> ImageView:
    return await service.view(session, await service.get(session, slug))


@router.patch(
    "/{slug}",
    summary="Change an image's names, order, status or provider codes",
    responses=problems(
        **ADMIN_AUTH,
        s404="image_not_found",
        s409="image_code_taken",
        s422="validation_error unknown_provider",
    ),
)
async def update_image(slug: SlugPath, body: ImageUpdate, changes: AdminChanges) -> ImageView:
    return await service.update(changes, slug, body)


@router.delete(
    "/{slug}",
    status_code=204,
    summary="Delete an image",
    description="Always allowed: orders keep the provider code their quote gave them.",
    responses=problems(**ADMIN_AUTH, s404="image_not_found"),
)
async def delete_image(slug: SlugPath, changes: AdminChanges) -> None:
    await service.delete(changes, slug)
