"""The customer's invoices: listing with filters and pages, detail, cancel, and nothing of
anyone else's."""

from __future__ import annotations

import uuid

from billing_builders import BillingEnv
from billing_helpers import assert_problem
from sqlalchemy import update

from billing_service.payments.models import Payment


async def test_list_mine_with_filters_and_pages(env: BillingEnv) -> None:
    me, other = uuid.uuid4(), uuid.uuid4()
    mine = [await env.order_invoice(me, amount=10_000 * (i + 1)) for i in range(3)]
    await env.order_invoice(other)
    await env.client.post(
        "/api/v1/billing/wallet/topups", json={"amount": 50_000}, headers=env.headers(me)
    )
    await env.client.post(
        f"/api/v1/billing/invoices/{mine[0]['id']}/cancel", headers=env.headers(me)
    )
    url = "/api/v1/billing/invoices"

    first = (await env.client.get(url, params={"limit": 2}, headers=env.headers(me))).json()
    second = (
        await env.client.get(
            url, params={"limit": 2, "cursor": first["next_cursor"]}, headers=env.headers(me)
        )
    ).json()
    orders = (await env.client.get(url, params={"kind": "order"}, headers=env.headers(me))).json()
    cancelled = (
        await env.client.get(url, params={"status": "CANCELLED"}, headers=env.headers(me))
    ).json()

    assert len(first["items"]) == 2 and len(second["items"]) == 2
    assert second["next_cursor"] is None
    seen = {i["id"] for i in first["items"] + second["items"]}
    assert len(seen) == 4 and {i["id"] for i in mine} <= seen
    assert len(orders["items"]) == 3
    assert [i["id"] for i in cancelled["items"]] == [mine[0]["id"]]


async def test_find_the_invoice_of_one_of_my_orders(env: BillingEnv) -> None:
    me, other = uuid.uuid4(), uuid.uuid4()
    wanted = await env.order_invoice(me)
    await env.order_invoice(me)
    theirs = await env.order_invoice(other)
    url = "/api/v1/billing/invoices"

    found = await env.client.get(
        url, params={"order_id": wanted["order_id"]}, headers=env.headers(me)
    )
    # Another customer's order id finds nothing, not their invoice.
    stranger = await env.client.get(
        url, params={"order_id": theirs["order_id"]}, headers=env.headers(me)
    )
    malformed = await env.client.get(url, params={"order_id": "ORD-1"}, headers=env.headers(me))

    assert [i["id"] for i in found.json()["items"]] == [wanted["id"]]
    assert stranger.json()["items"] == []
    assert_problem(malformed, 422, "validation_error")


async def test_someone_elses_invoice_is_not_found(env: BillingEnv) -> None:
    invoice = await env.order_invoice()
    stranger = env.headers(uuid.uuid4())
    base = f"/api/v1/billing/invoices/{invoice['id']}"

    assert_problem(await env.client.get(base, headers=stranger), 404, "invoice_not_found")
    assert_problem(
        await env.client.get(f"{base}/channels", headers=stranger), 404, "invoice_not_found"
    )
    assert_problem(
        await env.client.post(f"{base}/pay", json={"channel": "BRIVA"}, headers=stranger),
        404,
        "invoice_not_found",
    )
    assert_problem(
        await env.client.post(f"{base}/cancel", headers=stranger), 404, "invoice_not_found"
    )
    assert (await env.invoice(invoice["id"])).status == "PENDING"
    assert_problem(await env.client.get(base), 401, "token_missing")


async def test_detail_shows_how_to_pay(env: BillingEnv) -> None:
    invoice = await env.order_invoice()
    user = env.headers(uuid.UUID(invoice["user_id"]))
    before = (
        await env.client.get(f"/api/v1/billing/invoices/{invoice['id']}", headers=user)
    ).json()
    paying = await env.pay(invoice, "INDOMARET")

    after = (await env.client.get(f"/api/v1/billing/invoices/{invoice['id']}", headers=user)).json()

    assert before["payment"] is None
    assert after["payment"]["pay_code"] == paying["pay_code"]
    assert after["payment"]["instructions"][0]["title"].startswith("Pembayaran di kasir")
    assert after["under_review"] is False


async def test_paid_invoice_shows_no_pay_code_of_a_transaction_left_unpaid(
    env: BillingEnv,
) -> None:
    invoice = await env.order_invoice()
    first = await env.pay(invoice, "BRIVA")
    second = await env.pay(invoice, "QRIS")
    await env.act(first["reference"], "pay")
    async with env.db.session() as session:  # as payments settled before the fix left them
        await session.execute(
            update(Payment).where(Payment.reference == second["reference"]).values(status="UNPAID")
        )

    detail = (
        await env.client.get(
            f"/api/v1/billing/invoices/{invoice['id']}",
            headers=env.headers(uuid.UUID(invoice["user_id"])),
        )
    ).json()

    assert detail["status"] == "PAID"
    assert (detail["payment"]["reference"], detail["payment"]["status"]) == (
        first["reference"],
        "PAID",
    )


async def test_cancel_by_the_customer_tells_the_order_and_releases_its_promo(
    env: BillingEnv,
) -> None:
    promo = await env.promo(max_uses=1)
    user = uuid.uuid4()
    invoice = await env.order_invoice(user)
    redeemed = await env.client.post(
        "/internal/promos/redeem",
        json={
            "code": promo["code"],
            "user_id": str(user),
            "amount": 150_000,
            "order_id": invoice["order_id"],
        },
        headers={"X-API-Key": "order-test-key"},
    )
    assert redeemed.status_code == 201

    response = await env.client.post(
        f"/api/v1/billing/invoices/{invoice['id']}/cancel", headers=env.headers(user)
    )
    await env.settle()

    assert response.json()["status"] == "CANCELLED"
    assert env.fleet.statuses(invoice["order_id"]) == ["CANCELLED"]
    assert (await env.promo_row(promo["code"])).uses_count == 0
