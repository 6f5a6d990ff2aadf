"""Promo codes: what they are worth, who may use them, redemption per order and its release,
and their administration with usage figures."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from billing_builders import INTERNAL, BillingEnv
from billing_helpers import assert_problem


async def _check(env: BillingEnv, code: str, user: uuid.UUID, amount: int, kind: str = "order"):
    return await env.client.post(
        "/internal/promos/validate",
        json={"code": code, "user_id": str(user), "amount": amount, "kind": kind},
        headers=INTERNAL,
    )


async def _redeem(
    env: BillingEnv, code: str, user: uuid.UUID, order_id: str, amount: int = 200_000
):
    return await env.client.post(
        "/internal/promos/redeem",
        json={"code": code, "user_id": str(user), "amount": amount, "order_id": order_id},
        headers=INTERNAL,
    )


async def test_percent_with_cap_and_fixed_discounts(env: BillingEnv) -> None:
    percent = await env.promo(value=20, max_discount=30_000)
    fixed = await env.promo(discount_type="fixed", value=25_000)
    user = uuid.uuid4()

    capped = (await _check(env, percent["code"], user, 200_000)).json()
    small = (await _check(env, percent["code"], user, 99_999)).json()
    flat = (await _check(env, fixed["code"], user, 20_000)).json()

    assert (capped["discount"], capped["final_amount"]) == (30_000, 170_000)
    assert small["discount"] == 19_999  # rounded down
    assert (flat["discount"], flat["final_amount"]) == (20_000, 0)  # never below zero


async def test_each_rule_has_its_own_code(env: BillingEnv) -> None:
    now = datetime.now(UTC)
    user = uuid.uuid4()
    cases = {
        "promo_unknown": ("NOSUCHCODE", {}),
        "promo_inactive": (None, {"active": False}),
        "promo_not_started": (None, {"starts_at": (now + timedelta(days=1)).isoformat()}),
        "promo_expired": (
            None,
            {
                "starts_at": (now - timedelta(days=2)).isoformat(),
                "ends_at": (now - timedelta(days=1)).isoformat(),
            },
        ),
        "promo_min_amount": (None, {"min_amount": 500_000}),
        "promo_not_applicable": (None, {"applies_to_orders": False, "applies_to_deposits": True}),
    }
    for code, (name, fields) in cases.items():
        promo_code = name or (await env.promo(**fields))["code"]
        assert_problem(await _check(env, promo_code, user, 200_000), 422, code)
    user_facing = await env.client.post(
        "/api/v1/billing/promos/validate",
        json={"code": "NOSUCHCODE", "amount": 10_000},
        headers=env.headers(user),
    )
    assert_problem(user_facing, 422, "promo_unknown")


async def test_first_order_only_and_per_user_limit(env: BillingEnv) -> None:
    first = await env.promo(first_order_only=True)
    once = await env.promo(max_uses_per_user=1)
    user = uuid.uuid4()
    assert (await _check(env, first["code"], user, 100_000)).status_code == 200
    paid = await env.order_invoice(user)
    await env.pay(paid, "BRIVA")
    await env.act(paid["number"], "pay")

    assert_problem(await _check(env, first["code"], user, 100_000), 422, "promo_first_order_only")
    assert (await _redeem(env, once["code"], user, str(uuid.uuid4()))).status_code == 201
    assert_problem(
        await _redeem(env, once["code"], user, str(uuid.uuid4())), 422, "promo_user_limit"
    )


async def test_redeem_is_idempotent_per_order_and_release_gives_the_use_back(
    env: BillingEnv,
) -> None:
    promo = await env.promo(max_uses=1)
    other = await env.promo()
    user, order = uuid.uuid4(), str(uuid.uuid4())

    first = await _redeem(env, promo["code"], user, order)
    again = await _redeem(env, promo["code"], user, order)
    swap = await _redeem(env, other["code"], user, order)
    exhausted = await _redeem(env, promo["code"], uuid.uuid4(), str(uuid.uuid4()))
    released = await env.client.post(
        "/internal/promos/release", json={"order_id": order}, headers=INTERNAL
    )
    released_again = await env.client.post(
        "/internal/promos/release", json={"order_id": order}, headers=INTERNAL
    )
    reused = await _redeem(env, promo["code"], uuid.uuid4(), str(uuid.uuid4()))

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["redemption_id"] == again.json()["redemption_id"]
    assert first.json()["final_amount"] == 180_000
    assert_problem(swap, 409, "promo_already_applied")
    assert_problem(exhausted, 422, "promo_exhausted")
    assert released.json()["released"] == 1 and released_again.json()["released"] == 0
    assert reused.status_code == 201


async def test_admin_crud_with_usage_figures(env: BillingEnv) -> None:
    admin = env.admin()
    promo = await env.promo(max_uses=10, description="Diskon pembukaan")
    base = f"/api/v1/admin/billing/promos/{promo['id']}"
    for _ in range(3):
        await _redeem(env, promo["code"], uuid.uuid4(), str(uuid.uuid4()))
    order = str(uuid.uuid4())
    await _redeem(env, promo["code"], uuid.uuid4(), order)
    await env.client.post("/internal/promos/release", json={"order_id": order}, headers=INTERNAL)

    shown = (await env.client.get(base, headers=admin)).json()
    taken = await env.client.post(
        "/api/v1/admin/billing/promos",
        json={"code": promo["code"].lower(), "discount_type": "fixed", "value": 1},
        headers=admin,
    )
    lowered = await env.client.patch(base, json={"max_uses": 2}, headers=admin)
    changed = await env.client.patch(base, json={"value": 15, "active": False}, headers=admin)
    listed = (
        await env.client.get(
            "/api/v1/admin/billing/promos", params={"active": False}, headers=admin
        )
    ).json()
    deleted = await env.client.delete(base, headers=admin)
    unused = await env.promo()
    gone = await env.client.delete(f"/api/v1/admin/billing/promos/{unused['id']}", headers=admin)

    assert shown["usage"] == {
        "uses": 3,
        "remaining": 7,
        "released": 1,
        "users": 3,
        "discount_total": 60_000,
    }
    assert_problem(taken, 409, "promo_code_taken")
    assert_problem(lowered, 422, "promo_invalid")
    assert (changed.json()["value"], changed.json()["active"]) == (15, False)
    assert [p["code"] for p in listed["items"]] == [promo["code"]]
    assert deleted.status_code == 204
    assert (await env.client.get(base, headers=admin)).json()["active"] is False  # kept: used
    assert gone.status_code == 204
    assert (
        await env.client.get(f"/api/v1/admin/billing/promos/{unused['id']}", headers=admin)
    ).status_code == 404
    assert_problem(
        await env.client.get(base, headers=env.headers(uuid.uuid4())), 403, "admin_required"
    )


async def test_patch_refuses_null_for_a_field_that_cannot_be_empty(env: BillingEnv) -> None:
    admin = env.admin()
    promo = await env.promo(max_discount=30_000, description="Diskon pembukaan")
    base = f"/api/v1/admin/billing/promos/{promo['id']}"
    required = (
        "description",
        "value",
        "applies_to_orders",
        "applies_to_deposits",
        "min_amount",
        "first_order_only",
        "active",
    )

    for field in required:
        body = assert_problem(
            await env.client.patch(base, json={field: None}, headers=admin), 422, "validation_error"
        )
        assert [e["field"] for e in body["errors"]] == [field], body
        assert body["detail"].startswith(f"{field}: ")

    assert (await env.client.get(base, headers=admin)).json() == promo
    cleared = await env.client.patch(base, json={"max_discount": None}, headers=admin)
    assert cleared.status_code == 200 and cleared.json()["max_discount"] is None


async def test_naive_datetimes_are_refused(env: BillingEnv) -> None:
    admin = env.admin()
    now = datetime.now(UTC)
    zoned, naive = now.isoformat(), (now + timedelta(days=7)).replace(tzinfo=None).isoformat()
    promo = await env.promo(starts_at=zoned)
    base = f"/api/v1/admin/billing/promos/{promo['id']}"
    code = f"NAIVE{uuid.uuid4().hex[:6]}".upper()

    created = await env.client.post(
        "/api/v1/admin/billing/promos",
        json={
            "code": code,
            "discount_type": "fixed",
            "value": 1,
            "starts_at": zoned,
            "ends_at": naive,
        },
        headers=admin,
    )
    patches = [{"ends_at": naive}, {"starts_at": naive}]
    patched = [await env.client.patch(base, json=p, headers=admin) for p in patches]

    for response, field in zip(
        [created, *patched], ["ends_at", "ends_at", "starts_at"], strict=True
    ):
        body = assert_problem(response, 422, "validation_error")
        assert [e["field"] for e in body["errors"]] == [field], body
    listed = await env.client.get(
        "/api/v1/admin/billing/promos", params={"code": code}, headers=admin
    )
    assert listed.json()["items"] == []
    assert (await env.client.get(base, headers=admin)).json() == promo
