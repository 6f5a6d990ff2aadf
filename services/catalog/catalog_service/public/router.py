"""`/api/v1/catalog/**`: what is on sale, for anyone, from memory, with ETags.

Each route takes the raw request and answers with stored bytes (see cache.py); the query
parameters are documented from the models in queries.py.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from catalog_service.public.cache import PublicCatalog
from catalog_service.public.queries import (
    ImageListQuery,
    PlanListQuery,
    ProviderListQuery,
    RegionListQuery,
    openapi_parameters,
)
from catalog_service.public.schemas import (
    ImagePage,
    PlanPage,
    ProviderPage,
    PublicPlanDetail,
    RegionPage,
)
from catalog_service.public.views import ImageList, PlanDetail, PlanList, ProviderList, RegionList
from webrana_common.openapi import problems

router = APIRouter(prefix="/api/v1/catalog", tags=["catalog"])

_CACHING = (
    "\n\nAnswers carry `ETag` (the catalog version: it changes whenever an admin changes "
    "anything) and `Cache-Control: public, max-age=…`; send the ETag back in `If-None-Match` "
    "to get `304 Not Modified` while nothing changed."
)
_304: dict[int | str, dict[str, Any]] = {304: {"description": "Not modified since the ETag"}}

_plans, _plan, _regions, _images, _providers = (
    PlanList(),
    PlanDetail(),
    RegionList(),
    ImageList(),
    ProviderList(),
)


def _catalog(request: Request) -> PublicCatalog:
    return request.app.state.public_catalog


@router.get(
    "/plans",
    summary="Plans on sale, filtered and sorted",
    description="Prices are whole rupiah per billing cycle. Unknown `provider` or `region` "
    "slugs are a 422 naming the known ones." + _CACHING,
    response_model=PlanPage,
    responses={**_304, **problems(s400="invalid_cursor", s422="validation_error")},
    openapi_extra=openapi_parameters(PlanListQuery),
)
async def list_plans(request: Request) -> Response:
    return await _catalog(request).respond(request, _plans)


@router.get(
    "/plans/{plan}",
    summary="One plan on sale, with its regions and images",
    description="`plan` is the plan's id or slug. Plans that are not on sale are 404." + _CACHING,
    response_model=PublicPlanDetail,
    responses={**_304, **problems(s404="plan_not_found")},
)
async def get_plan(
    request: Request,
    plan: Annotated[
        str, Path(max_length=64, description="Plan id or slug", examples=["do-basic-1gb"])
    ],
) -> Response:
    return await _catalog(request).respond(request, _plan)


@router.get(
    "/regions",
    summary="Regions where something is on sale",
    description="Each with its Indonesian and English name and the providers serving it."
    + _CACHING,
    response_model=RegionPage,
    responses={**_304, **problems(s400="invalid_cursor", s422="validation_error")},
    openapi_extra=openapi_parameters(RegionListQuery),
)
async def list_regions(request: Request) -> Response:
    return await _catalog(request).respond(request, _regions)


@router.get(
    "/images",
    summary="Operating system images",
    description="Each with the providers that offer it." + _CACHING,
    response_model=ImagePage,
    responses={**_304, **problems(s400="invalid_cursor", s422="validation_error")},
    openapi_extra=openapi_parameters(ImageListQuery),
)
async def list_images(request: Request) -> Response:
    return await _catalog(request).respond(request, _images)


@router.get(
    "/providers",
    summary="Cloud providers we sell",
    description=_CACHING.strip(),
    response_model=ProviderPage,
    responses={**_304, **problems(s400="invalid_cursor", s422="validation_error")},
    openapi_extra=openapi_parameters(ProviderListQuery),
)
async def list_providers(request: Request) -> Response:
    return await _catalog(request).respond(request, _providers)
