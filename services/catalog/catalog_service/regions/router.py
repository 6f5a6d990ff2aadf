from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from catalog_service.dependencies import AdminChanges, AdminUser
from catalog_service.fields import SLUG_PATTERN
from catalog_service.paging import decode_cursor, encode_cursor
from catalog_service.providers import repository as providers
from catalog_service.regions import repository, service
from catalog_service.regions.schemas import RegionCreate, RegionUpdate, RegionView
from webrana_common.db.session import ReadSessionDep
from webrana_common.openapi import ADMIN_AUTH, problems
from webrana_common.pagination import MAX_LIMIT, Page

router = APIRouter(prefix="/api/v1/admin/catalog/regions", tags=["admin: regions"])

SlugPath = Annotated[str, Path(pattern=SLUG_PATTERN, max_length=40, examples=["sg-sin"])]


@router.get(
    "",
    summary="Regions, active or not, by slug",
    responses=problems(**ADMIN_AUTH, s400="invalid_cursor"),
)
async def list_regions(
    session: ReadSessionDep,
    _admin: AdminUser,
    active: bool | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = MAX_LIMIT,
) -> Page[RegionView]:
    after = decode_cursor(cursor, length=1)[0] if cursor else None
    rows = await repository.search(session, active=active, after_slug=after, limit=limit)
    slugs = await providers.slugs_by_id(session)
    items = [RegionView.of(r, slugs) for r in rows[:limit]]
    next_cursor = encode_cursor([items[-1].slug]) if len(rows) > limit else None
    return Page[RegionView](items=items, next_cursor=next_cursor)


@router.post(
    "",
    status_code=201,
    summary="Add a region",
    responses=problems(
        **ADMIN_AUTH,
        s409="region_slug_taken region_code_taken",
        s422="validation_error unknown_provider",
    ),
)
async def create_region(body: RegionCreate, changes: AdminChanges) -> RegionView:
    return await service.create(changes, body)


@router.get(
    "/{slug}", summary="One region", responses=problems(**ADMIN_AUTH, s404="region_not_found")
)
async def get_region(slug: SlugPath, session: ReadSessionDep, _admin: AdminUser) -> RegionView:
    return await service.view(session, await service.get(session, slug))


@router.patch(
    "/{slug}",
    summary="Change a region's names, country, order, status or provider codes",
    responses=problems(
        **ADMIN_AUTH,
        s404="region_not_found",
        s409="region_code_taken region_in_use",
        s422="validation_error unknown_provider",
    ),
)
async def update_region(slug: SlugPath, body: RegionUpdate, changes: AdminChanges) -> RegionView:
    return await service.update(changes, slug, body)


@router.delete(
    "/{slug}",
    status_code=204,
    summary="Delete a region no plan is offered in",
    description="Refused with `409 region_in_use` while any plan is offered there: set "
    "`active=false` to stop selling it instead.",
    responses=problems(**ADMIN_AUTH, s404="region_not_found", s409="region_in_use"),
)
async def delete_region(slug: SlugPath, changes: AdminChanges) -> None:
    await service.delete(changes, slug)
