"""Paying an invoice: the channels with their fees, Tripay transactions per channel type,
reuse of the open transaction, switching channels, and what is refused."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from billing_builders import BillingEnv
from billing_helpers import assert_problem


def _user(invoice: dict) -> uuid.UUID:
    return uuid.UUID(invoice["user_id"])


async def test_channels_show_each_fee_before_paying(env: BillingEnv) -> None:
    invoice = await env.order_invoice(amount=100_000)

    response = await env.client.get(
        f"/api/v1/billing/invoices/{invoice['id']}/channels", headers=env.headers(_user(invoice))
    )

    body = response.json()
    assert (body["amount"], body["fee_borne_by"], body["wallet_balance"]) == (
        100_000,
        "customer",
        0,
    )
    channels = {c["code"]: c for c in body["channels"]}
    assert len(channels) == 20
    # QRIS at Rp 100 000 costs 750 + 0.7 % (tripay.md); charged on the amount including it.
    assert channels["QRIS"]["fee"] == 1461 and channels["QRIS"]["total"] == 101_461
    assert channels["BRIVA"]["fee"] == 4250 and channels["BRIVA"]["total"] == 104_250
    # A 24 h invoice is too long for no channel, but DANA's window is at most 60 minutes: the
    # transaction simply ends sooner, so it stays available.
    assert channels["DANA"]["available"] is True


async def test_pay_with_a_va_answers_the_pay_code_and_instructions(env: BillingEnv) -> None:
    invoice = await env.order_invoice(amount=150_000)

    paid = await env.pay(invoice, "BRIVA")

    assert paid["channel"] == "BRIVA" and paid["pay_code"].isdigit()
    assert (paid["amount"], paid["fee"], paid["total"]) == (150_000, 4250, 154_250)
    assert paid["checkout_url"].startswith("http://tripay.test/checkout/DEV-T0001")
    assert paid["pay_code"] in " ".join(paid["instructions"][0]["steps"])
    transaction = env.sandbox.store.find(invoice["number"])
    assert transaction.amount == 154_250
    assert [i["name"] for i in transaction.order_items] == [
        "Cloud VPS 2 GB, monthly (web-1)",
        "Biaya transaksi",
    ]
    assert transaction.callback_url == "http://billing.test/api/v1/billing/callbacks/tripay"
    assert transaction.return_url == f"https://app.webrana.test/billing/invoices/{invoice['id']}"
    # expired_time is absolute and no later than the invoice.
    expires = datetime.fromisoformat(invoice["expires_at"])
    assert abs(transaction.expired_time - int(expires.timestamp())) <= 1


async def test_qris_answers_a_qr_string_and_ewallets_a_pay_url(env: BillingEnv) -> None:
    qris = await env.pay(await env.order_invoice(), "QRIS")
    ovo = await env.pay(await env.order_invoice(), "ovo")

    assert qris["qr_string"].startswith("000201") and qris["qr_url"] and not qris["pay_code"]
    assert ovo["pay_url"] and ovo["channel"] == "OVO" and not ovo["qr_string"]
    # QRIS by ShopeePay lives at most 60 minutes, whatever the invoice.
    assert datetime.fromisoformat(qris["expires_at"]) <= datetime.now(UTC) + timedelta(minutes=61)


async def test_same_channel_again_returns_the_open_transaction(env: BillingEnv) -> None:
    invoice = await env.order_invoice()
    first = await env.pay(invoice, "BRIVA")

    again = await env.pay(invoice, "BRIVA", expect=200)

    assert again["reference"] == first["reference"]
    assert len(env.sandbox.store.by_reference) == 1


async def test_clicks_racing_on_pay_make_one_transaction(env: BillingEnv) -> None:
    invoice = await env.order_invoice()

    answers = await asyncio.gather(
        *(
            env.client.post(
                f"/api/v1/billing/invoices/{invoice['id']}/pay",
                json={"channel": "QRIS"},
                headers=env.headers(_user(invoice)),
            )
            for _ in range(5)
        )
    )

    assert sorted(a.status_code for a in answers) == [200, 200, 200, 200, 201]
    assert len({a.json()["reference"] for a in answers}) == 1
    assert len(env.sandbox.store.by_reference) == 1
    assert [p.status for p in await env.payments(invoice["id"])] == ["UNPAID"]


async def test_another_channel_abandons_the_open_transaction(env: BillingEnv) -> None:
    invoice = await env.order_invoice()
    first = await env.pay(invoice, "BRIVA")

    second = await env.pay(invoice, "QRIS")

    assert second["reference"] != first["reference"]
    statuses = {p.reference: p.status for p in await env.payments(invoice["id"])}
    assert statuses == {first["reference"]: "ABANDONED", second["reference"]: "UNPAID"}
    detail = await env.client.get(
        f"/api/v1/billing/invoices/{invoice['id']}", headers=env.headers(_user(invoice))
    )
    assert detail.json()["payment"]["reference"] == second["reference"]


@pytest.mark.parametrize("settings_overrides", [{"fee_borne_by": "merchant"}])
async def test_merchant_bearing_the_fee_charges_the_customer_the_amount(env: BillingEnv) -> None:
    paid = await env.pay(await env.order_invoice(amount=150_000), "BRIVA")

    assert (paid["fee"], paid["total"]) == (0, 150_000)
    [transaction] = env.sandbox.store.by_reference.values()
    assert transaction.amount == 150_000 and transaction.fee_merchant == 4250


async def test_refusals(env: BillingEnv) -> None:
    big = await env.order_invoice(amount=6_000_000)
    user = _user(big)
    assert_problem(
        await env.client.post(
            f"/api/v1/billing/invoices/{big['id']}/pay",
            json={"channel": "QRIS"},
            headers=env.headers(user),
        ),
        422,
        "channel_amount_out_of_range",
    )
    assert_problem(
        await env.client.post(
            f"/api/v1/billing/invoices/{big['id']}/pay",
            json={"channel": "BITCOIN"},
            headers=env.headers(user),
        ),
        422,
        "channel_unknown",
    )
    env.fleet.no_phone.add(big["user_id"])
    assert_problem(
        await env.client.post(
            f"/api/v1/billing/invoices/{big['id']}/pay",
            json={"channel": "OVO"},
            headers=env.headers(user),
        ),
        422,
        "customer_phone_required",
    )
    assert_problem(
        await env.client.post(
            f"/api/v1/billing/invoices/{big['id']}/pay",
            json={"channel": "WALLET"},
            headers=env.headers(user),
        ),
        409,
        "insufficient_balance",
    )
    short = await env.order_invoice(
        expires_at=(datetime.now(UTC) + timedelta(minutes=10)).isoformat()
    )
    assert_problem(
        await env.client.post(
            f"/api/v1/billing/invoices/{short['id']}/pay",
            json={"channel": "BRIVA"},
            headers=env.headers(_user(short)),
        ),
        422,
        "channel_window_too_short",
    )
    assert env.sandbox.store.by_reference == {}


async def test_paid_invoice_cannot_be_paid_again(env: BillingEnv) -> None:
    invoice = await env.order_invoice()
    await env.pay(invoice, "BRIVA")
    await env.act(invoice["number"], "pay")

    response = await env.client.post(
        f"/api/v1/billing/invoices/{invoice['id']}/pay",
        json={"channel": "QRIS"},
        headers=env.headers(_user(invoice)),
    )
    assert_problem(response, 409, "invoice_not_payable")


async def test_wallet_pays_an_order_invoice_at_once(env: BillingEnv) -> None:
    user = uuid.uuid4()
    await env.top_up_wallet(user, 200_000)
    invoice = await env.order_invoice(user, amount=150_000)
    await env.pay(invoice, "BRIVA")  # started with Tripay, then paid from the wallet

    paid = await env.pay(invoice, "WALLET")
    await env.settle()

    assert (paid["method"], paid["status"], paid["total"]) == ("wallet", "PAID", 150_000)
    assert (await env.invoice(invoice["id"])).paid_via == "WALLET"
    wallet = await env.client.get("/api/v1/billing/wallet", headers=env.headers(user))
    assert wallet.json()["balance"] == 50_000
    assert env.fleet.statuses(invoice["order_id"]) == ["PAID"]
    assert [p.status for p in await env.payments(invoice["id"])] == ["ABANDONED", "PAID"]


async def test_tripay_refusal_is_a_502_problem_and_nothing_is_stored(env: BillingEnv) -> None:
    env.sandbox.settings.private_key = "rotated-at-tripay"  # our signatures no longer match
    invoice = await env.order_invoice()

    response = await env.client.post(
        f"/api/v1/billing/invoices/{invoice['id']}/pay",
        json={"channel": "BRIVA"},
        headers=env.headers(_user(invoice)),
    )

    body = assert_problem(response, 502, "tripay_rejected")
    assert "Invalid signature" in body["detail"]
    assert await env.payments(invoice["id"]) == []
