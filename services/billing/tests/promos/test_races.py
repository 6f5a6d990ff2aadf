"""Redemption is atomic: a code with 10 uses is redeemed exactly 10 times however many try."""

from __future__ import annotations

import asyncio
import uuid

from billing_builders import INTERNAL, BillingEnv

from billing_service.promos.models import PromoRedemption, RedemptionStatus


async def test_100_concurrent_redemptions_of_a_10_use_code_make_exactly_10(
    env: BillingEnv,
) -> None:
    promo = await env.promo(max_uses=10)

    answers = await asyncio.gather(
        *(
            env.client.post(
                "/internal/promos/redeem",
                json={
                    "code": promo["code"],
                    "user_id": str(uuid.uuid4()),
                    "amount": 100_000,
                    "order_id": str(uuid.uuid4()),
                },
                headers=INTERNAL,
            )
            for _ in range(100)
        )
    )

    assert sorted(a.status_code for a in answers) == [201] * 10 + [422] * 90
    assert {a.json()["code"] for a in answers if a.status_code == 422} == {"promo_exhausted"}
    assert (await env.promo_row(promo["code"])).uses_count == 10


async def test_releases_racing_repeated_redemptions_of_the_same_orders_never_deadlock(
    env: BillingEnv,
) -> None:
    # The order service repeats a redemption when its answer was lost, and releases when the
    # order is cancelled: both at once for one order must queue, not deadlock (PostgreSQL
    # would abort one of them, a 500).
    promo = await env.promo()
    user = str(uuid.uuid4())
    orders = [str(uuid.uuid4()) for _ in range(15)]

    def redeem(order_id: str):
        body = {"code": promo["code"], "user_id": user, "amount": 100_000, "order_id": order_id}
        return env.client.post("/internal/promos/redeem", json=body, headers=INTERNAL)

    def release(order_id: str):
        body = {"order_id": order_id, "reason": "cancelled"}
        return env.client.post("/internal/promos/release", json=body, headers=INTERNAL)

    for order_id in orders:
        assert (await redeem(order_id)).status_code == 201
    answers = await asyncio.gather(
        *(call(order_id) for order_id in orders for call in (redeem, release, redeem, release))
    )

    assert [a.status_code for a in answers if a.status_code >= 500] == []
    row = await env.promo_row(promo["code"])
    active = await env.count(
        PromoRedemption,
        PromoRedemption.promo_id == row.id,
        PromoRedemption.status == RedemptionStatus.ACTIVE,
    )
    assert row.uses_count == active
