from __future__ import annotations

from fastapi import APIRouter

from catalog_service.dependencies import AdminChanges, ProviderClientDep, SettingsDep
from catalog_service.imports import service
from catalog_service.imports.schemas import ImportReport, ImportRequest
from webrana_common.openapi import ADMIN_AUTH, problems

router = APIRouter(prefix="/api/v1/admin/catalog", tags=["admin: import"])


@router.post(
    "/import",
    summary="Propose plans from a provider's current sizes",
    description="Reads the provider's regions, sizes and images from the provider service. "
    "Every size we do not sell yet, offered in at least one of our active regions, becomes an "
    "**inactive** plan priced at `price_monthly_usd * USD_IDR_RATE * (1 + "
    "PLAN_MARKUP_PERCENT/100)`, rounded up to `PLAN_PRICE_STEP_IDR`, with the longer cycles "
    'discounted by PLAN_DISCOUNT_*_PERCENT. Review them and `PATCH {"active": true}`. The '
    "report also lists regions and images that need mapping, and codes the provider dropped. "
    "Running it again proposes only sizes that appeared since.",
    responses=problems(
        **ADMIN_AUTH,
        s422="validation_error unknown_provider provider_not_supported",
        s502="provider_service_unavailable",
    ),
)
async def import_plans(
    body: ImportRequest,
    changes: AdminChanges,
    client: ProviderClientDep,
    settings: SettingsDep,
) -> ImportReport:
    return await service.run(changes, client, settings, body)
