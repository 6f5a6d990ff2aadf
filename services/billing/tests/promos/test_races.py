"""Redemption is atomic: a code with 10 uses is redeemed exactly 10 times however many try."""

from __future__ import annotations

import asyncio
import uuid

from billing_builders import INTERNAL, BillingEnv


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
