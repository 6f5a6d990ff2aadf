from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError

from catalog_service.fields import IMAGE_SLUG_PATTERN, SLUG_PATTERN
from catalog_service.pricing import BillingCycle
from catalog_service.quotes import service
from catalog_service.quotes.schemas import Quote
from webrana_common.auth.api_keys import Internal
from webrana_common.db.session import ReadSessionDep
from webrana_common.openapi import INTERNAL_AUTH, problems

router = APIRouter(prefix="/internal/plans", tags=["internal"])


@router.get(
    "/{plan_id}/quote",
    summary="Price a plan and map it to the provider (order service)",
    description="The price the order service must charge (never the client's number) and the "
    "provider's size, region code and image code to provision with. New orders need `region` "
    "and `image`; `renewal=true` prices an existing server: a plan, region or image retired "
    "since is still quoted, and `region`/`image` may be left out.",
    responses=problems(
        **INTERNAL_AUTH,
        s404="plan_not_found",
        s422="validation_error plan_inactive region_not_offered image_not_offered "
        "unknown_region unknown_image",
    ),
)
async def quote(
    plan_id: uuid.UUID,
    request: Request,
    session: ReadSessionDep,
    _caller: Internal,
    cycle: Annotated[BillingCycle, Query(description="Billing cycle")],
    region: Annotated[
        str | None, Query(pattern=SLUG_PATTERN, max_length=40, description="Our region slug")
    ] = None,
    image: Annotated[
        str | None, Query(pattern=IMAGE_SLUG_PATTERN, max_length=40, description="Our image slug")
    ] = None,
    renewal: Annotated[bool, Query(description="Price an existing server")] = False,
) -> Quote:
    if not renewal:
        missing = [name for name, value in (("region", region), ("image", image)) if value is None]
        if missing:
            raise RequestValidationError(
                [
                    {
                        "loc": ("query", name),
                        "msg": "Field required for a new order",
                        "type": "missing",
                    }
                    for name in missing
                ]
            )
    return await service.quote(
        session,
        plan_id,
        cycle,
        region_slug=region,
        image_slug=image,
        renewal=renewal,
        cache=request.app.state.quote_cache,
    )
