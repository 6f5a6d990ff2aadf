"""The wallet: top-ups through Tripay, debits and refunds for the order service, admin
adjustments, and a balance that always equals its ledger (the database sees to it)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from billing_builders import INTERNAL, BillingEnv
from billing_helpers import assert_problem
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from billing_service.wallet.models import LedgerEntry


async def _balance(env: BillingEnv, user: uuid.UUID) -> int:
    response = await env.client.get(f"/internal/wallets/{user}", headers=INTERNAL)
    return int(response.json()["balance"])


async def test_top_up_with_a_deposit_promo_credits_amount_and_bonus(env: BillingEnv) -> None:
    promo = await env.promo(
        discount_type="percent",
        value=10,
        max_discount=15_000,
        applies_to_orders=False,
        applies_to_deposits=True,
    )
    user = uuid.uuid4()
    created = await env.client.post(
        "/api/v1/billing/wallet/topups",
        json={"amount": 200_000, "promo_code": promo["code"].lower()},
        headers=env.headers(user),
    )
    invoice = {**created.json(), "user_id": str(user)}
    assert (invoice["kind"], invoice["amount"], invoice["promo_code"]) == (
        "deposit",
        200_000,
        promo["code"],
    )
    await env.pay(invoice, "MANDIRIVA")

    await env.act(invoice["number"], "pay")

    assert await _balance(env, user) == 215_000
    ledger = (
        await env.client.get("/api/v1/billing/wallet/ledger", headers=env.headers(user))
    ).json()["items"]
    assert [(e["kind"], e["amount"], e["balance_after"]) for e in ledger] == [
        ("promo_bonus", 15_000, 215_000),
        ("deposit", 200_000, 200_000),
    ]
    [topup] = env.fleet.events("WALLET_TOPUP")
    assert (topup["data"]["amount"], topup["data"]["bonus"], topup["data"]["balance"]) == (
        200_000,
        15_000,
        215_000,
    )
    assert env.fleet.order_messages == {}  # a top-up is no order's business


async def test_tripay_refund_of_a_top_up_takes_back_its_promo_bonus(env: BillingEnv) -> None:
    promo = await env.promo(
        discount_type="percent", value=10, applies_to_orders=False, applies_to_deposits=True
    )
    user = uuid.uuid4()
    created = await env.client.post(
        "/api/v1/billing/wallet/topups",
        json={"amount": 1_000_000, "promo_code": promo["code"]},
        headers=env.headers(user),
    )
    invoice = {**created.json(), "user_id": str(user)}
    await env.pay(invoice, "BRIVA")
    await env.act(invoice["number"], "pay")
    assert await _balance(env, user) == 1_100_000

    await env.act(invoice["number"], "refund")
    # Tripay repeats its callbacks: the duplicate reverses nothing more.
    sent = await env.tripay.get("/_sandbox/callbacks", params={"reference": invoice["number"]})
    refund = next(c for c in sent.json()["callbacks"] if c["status"] == "REFUND")
    await env.tripay.post(f"/_sandbox/callbacks/{refund['id']}/resend")
    await env.settle()

    assert await _balance(env, user) == 0
    assert (await env.invoice(invoice["id"])).status == "REFUNDED"
    ledger = (
        await env.client.get("/api/v1/billing/wallet/ledger", headers=env.headers(user))
    ).json()["items"]
    assert [(e["kind"], e["amount"]) for e in ledger[:2]] == [
        ("deposit_reversal", -100_000),
        ("deposit_reversal", -1_000_000),
    ]
    shown = await env.client.get(f"/api/v1/admin/billing/promos/{promo['id']}", headers=env.admin())
    assert shown.json()["usage"]["uses"] == 0  # the use is given back with the bonus


async def test_top_up_limits(env: BillingEnv) -> None:
    user = env.headers(uuid.uuid4())
    for amount in (9_999, 10_000_001):
        response = await env.client.post(
            "/api/v1/billing/wallet/topups", json={"amount": amount}, headers=user
        )
        assert_problem(response, 422, "topup_amount_out_of_range")


async def test_debit_pays_the_orders_invoice_and_is_idempotent(env: BillingEnv) -> None:
    user = uuid.uuid4()
    await env.top_up_wallet(user, 300_000)
    invoice = await env.order_invoice(user, amount=120_000)
    body = {
        "user_id": str(user),
        "amount": 120_000,
        "order_id": invoice["order_id"],
        "idempotency_key": f"order:{invoice['order_id']}:pay",
    }

    first = await env.client.post("/internal/wallet/debit", json=body, headers=INTERNAL)
    again = await env.client.post("/internal/wallet/debit", json=body, headers=INTERNAL)
    other = await env.client.post(
        "/internal/wallet/debit", json={**body, "amount": 1}, headers=INTERNAL
    )
    await env.settle()

    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["entry_id"] == again.json()["entry_id"]
    assert (first.json()["balance"], first.json()["invoice_status"]) == (180_000, "PAID")
    assert again.json()["replayed"] is True
    assert_problem(other, 409, "idempotency_key_reused")
    assert await _balance(env, user) == 180_000
    assert env.fleet.statuses(invoice["order_id"]) == ["PAID"]
    assert (await env.invoice(invoice["id"])).paid_via == "WALLET"


async def test_debit_refused_without_enough_balance(env: BillingEnv) -> None:
    user = uuid.uuid4()
    response = await env.client.post(
        "/internal/wallet/debit",
        json={
            "user_id": str(user),
            "amount": 1,
            "order_id": str(uuid.uuid4()),
            "idempotency_key": "k",
        },
        headers=INTERNAL,
    )
    body = assert_problem(response, 409, "insufficient_balance")
    assert (body["balance"], body["required"]) == (0, 1)


async def test_refunds_never_exceed_what_was_paid(env: BillingEnv) -> None:
    user = uuid.uuid4()
    await env.top_up_wallet(user, 100_000)
    invoice = await env.order_invoice(user, amount=100_000)
    await env.pay(invoice, "WALLET")

    def refund(amount: int, key: str) -> dict[str, object]:
        return {
            "user_id": str(user),
            "amount": amount,
            "order_id": invoice["order_id"],
            "idempotency_key": key,
            "reason": "provisioning failed",
        }

    part = await env.client.post(
        "/internal/wallet/refund", json=refund(40_000, "r1"), headers=INTERNAL
    )
    too_much = await env.client.post(
        "/internal/wallet/refund", json=refund(60_001, "r2"), headers=INTERNAL
    )
    rest = await env.client.post(
        "/internal/wallet/refund", json=refund(60_000, "r3"), headers=INTERNAL
    )
    replay = await env.client.post(
        "/internal/wallet/refund", json=refund(60_000, "r3"), headers=INTERNAL
    )

    assert (part.status_code, rest.status_code, replay.status_code) == (201, 201, 200)
    assert_problem(too_much, 409, "refund_exceeds_payment")
    assert await _balance(env, user) == 100_000
    assert (await env.invoice(invoice["id"])).status == "REFUNDED"


async def test_no_wallet_refund_of_an_invoice_tripay_refunded(env: BillingEnv) -> None:
    user = uuid.uuid4()
    invoice = await env.order_invoice(user, amount=100_000)
    await env.pay(invoice, "BRIVA")
    await env.act(invoice["number"], "pay")
    await env.act(invoice["number"], "refund")  # the money went back through Tripay
    assert (await env.invoice(invoice["id"])).status == "REFUNDED"

    response = await env.client.post(
        "/internal/wallet/refund",
        json={
            "user_id": str(user),
            "amount": 100_000,
            "order_id": invoice["order_id"],
            "idempotency_key": f"order:{invoice['order_id']}:refund",
            "reason": "order cancelled",
        },
        headers=INTERNAL,
    )

    body = assert_problem(response, 409, "refund_exceeds_payment")
    assert (body["paid"], body["refunded"]) == (100_000, 100_000)
    assert await _balance(env, user) == 0
    assert await env.count(LedgerEntry, LedgerEntry.user_id == user) == 0


async def test_admin_adjustment_is_audited_and_cannot_go_negative(env: BillingEnv) -> None:
    user = uuid.uuid4()
    admin = env.admin()
    path = f"/api/v1/admin/billing/wallets/{user}/adjustments"

    credit = await env.client.post(
        path, json={"amount": 25_000, "reason": "goodwill"}, headers=admin
    )
    debit = await env.client.post(path, json={"amount": -30_000, "reason": "oops"}, headers=admin)
    customer = await env.client.post(
        path, json={"amount": 1, "reason": "self-service"}, headers=env.headers(user)
    )

    assert credit.status_code == 201 and credit.json()["balance"] == 25_000
    assert_problem(debit, 409, "insufficient_balance")
    assert_problem(customer, 403, "admin_required")
    ledger = (
        await env.client.get(f"/api/v1/admin/billing/wallets/{user}/ledger", headers=admin)
    ).json()
    [entry] = ledger["items"]
    assert (entry["kind"], entry["reason"]) == ("adjustment", "goodwill")
    assert entry["actor"].startswith("admin:")
    trail = (
        await env.client.get(
            "/api/v1/admin/billing/audit", params={"subject_id": str(user)}, headers=admin
        )
    ).json()["items"]
    assert [(a["action"], a["reason"], a["details"]["amount"]) for a in trail] == [
        ("wallet.adjusted", "goodwill", 25_000)
    ]


async def test_a_repeated_adjustment_with_its_key_is_made_once(env: BillingEnv) -> None:
    user = uuid.uuid4()
    admin = {**env.admin(), "Idempotency-Key": "adjust-form-7f3a"}
    path = f"/api/v1/admin/billing/wallets/{user}/adjustments"
    body = {"amount": 25_000, "reason": "goodwill"}

    first = await env.client.post(path, json=body, headers=admin)
    clicks = await asyncio.gather(
        *(env.client.post(path, json=body, headers=admin) for _ in range(3))
    )
    other = await env.client.post(path, json={**body, "amount": 50_000}, headers=admin)
    fresh = await env.client.post(path, json=body, headers=env.admin())  # no key: a new one

    assert first.status_code == 201 and first.json()["replayed"] is False
    assert [c.status_code for c in clicks] == [201, 201, 201]
    assert {(c.json()["replayed"], c.json()["entry_id"]) for c in clicks} == {
        (True, first.json()["entry_id"])
    }
    assert_problem(other, 409, "idempotency_key_reused")
    assert fresh.json()["balance"] == 50_000
    assert await _balance(env, user) == 50_000


async def test_the_database_keeps_balance_equal_to_the_ledger(env: BillingEnv) -> None:
    user = uuid.uuid4()
    await env.top_up_wallet(user, 50_000)
    statements = [
        f"UPDATE wallets SET balance = 1 WHERE user_id = '{user}'",
        "UPDATE wallet_ledger SET amount = 1",
        "DELETE FROM wallet_ledger",
        "TRUNCATE wallet_ledger CASCADE",
        f"INSERT INTO wallets (user_id, balance) VALUES ('{uuid.uuid4()}', 10)",
    ]
    for statement in statements:
        with pytest.raises(DBAPIError):
            async with env.db.session() as session:
                await session.execute(text(statement))

    report = (
        await env.client.get("/api/v1/admin/billing/wallets/consistency", headers=env.admin())
    ).json()
    assert report == {"wallets_checked": 1, "consistent": True, "mismatches": []}
    assert await env.count(LedgerEntry) == 1


async def test_consistency_check_reports_a_tampered_wallet(env: BillingEnv) -> None:
    user = uuid.uuid4()
    await env.top_up_wallet(user, 50_000)
    async with env.db.session() as session:  # what only someone bypassing the triggers can do
        await session.execute(text("ALTER TABLE wallets DISABLE TRIGGER wallets_balance_guard"))
        await session.execute(text(f"UPDATE wallets SET balance = 1 WHERE user_id = '{user}'"))
        await session.execute(text("ALTER TABLE wallets ENABLE TRIGGER wallets_balance_guard"))

    report = (
        await env.client.get("/api/v1/admin/billing/wallets/consistency", headers=env.admin())
    ).json()

    assert report["consistent"] is False
    assert report["mismatches"] == [{"user_id": str(user), "balance": 1, "ledger_sum": 50_000}]
