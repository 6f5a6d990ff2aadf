"""Concurrent debits never take a wallet below zero."""

from __future__ import annotations

import asyncio
import uuid

from billing_builders import INTERNAL, BillingEnv
from sqlalchemy import func, select

from billing_service.wallet.models import LedgerEntry, Wallet


async def test_concurrent_debits_never_overdraw(env: BillingEnv) -> None:
    user = uuid.uuid4()
    await env.top_up_wallet(user, 100_000)

    answers = await asyncio.gather(
        *(
            env.client.post(
                "/internal/wallet/debit",
                json={
                    "user_id": str(user),
                    "amount": 10_000,
                    "order_id": str(uuid.uuid4()),
                    "idempotency_key": f"race-{i}",
                },
                headers=INTERNAL,
            )
            for i in range(30)
        )
    )

    codes = sorted(a.status_code for a in answers)
    assert codes == [201] * 10 + [409] * 20
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"insufficient_balance"}
    async with env.db.session() as session:
        balance = await session.scalar(select(Wallet.balance).where(Wallet.user_id == user))
        total = await session.scalar(
            select(func.sum(LedgerEntry.amount)).where(LedgerEntry.user_id == user)
        )
        lowest = await session.scalar(
            select(func.min(LedgerEntry.balance_after)).where(LedgerEntry.user_id == user)
        )
    assert balance == total == 0 and lowest == 0
