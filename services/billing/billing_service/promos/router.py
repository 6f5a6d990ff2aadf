from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from billing_service.dependencies import DEFAULT_PAGE, Cursor, Limit
from billing_service.errors import PromoNotFound
from billing_service.promos import repository, service
from billing_service.promos.schemas import (
    CreatePromo,
    InternalPromoCheck,
    PromoCheck,
    PromoQuote,
    PromoView,
    RedeemRequest,
    RedemptionView,
    ReleaseRequest,
    ReleaseResult,
    UpdatePromo,
)
from webrana_common.auth.api_keys import Internal
from webrana_common.auth.dependencies import AdminUser, CurrentUser
from webrana_common.db.session import ReadSessionDep, SessionDep
from webrana_common.openapi import ADMIN_AUTH, INTERNAL_AUTH, problems
from webrana_common.pagination import Page, make_page

router = APIRouter(prefix="/api/v1/billing/promos", tags=["promos"])
internal_router = APIRouter(prefix="/internal/promos", tags=["internal"])
admin_router = APIRouter(prefix="/api/v1/admin/billing/promos", tags=["admin: promos"])
REJECTIONS = (
    "promo_unknown promo_inactive promo_not_started promo_expired promo_not_applicable "
    "promo_min_amount promo_exhausted promo_user_limit promo_first_order_only validation_error"
)


def _quote(evaluation: service.Evaluation) -> PromoQuote:
    return PromoQuote(
        code=evaluation.promo.code,
        kind=evaluation.kind,
        amount=evaluation.amount,
        discount=evaluation.discount,
        final_amount=evaluation.final_amount,
        description=evaluation.promo.description,
    )


@router.post(
    "/validate",
    summary="Check a promo code for an amount",
    description="Nothing is redeemed: an order redeems its code when it is placed, a top-up "
    "when its invoice is made.",
    responses=problems(s401="token_missing token_invalid", s422=REJECTIONS),
)
async def validate(body: PromoCheck, user: CurrentUser, session: SessionDep) -> PromoQuote:
    return _quote(
        await service.validate(
            session, body.code, user_id=user.user_id, kind=body.kind, amount=body.amount
        )
    )


@internal_router.post(
    "/validate",
    summary="Check a promo code for a user and amount (service-to-service)",
    responses=problems(**INTERNAL_AUTH, s422=REJECTIONS),
)
async def internal_validate(
    body: InternalPromoCheck, session: SessionDep, _caller: Internal
) -> PromoQuote:
    return _quote(
        await service.validate(
            session, body.code, user_id=body.user_id, kind=body.kind, amount=body.amount
        )
    )


@internal_router.post(
    "/redeem",
    status_code=status.HTTP_201_CREATED,
    summary="Apply a promo code to an order (service-to-service)",
    description="Atomic: concurrent redemptions of a code never exceed its uses. Idempotent per "
    "order: the same code for the same order again answers the live redemption (200, "
    "`replayed`); another code while one is live is 409 `promo_already_applied`.",
    responses={
        200: {"model": RedemptionView, "description": "Already redeemed for this order"},
        **problems(**INTERNAL_AUTH, s409="promo_already_applied", s422=REJECTIONS),
    },
)
async def redeem(
    body: RedeemRequest, response: Response, session: SessionDep, _caller: Internal
) -> RedemptionView:
    redemption, created = await service.redeem(
        session,
        body.code,
        user_id=body.user_id,
        kind="order",
        amount=body.amount,
        order_id=body.order_id,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return RedemptionView.of(redemption, body.code.strip().upper(), replayed=not created)


@internal_router.post(
    "/release",
    summary="Give back an order's promo use (service-to-service)",
    description="When an order is cancelled or expires. Idempotent: nothing live is fine "
    "(`released: 0`). Billing also releases it by itself when the order's invoice expires "
    "or is cancelled.",
    responses=problems(**INTERNAL_AUTH),
)
async def release(body: ReleaseRequest, session: SessionDep, _caller: Internal) -> ReleaseResult:
    released = await service.release(session, order_id=body.order_id, reason=body.reason)
    return ReleaseResult(order_id=body.order_id, released=len(released))


async def _views(session: SessionDep, promos: list) -> list[PromoView]:  # type: ignore[type-arg]
    figures = await repository.usage(session, [p.id for p in promos])
    return [PromoView.of(p, figures[p.id]) for p in promos]


@admin_router.get("", summary="Promos with usage figures", responses=problems(**ADMIN_AUTH))
async def list_promos(
    _admin: AdminUser,
    session: ReadSessionDep,
    active: bool | None = None,
    code: Annotated[str | None, Query(max_length=40)] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_PAGE,
) -> Page[PromoView]:
    rows = await repository.search(session, active=active, code=code, cursor=cursor, limit=limit)
    items, next_cursor = make_page(rows, limit)
    return Page(items=await _views(session, items), next_cursor=next_cursor)


@admin_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a promo",
    responses=problems(**ADMIN_AUTH, s409="promo_code_taken", s422="validation_error"),
)
async def create_promo(body: CreatePromo, admin: AdminUser, session: SessionDep) -> PromoView:
    promo = await service.create_promo(session, admin.user_id, body)
    return (await _views(session, [promo]))[0]


@admin_router.get(
    "/{promo_id}", summary="A promo", responses=problems(**ADMIN_AUTH, s404="promo_not_found")
)
async def get_promo(promo_id: uuid.UUID, _admin: AdminUser, session: ReadSessionDep) -> PromoView:
    promo = await repository.get(session, promo_id)
    if promo is None:
        raise PromoNotFound(f"No promo {promo_id}")
    return (await _views(session, [promo]))[0]


@admin_router.patch(
    "/{promo_id}",
    summary="Change a promo (not its code)",
    responses=problems(**ADMIN_AUTH, s404="promo_not_found", s422="promo_invalid validation_error"),
)
async def update_promo(
    promo_id: uuid.UUID, body: UpdatePromo, admin: AdminUser, session: SessionDep
) -> PromoView:
    promo = await service.update_promo(session, admin.user_id, promo_id, body)
    return (await _views(session, [promo]))[0]


@admin_router.delete(
    "/{promo_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a promo never used, or deactivate a used one",
    responses=problems(**ADMIN_AUTH, s404="promo_not_found"),
)
async def delete_promo(promo_id: uuid.UUID, admin: AdminUser, session: SessionDep) -> Response:
    await service.delete_promo(session, admin.user_id, promo_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
