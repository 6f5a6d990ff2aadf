"""Admin: transactions with filters and CSV, an invoice's full story with raw callbacks,
flagged invoices, paying by hand (audited)."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime, timedelta

from billing_builders import BillingEnv
from billing_helpers import assert_problem

from billing_service.numbers import JAKARTA

BASE = "/api/v1/admin/billing"


async def test_transactions_filter_and_export(env: BillingEnv) -> None:
    admin = env.admin()
    me = uuid.uuid4()
    paid = await env.order_invoice(me)
    await env.pay(paid, "BRIVA")
    await env.act(paid["number"], "pay")
    open_one = await env.order_invoice()
    await env.pay(open_one, "QRIS")
    # A date without a zone is a Jakarta one: from 17:00 UTC on, Jakarta is a day ahead.
    tomorrow = (datetime.now(JAKARTA) + timedelta(days=1)).date().isoformat()

    everything = (await env.client.get(f"{BASE}/transactions", headers=admin)).json()["items"]
    by_status = (
        await env.client.get(f"{BASE}/transactions", params={"status": "PAID"}, headers=admin)
    ).json()["items"]
    by_channel = (
        await env.client.get(f"{BASE}/transactions", params={"channel": "qris"}, headers=admin)
    ).json()["items"]
    by_user = (
        await env.client.get(f"{BASE}/transactions", params={"user_id": str(me)}, headers=admin)
    ).json()["items"]
    future = (
        await env.client.get(f"{BASE}/transactions", params={"date_from": tomorrow}, headers=admin)
    ).json()["items"]
    export = await env.client.get(
        f"{BASE}/transactions.csv", params={"status": "PAID"}, headers=admin
    )

    assert len(everything) == 2
    assert [t["invoice_number"] for t in by_status] == [paid["number"]]
    assert [t["invoice_number"] for t in by_channel] == [open_one["number"]]
    assert [t["user_id"] for t in by_user] == [str(me)]
    assert future == []
    assert export.headers["content-type"].startswith("text/csv")
    assert "attachment" in export.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert [(r["invoice_number"], r["status"], r["channel"], r["amount"]) for r in rows] == [
        (paid["number"], "PAID", "BRIVA", "154250")
    ]
    assert_problem(
        await env.client.get(f"{BASE}/transactions", headers=env.headers(me)), 403, "admin_required"
    )


async def test_invoice_detail_shows_raw_callbacks_and_events(env: BillingEnv) -> None:
    invoice = await env.order_invoice()
    await env.pay(invoice, "BRIVA")
    await env.act(invoice["number"], "pay")
    await env.tripay.post("/_sandbox/callbacks/1/resend")  # Tripay sends it again
    await env.settle()

    detail = (await env.client.get(f"{BASE}/invoices/{invoice['id']}", headers=env.admin())).json()

    assert detail["status"] == "PAID"
    assert [c["outcome"] for c in detail["callbacks"]] == ["applied", "duplicate"]
    raw = env.sandbox.sender.deliveries[0].body.decode()
    assert detail["callbacks"][0]["raw_body"] == raw
    assert [e["event"] for e in detail["events"]] == ["created", "payment_started", "paid"]
    assert detail["events"][-1]["actor"] == "tripay"
    assert detail["transactions"][0]["status"] == "PAID"


async def test_mark_paid_by_hand_settles_like_a_callback_and_is_audited(env: BillingEnv) -> None:
    admin = env.admin()
    invoice = await env.order_invoice()
    await env.pay(invoice, "BRIVA")
    await env.act(invoice["number"], "pay", amount=150_000)  # short by the fee: flagged
    flagged = (
        await env.client.get(f"{BASE}/invoices", params={"flagged": True}, headers=admin)
    ).json()
    assert [i["id"] for i in flagged["items"]] == [invoice["id"]]

    response = await env.client.post(
        f"{BASE}/invoices/{invoice['id']}/mark-paid",
        json={"reason": "fee waived after review", "reference": "BCA-TRF-001"},
        headers=admin,
    )
    await env.settle()

    body = response.json()
    assert (body["status"], body["paid_via"], body["flagged_at"]) == ("PAID", "MANUAL", None)
    assert env.fleet.statuses(invoice["order_id"]) == ["PAID"]
    detail = (await env.client.get(f"{BASE}/invoices/{invoice['id']}", headers=admin)).json()
    [entry] = detail["audit"]
    assert (entry["action"], entry["reason"], entry["details"]["reference"]) == (
        "invoice.marked_paid",
        "fee waived after review",
        "BCA-TRF-001",
    )
    assert {e["event"] for e in detail["events"]} >= {"flagged", "flag_resolved", "paid"}
    again = await env.client.post(
        f"{BASE}/invoices/{invoice['id']}/mark-paid", json={"reason": "twice"}, headers=admin
    )
    assert_problem(again, 409, "invoice_not_payable")


async def test_resolving_a_flag(env: BillingEnv) -> None:
    admin = env.admin()
    invoice = await env.order_invoice()
    path = f"{BASE}/invoices/{invoice['id']}/resolve-flag"
    assert_problem(
        await env.client.post(path, json={"reason": "nothing to see"}, headers=admin),
        409,
        "invoice_not_flagged",
    )
    await env.pay(invoice, "BRIVA")
    await env.act(invoice["number"], "pay", amount=1)

    resolved = await env.client.post(
        path, json={"reason": "customer refunded by bank"}, headers=admin
    )

    assert resolved.json()["flagged_at"] is None
    assert resolved.json()["flag_reason"].startswith("Tripay reports Rp 1 paid")
