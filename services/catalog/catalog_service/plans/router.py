from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from catalog_service.dependencies import AdminChanges, AdminUser, InternalChanges
from catalog_service.fields import SLUG_PATTERN
from catalog_service.plans import repository, service
from catalog_service.plans.schemas import (
    AdminPlanView,
    PlanCreate,
    PlanDeleted,
    PlanUpdate,
    ReferencedView,
)
from catalog_service.providers import repository as providers
from webrana_common.db.session import ReadSessionDep
from webrana_common.openapi import ADMIN_AUTH, INTERNAL_AUTH, problems
from webrana_common.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, make_page

router = APIRouter(prefix="/api/v1/admin/catalog/plans", tags=["admin: plans"])
internal_router = APIRouter(prefix="/internal/plans", tags=["internal"])

_WRITE_422 = (
    "validation_error unknown_provider unknown_region region_not_on_provider cycle_not_discounted"
)


@router.get(
    "",
    summary="Plans, active or not, newest first",
    description="`q` matches slug, name or provider size (substring, case-insensitive).",
    responses=problems(**ADMIN_AUTH, s400="invalid_cursor"),
)
async def list_plans(
    session: ReadSessionDep,
    _admin: AdminUser,
    provider: Annotated[str | None, Query(pattern=SLUG_PATTERN, max_length=40)] = None,
    active: bool | None = None,
    referenced: bool | None = None,
    q: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Page[AdminPlanView]:
    provider_id = None
    if provider is not None:
        provider_id = (await service.provider_by_slug(session, provider)).id
    rows = await repository.search(
        session,
        provider_id=provider_id,
        active=active,
        referenced=referenced,
        query=q,
        cursor=cursor,
        limit=limit,
    )
    items, next_cursor = make_page(list(rows), limit)
    provider_slugs = await providers.slugs_by_id(session)
    region_slugs = await repository.region_slugs(session)
    return Page[AdminPlanView](
        items=[AdminPlanView.of(p, provider_slugs, region_slugs) for p in items],
        next_cursor=next_cursor,
    )


@router.post(
    "",
    status_code=201,
    summary="Create a plan",
    responses=problems(**ADMIN_AUTH, s409="plan_slug_taken", s422=_WRITE_422),
)
async def create_plan(body: PlanCreate, changes: AdminChanges) -> AdminPlanView:
    return await service.create(changes, body)


@router.get(
    "/{plan_id}",
    summary="One plan",
    responses=problems(**ADMIN_AUTH, s404="plan_not_found", s422="validation_error"),
)
async def get_plan(plan_id: uuid.UUID, session: ReadSessionDep, _admin: AdminUser) -> AdminPlanView:
    return await service.view(session, await service.get(session, plan_id))


@router.patch(
    "/{plan_id}",
    summary="Change a plan",
    description="Partial: only the fields given change; `prices` merges per cycle; "
    '`regions` replaces the list. Activating an imported proposal is `{"active": true}`.',
    responses=problems(
        **ADMIN_AUTH,
        s404="plan_not_found",
        s409="plan_slug_taken plan_referenced",
        s422=_WRITE_422,
    ),
)
async def update_plan(plan_id: uuid.UUID, body: PlanUpdate, changes: AdminChanges) -> AdminPlanView:
    return await service.update(changes, plan_id, body)


@router.delete(
    "/{plan_id}",
    summary="Delete a plan, or deactivate it if orders reference it",
    description="A plan no order references is deleted (`outcome: deleted`). A referenced "
    "plan is deactivated instead (`outcome: deactivated`, the plan in `plan`): it leaves the "
    "public catalog, while existing servers keep their plan and renew at its price.",
    responses=problems(**ADMIN_AUTH, s404="plan_not_found"),
)
async def delete_plan(plan_id: uuid.UUID, changes: AdminChanges) -> PlanDeleted:
    return await service.delete(changes, plan_id)


@internal_router.post(
    "/{plan_id}/referenced",
    summary="Mark a plan as used by an order (order service)",
    description="Idempotent. From then on DELETE deactivates the plan and its provider and "
    "size are frozen. Call it in the order's creation flow, before answering the customer.",
    responses=problems(**INTERNAL_AUTH, s404="plan_not_found", s422="validation_error"),
)
async def mark_referenced(plan_id: uuid.UUID, changes: InternalChanges) -> ReferencedView:
    plan = await service.mark_referenced(changes, plan_id)
    assert plan.referenced_at is not None
    return ReferencedView(plan_id=plan.id, referenced=True, referenced_at=plan.referenced_at)
