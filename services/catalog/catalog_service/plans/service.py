"""The rules of plans: references must resolve, regions must exist on the plan's provider,
longer cycles must not cost more per month, and a plan an order uses is never deleted."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from catalog_service.audit.service import AuditAction, TargetType
from catalog_service.changes import CatalogChanges
from catalog_service.errors import (
    CycleNotDiscounted,
    PlanNotFound,
    PlanReferenced,
    RegionNotOnProvider,
    SlugTaken,
    UnknownReference,
)
from catalog_service.plans import repository
from catalog_service.plans.models import Plan, PlanPrice, PlanRegion
from catalog_service.plans.schemas import AdminPlanView, PlanCreate, PlanDeleted, PlanUpdate
from catalog_service.pricing import BillingCycle, first_undiscounted, per_month
from catalog_service.providers import repository as providers
from catalog_service.providers.models import Provider
from catalog_service.regions import repository as regions
from webrana_common.db.base import utcnow


async def get(session: AsyncSession, plan_id: uuid.UUID, *, for_update: bool = False) -> Plan:
    plan = await repository.get(session, plan_id, for_update=for_update)
    if plan is None:
        raise PlanNotFound(f"No plan with id {plan_id}")
    return plan


async def view(session: AsyncSession, plan: Plan) -> AdminPlanView:
    return AdminPlanView.of(
        plan, await providers.slugs_by_id(session), await repository.region_slugs(session)
    )


async def provider_by_slug(session: AsyncSession, slug: str) -> Provider:
    provider = await providers.by_slug(session, slug)
    if provider is None:
        raise UnknownReference(f"provider: unknown provider '{slug}'", code="unknown_provider")
    return provider


def check_prices(prices: Mapping[BillingCycle, int]) -> None:
    clash = first_undiscounted(prices)
    if clash is not None:
        shorter, longer = clash
        raise CycleNotDiscounted(
            f"prices.{longer.value}: Rp {prices[longer]:,} is "
            f"Rp {per_month(prices[longer], longer):,} per month, more than {shorter.value} "
            f"(Rp {per_month(prices[shorter], shorter):,} per month)",
            field=f"prices.{longer.value}",
        )


async def _region_ids(
    session: AsyncSession, slugs: list[str], provider: Provider
) -> list[uuid.UUID]:
    found = await regions.by_slugs(session, slugs)
    unknown = [s for s in slugs if s not in found]
    if unknown:
        raise UnknownReference(
            f"regions: unknown region {', '.join(repr(s) for s in unknown)}",
            code="unknown_region",
        )
    missing = [s for s in slugs if all(c.provider_id != provider.id for c in found[s].codes)]
    if missing:
        raise RegionNotOnProvider(
            f"regions: {', '.join(missing)} {'has' if len(missing) == 1 else 'have'} no "
            f"{provider.slug} code; add it to the region first",
            regions=missing,
        )
    return [found[s].id for s in slugs]


def _set_prices(plan: Plan, prices: Mapping[BillingCycle, int]) -> None:
    rows = {p.cycle: p for p in plan.prices}
    for cycle, amount in prices.items():
        if cycle in rows:
            rows[cycle].amount_idr = amount
        else:
            plan.prices.append(PlanPrice(cycle=cycle.value, amount_idr=amount))


def _set_regions(plan: Plan, region_ids: list[uuid.UUID]) -> None:
    wanted = set(region_ids)
    for row in list(plan.regions):
        if row.region_id not in wanted:
            plan.regions.remove(row)
    present = {row.region_id for row in plan.regions}
    plan.regions.extend(PlanRegion(region_id=r) for r in region_ids if r not in present)


async def create(
    changes: CatalogChanges,
    body: PlanCreate,
    *,
    action: AuditAction = AuditAction.PLAN_CREATED,
) -> AdminPlanView:
    session = changes.session
    if await repository.by_slug(session, body.slug) is not None:
        raise SlugTaken(f"Plan slug '{body.slug}' is already used", code="plan_slug_taken")
    provider = await provider_by_slug(session, body.provider)
    prices = {BillingCycle(c): a for c, a in body.prices.model_dump().items()}
    check_prices(prices)
    region_ids = await _region_ids(session, body.regions, provider)
    plan = Plan(
        id=uuid.uuid4(),
        provider_id=provider.id,
        **body.model_dump(exclude={"provider", "prices", "regions"}),
        prices=[],
        regions=[],
    )
    _set_prices(plan, prices)
    _set_regions(plan, region_ids)
    session.add(plan)
    await session.flush()
    result = await view(session, plan)
    await changes.record(
        action,
        target_type=TargetType.PLAN,
        target_id=plan.id,
        target_slug=plan.slug,
        after=result.audit(),
    )
    return result


async def update(changes: CatalogChanges, plan_id: uuid.UUID, body: PlanUpdate) -> AdminPlanView:
    session = changes.session
    plan = await get(session, plan_id, for_update=True)
    before_view = await view(session, plan)
    fields = body.changes()
    price_changes = fields.pop("prices", None)
    region_slugs = fields.pop("regions", None)
    provider_slug = fields.pop("provider", None)

    provider = await provider_by_slug(session, provider_slug or before_view.provider)
    frozen = {
        "provider": provider.id != plan.provider_id,
        "provider_size_slug": fields.get("provider_size_slug", plan.provider_size_slug)
        != plan.provider_size_slug,
    }
    if plan.referenced and any(frozen.values()):
        changed = " and ".join(name for name, moved in frozen.items() if moved)
        raise PlanReferenced(
            f"Plan {plan.slug} is referenced by orders: its {changed} cannot change. "
            "Create a new plan and deactivate this one."
        )
    if "slug" in fields and await repository.exists_with_slug(
        session, fields["slug"], other_than=plan.id
    ):
        raise SlugTaken(f"Plan slug '{fields['slug']}' is already used", code="plan_slug_taken")

    if price_changes:
        merged = {BillingCycle(c): a for c, a in before_view.prices.items()}
        merged.update({BillingCycle(c): a for c, a in price_changes.items()})
        check_prices(merged)
        _set_prices(plan, merged)
    if region_slugs is None and provider.id != plan.provider_id:
        region_slugs = before_view.regions  # every region must exist on the new provider too
    if region_slugs is not None:
        _set_regions(plan, await _region_ids(session, region_slugs, provider))
    plan.provider_id = provider.id
    for name, value in fields.items():
        setattr(plan, name, value)
    await session.flush()
    result = await view(session, plan)
    before, after = before_view.audit(), result.audit()
    if after != before:
        await changes.record(
            AuditAction.PLAN_UPDATED,
            target_type=TargetType.PLAN,
            target_id=plan.id,
            target_slug=plan.slug,
            before=before,
            after=after,
        )
    return result


async def delete(changes: CatalogChanges, plan_id: uuid.UUID) -> PlanDeleted:
    session = changes.session
    # Locked: a concurrent `referenced` call waits, then sees the plan gone (404), or it
    # commits first and this sees the marker.
    plan = await get(session, plan_id, for_update=True)
    before = (await view(session, plan)).audit()
    if plan.referenced:
        plan.active = False
        await session.flush()
        result = await view(session, plan)
        await changes.record(
            AuditAction.PLAN_DEACTIVATED,
            target_type=TargetType.PLAN,
            target_id=plan.id,
            target_slug=plan.slug,
            before=before,
            after=result.audit(),
        )
        return PlanDeleted(
            outcome="deactivated",
            detail=f"Plan {plan.slug} is referenced by orders, so it was deactivated instead "
            "of deleted; existing servers keep renewing at its price",
            plan=result,
        )
    await session.delete(plan)
    await session.flush()
    await changes.record(
        AuditAction.PLAN_DELETED,
        target_type=TargetType.PLAN,
        target_id=plan.id,
        target_slug=plan.slug,
        before=before,
    )
    return PlanDeleted(outcome="deleted", detail=f"Plan {plan.slug} was deleted", plan=None)


async def mark_referenced(changes: CatalogChanges, plan_id: uuid.UUID) -> Plan:
    """Idempotent: the first call sets the marker (and is audited), repeats change nothing."""
    session = changes.session
    plan = await get(session, plan_id, for_update=True)
    if plan.referenced_at is None:
        plan.referenced_at = utcnow()
        await session.flush()
        await changes.record(
            AuditAction.PLAN_REFERENCED,
            target_type=TargetType.PLAN,
            target_id=plan.id,
            target_slug=plan.slug,
            before={"referenced": False},
            after={"referenced": True},
            public=False,
        )
    return plan
