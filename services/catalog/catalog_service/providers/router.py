from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from catalog_service.dependencies import AdminChanges, AdminUser
from catalog_service.fields import SLUG_PATTERN
from catalog_service.providers import repository, service
from catalog_service.providers.schemas import ProviderCreate, ProviderUpdate, ProviderView
from webrana_common.db.session import ReadSessionDep
from webrana_common.openapi import ADMIN_AUTH, problems

router = APIRouter(prefix="/api/v1/admin/catalog/providers", tags=["admin: providers"])

SlugPath = Annotated[str, Path(pattern=SLUG_PATTERN, max_length=40, examples=["digitalocean"])]


@router.get("", summary="All providers, active or not", responses=problems(**ADMIN_AUTH))
async def list_providers(session: ReadSessionDep, _admin: AdminUser) -> list[ProviderView]:
    # A handful of rows by nature (each needs an adapter in the provider service): no paging.
    return [ProviderView.of(p) for p in await repository.all_ordered(session)]


@router.post(
    "",
    status_code=201,
    summary="Add a provider",
    description="The slug must be the one the provider service serves under "
    "`/internal/providers/{slug}`; it cannot be changed later.",
    responses=problems(**ADMIN_AUTH, s409="provider_slug_taken", s422="validation_error"),
)
async def create_provider(body: ProviderCreate, changes: AdminChanges) -> ProviderView:
    return ProviderView.of(await service.create(changes, body))


@router.get(
    "/{slug}", summary="One provider", responses=problems(**ADMIN_AUTH, s404="provider_not_found")
)
async def get_provider(slug: SlugPath, session: ReadSessionDep, _admin: AdminUser) -> ProviderView:
    return ProviderView.of(await service.get(session, slug))


@router.patch(
    "/{slug}",
    summary="Rename, reorder, activate or deactivate a provider",
    description="A deactivated provider's plans, regions codes and images disappear from the "
    "public catalog; nothing is deleted.",
    responses=problems(**ADMIN_AUTH, s404="provider_not_found", s422="validation_error"),
)
async def update_provider(
    slug: SlugPath, body: ProviderUpdate, changes: AdminChanges
) -> ProviderView:
    return ProviderView.of(await service.update(changes, slug, body))


@router.delete(
    "/{slug}",
    status_code=204,
    summary="Delete a provider without plans",
    description="Its region and image codes go with it. A provider with plans is refused "
    "(`409 provider_in_use`): deactivate it instead.",
    responses=problems(**ADMIN_AUTH, s404="provider_not_found", s409="provider_in_use"),
)
async def delete_provider(slug: SlugPath, changes: AdminChanges) -> None:
    await service.delete(changes, slug)
