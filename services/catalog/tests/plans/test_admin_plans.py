"""Plan administration: who may, what is validated, what is audited."""

from __future__ import annotations

from typing import Any

import httpx
from catalog_builders import make_basics, make_plan, make_provider, make_region, plan_body
from catalog_helpers import PRICES, assert_problem
from sqlalchemy import select

from catalog_service.audit.models import AuditEntry
from catalog_service.plans.models import Plan
from webrana_common.db.session import Database

PLANS = "/api/v1/admin/catalog/plans"


async def test_admin_routes_need_an_admin_token(
    client: httpx.AsyncClient, customer: dict[str, str]
) -> None:
    assert_problem(await client.get(PLANS), 401, "token_missing")
    assert_problem(await client.get(PLANS, headers=customer), 403, "admin_required")
    assert_problem(
        await client.post(PLANS, json=plan_body(), headers=customer), 403, "admin_required"
    )
    assert_problem(
        await client.get(PLANS, headers={"Authorization": "Bearer not-a-jwt"}), 401, "token_invalid"
    )


async def test_creates_a_plan_and_reads_it_back(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await make_basics(client, admin)
    created = await make_plan(client, admin, slug="do-1gb", sort_order=5)
    assert created["prices"] == PRICES
    assert created["regions"] == ["sg-sin"]
    assert created["active"] is True and created["referenced"] is False
    fetched = await client.get(f"{PLANS}/{created['id']}", headers=admin)
    assert fetched.json() == created
    listed = (await client.get(PLANS, params={"provider": "digitalocean"}, headers=admin)).json()
    assert [p["slug"] for p in listed["items"]] == ["do-1gb"]


async def test_body_validation_names_each_field(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await make_basics(client, admin)
    bad = plan_body(slug="Not A Slug", vcpus=0, prices={"monthly": 100_000}, extra=1)
    body = assert_problem(
        await client.post(PLANS, json=bad, headers=admin), 422, "validation_error"
    )
    fields = {e["field"] for e in body["errors"]}
    assert {"slug", "vcpus", "prices.quarterly", "prices.annual", "extra"} <= fields
    # money is whole rupiah: strings and fractions are refused, not coerced
    fractional = plan_body(prices={**PRICES, "monthly": 100_000.5})
    body = assert_problem(
        await client.post(PLANS, json=fractional, headers=admin), 422, "validation_error"
    )
    assert body["errors"][0]["field"] == "prices.monthly"


async def test_a_longer_cycle_may_not_cost_more_per_month(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await make_basics(client, admin)
    dear_annual = plan_body(prices={**PRICES, "annual": 1_300_000})  # > 12 x semiannual/6
    body = assert_problem(
        await client.post(PLANS, json=dear_annual, headers=admin), 422, "cycle_not_discounted"
    )
    assert body["field"] == "prices.annual"
    assert "more than semiannual" in body["detail"]


async def test_references_must_exist_and_regions_need_a_code_on_the_provider(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await make_basics(client, admin)
    await make_provider(client, admin, "vultr")
    await make_region(client, admin, "jp-tyo", codes={"vultr": "nrt"}, name_en="Tokyo")

    unknown = plan_body(provider="aws")
    assert_problem(await client.post(PLANS, json=unknown, headers=admin), 422, "unknown_provider")
    nowhere = plan_body(regions=["xx-nowhere"])
    assert_problem(await client.post(PLANS, json=nowhere, headers=admin), 422, "unknown_region")
    not_on_do = plan_body(regions=["sg-sin", "jp-tyo"])
    body = assert_problem(
        await client.post(PLANS, json=not_on_do, headers=admin), 422, "region_not_on_provider"
    )
    assert body["regions"] == ["jp-tyo"]
    repeated = plan_body(regions=["sg-sin", "sg-sin"])
    assert_problem(await client.post(PLANS, json=repeated, headers=admin), 422, "validation_error")


async def test_slugs_are_unique(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    await make_basics(client, admin)
    first = await make_plan(client, admin, slug="taken")
    assert_problem(
        await client.post(PLANS, json=plan_body(slug="taken"), headers=admin),
        409,
        "plan_slug_taken",
    )
    other = await make_plan(client, admin)
    assert_problem(
        await client.patch(f"{PLANS}/{other['id']}", json={"slug": "taken"}, headers=admin),
        409,
        "plan_slug_taken",
    )
    assert first["slug"] == "taken"


async def test_patch_merges_prices_and_refuses_nulls(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await make_basics(client, admin)
    plan = await make_plan(client, admin)
    response = await client.patch(
        f"{PLANS}/{plan['id']}",
        json={"prices": {"monthly": 110_000}, "name": "Basic 1 GB (new)"},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    assert response.json()["prices"] == {**PRICES, "monthly": 110_000}
    assert response.json()["name"] == "Basic 1 GB (new)"
    body = assert_problem(
        await client.patch(f"{PLANS}/{plan['id']}", json={"name": None}, headers=admin),
        422,
        "validation_error",
    )
    assert body["errors"][0]["field"] == "name"
    assert_problem(
        await client.patch(f"{PLANS}/00000000-0000-4000-8000-000000000000", json={}, headers=admin),
        404,
        "plan_not_found",
    )


async def test_deleting_an_unreferenced_plan_deletes_it(
    client: httpx.AsyncClient, admin: dict[str, str], db: Database
) -> None:
    await make_basics(client, admin)
    plan = await make_plan(client, admin)
    response = await client.delete(f"{PLANS}/{plan['id']}", headers=admin)
    assert response.json() == {
        "outcome": "deleted",
        "detail": f"Plan {plan['slug']} was deleted",
        "plan": None,
    }
    async with db.session() as session:
        assert await session.get(Plan, plan["id"]) is None
    assert_problem(await client.get(f"{PLANS}/{plan['id']}", headers=admin), 404, "plan_not_found")


async def test_a_referenced_plan_is_deactivated_not_deleted(
    client: httpx.AsyncClient, admin: dict[str, str], internal: dict[str, str], db: Database
) -> None:
    await make_basics(client, admin)
    plan = await make_plan(client, admin)
    marked = await client.post(f"/internal/plans/{plan['id']}/referenced", headers=internal)
    assert marked.status_code == 200 and marked.json()["referenced"] is True
    again = await client.post(f"/internal/plans/{plan['id']}/referenced", headers=internal)
    assert again.json()["referenced_at"] == marked.json()["referenced_at"]  # idempotent

    response = await client.delete(f"{PLANS}/{plan['id']}", headers=admin)
    assert response.status_code == 200
    body = response.json()
    assert body["outcome"] == "deactivated"
    assert "referenced by orders" in body["detail"]
    assert body["plan"]["active"] is False and body["plan"]["referenced"] is True
    async with db.session() as session:
        row = await session.get(Plan, plan["id"])
        assert row is not None and row.active is False
    public = await client.get(f"/api/v1/catalog/plans/{plan['slug']}")
    assert_problem(public, 404, "plan_not_found")

    actions = await _actions(db, plan["id"])
    assert actions == ["plan.created", "plan.referenced", "plan.deactivated"]


async def test_provider_and_size_of_a_referenced_plan_are_frozen(
    client: httpx.AsyncClient, admin: dict[str, str], internal: dict[str, str]
) -> None:
    await make_basics(client, admin)
    plan = await make_plan(client, admin)
    await client.post(f"/internal/plans/{plan['id']}/referenced", headers=internal)
    body = assert_problem(
        await client.patch(
            f"{PLANS}/{plan['id']}", json={"provider_size_slug": "s-2vcpu-2gb"}, headers=admin
        ),
        409,
        "plan_referenced",
    )
    assert "provider_size_slug" in body["detail"]
    # prices still change: renewals follow them
    ok = await client.patch(
        f"{PLANS}/{plan['id']}", json={"prices": {"monthly": 120_000}}, headers=admin
    )
    assert ok.status_code == 200


async def test_the_referenced_marker_needs_the_api_key_and_a_real_plan(
    client: httpx.AsyncClient, internal: dict[str, str]
) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    assert_problem(
        await client.post(f"/internal/plans/{missing}/referenced"), 401, "api_key_invalid"
    )
    assert_problem(
        await client.post(f"/internal/plans/{missing}/referenced", headers=internal),
        404,
        "plan_not_found",
    )


async def test_every_change_is_audited_with_actor_before_after_and_request_id(
    client: httpx.AsyncClient, admin: dict[str, str], tokens: Any, db: Database
) -> None:
    import uuid

    await make_basics(client, admin)
    me = uuid.uuid4()
    headers = tokens.headers(me, role="admin")
    plan = await make_plan(client, headers)
    await client.patch(
        f"{PLANS}/{plan['id']}",
        json={"prices": {"monthly": 105_000}},
        headers={**headers, "X-Request-ID": "req-price-change"},
    )
    async with db.session() as session:
        entries = (
            await session.scalars(
                select(AuditEntry)
                .where(AuditEntry.target_id == plan["id"])
                .order_by(AuditEntry.created_at)
            )
        ).all()
    assert [e.action for e in entries] == ["plan.created", "plan.updated"]
    update = entries[1]
    assert update.actor_id == me
    assert update.request_id == "req-price-change"
    assert update.before["prices"]["monthly"] == PRICES["monthly"]
    assert update.after["prices"]["monthly"] == 105_000
    assert update.target_slug == plan["slug"]


async def _actions(db: Database, target_id: Any) -> list[str]:
    async with db.session() as session:
        rows = await session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.target_id == target_id)
            .order_by(AuditEntry.created_at)
        )
        return list(rows)
