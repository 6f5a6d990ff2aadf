"""The Tripay stand-in: Tripay's wire format (envelopes, channels, signatures, per-channel
answers, type quirks), signed callbacks retried like Tripay's, the control API and the
`webrana sandbox` command, and that uvicorn starts it from its environment."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from devstack.console import Console
from devstack.home import Home
from devstack.sandbox.tripay import create_app
from devstack.sandbox.tripay_cli import add_sandbox_parser, run_sandbox
from devstack.sandbox.tripay_standin.settings import TripaySandboxSettings
from webrana_common.testing.live_server import LiveServer

REPO_ROOT = Path(__file__).resolve().parents[2]
KEY = "sandbox-private-key"
AUTH = {"Authorization": "Bearer DEV-sandbox-api-key"}


def sign(message: str | bytes, key: str = KEY) -> str:
    raw = message.encode() if isinstance(message, str) else message
    return hmac.new(key.encode(), raw, hashlib.sha256).hexdigest()


def create_body(
    ref: str = "INV-20250115-AAAAA", amount: int = 150_000, **fields: Any
) -> dict[str, Any]:
    return {
        "method": "BRIVA",
        "merchant_ref": ref,
        "amount": amount,
        "customer_name": "Budi Santoso",
        "customer_email": "budi@example.co.id",
        "customer_phone": "081234567890",
        "order_items": [{"sku": "VPS", "name": "Cloud VPS 2 GB", "price": amount, "quantity": 1}],
        "expired_time": int(time.time()) + 3 * 3600,
        "signature": sign(f"T0001{ref}{amount}"),
        **fields,
    }


class CallbackReceiver:
    """The merchant's callback URL: records raw bodies and headers; answers `replies` in turn
    (then acknowledges)."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.replies: list[tuple[int, Any]] = []
        self._lock = threading.Lock()

        async def callback(request: Request) -> JSONResponse:
            body = await request.body()
            with self._lock:
                self.received.append((dict(request.headers), body))
                status, reply = self.replies.pop(0) if self.replies else (200, {"success": True})
            return JSONResponse(reply, status_code=status)

        self.server = LiveServer(Starlette(routes=[Route("/callback", callback, methods=["POST"])]))


@pytest.fixture(scope="module")
def receiver_server() -> Iterator[CallbackReceiver]:
    receiver = CallbackReceiver()
    with receiver.server:
        yield receiver


@pytest.fixture
def receiver(receiver_server: CallbackReceiver) -> CallbackReceiver:
    receiver_server.received.clear()
    receiver_server.replies.clear()
    return receiver_server


@pytest.fixture
async def standin(receiver: CallbackReceiver) -> AsyncIterator[FastAPI]:
    app = create_app(
        TripaySandboxSettings(
            callback_url=f"{receiver.server.url}/callback",
            callback_retry_seconds=0.2,
            expiry_sweep_seconds=0,
        )
    )
    yield app
    # Served in-process without its lifespan: what the lifespan would close, closed here.
    app.state.sandbox.sender.reset()
    await app.state.sandbox.sender.aclose()


@pytest.fixture
async def tripay(standin: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=standin), base_url="http://127.0.0.1:3997", headers=AUTH
    ) as client:
        yield client


async def settle(standin: FastAPI) -> None:
    async with asyncio.timeout(10):
        await standin.state.sandbox.sender.settle()


async def create(tripay: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    response = await tripay.post("/api-sandbox/transaction/create", json=create_body(**fields))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    return body["data"]


async def test_channels_carry_the_documented_fees_limits_and_type_quirks(
    tripay: httpx.AsyncClient,
) -> None:
    body = (await tripay.get("/api-sandbox/merchant/payment-channel")).json()

    channels = {c["code"]: c for c in body["data"]}
    assert body["success"] is True and len(channels) == 20
    qris = channels["QRIS"]
    assert qris["fee_merchant"] == {"flat": 750, "percent": 0.7}
    assert qris["total_fee"]["percent"] == "0.70"
    assert (qris["minimum_amount"], qris["maximum_amount"], qris["group"]) == (
        1000,
        5_000_000,
        "E-Wallet",
    )
    assert channels["BCAVA"]["fee_merchant"]["flat"] == 5500
    assert channels["ALFAMART"]["maximum_amount"] == 2_500_000
    assert (channels["OVO"]["type"], channels["OVO"]["minimum_fee"]) == ("redirect", 1000)
    fee = (
        await tripay.get("/api/merchant/fee-calculator", params={"amount": 100_000, "code": "QRIS"})
    ).json()
    assert fee["data"][0]["total_fee"] == {"merchant": 1450, "customer": 0}


async def test_every_call_needs_the_api_key(tripay: httpx.AsyncClient) -> None:
    response = await tripay.get(
        "/api-sandbox/merchant/payment-channel", headers={"Authorization": "Bearer nope"}
    )
    assert response.status_code == 401
    assert response.json() == {"success": False, "message": "Invalid API Key"}


async def test_create_answers_per_channel_type(tripay: httpx.AsyncClient) -> None:
    va = await create(tripay)
    qris = await create(tripay, method="QRIS", expired_time=int(time.time()) + 1800)
    ovo = await create(tripay, method="OVO")
    store = await create(tripay, method="ALFAMART")

    assert va["pay_code"].isdigit() and va["qr_string"] is None and va["pay_url"] is None
    assert va["status"] == "UNPAID" and va["reference"].startswith("DEV-T0001")
    assert va["pay_code"] in va["instructions"][0]["steps"][2]
    assert "Rp 154.250" not in json.dumps(va)  # the merchant pays the fee by default
    assert (va["amount"], va["fee_merchant"], va["amount_received"]) == (150_000, 4250, 145_750)
    assert qris["qr_string"].startswith("000201") and qris["qr_url"] and qris["pay_code"] is None
    assert ovo["pay_url"] and ovo["pay_code"] is None
    assert store["pay_code"].startswith("T")
    assert all(t["checkout_url"].endswith(t["reference"]) for t in (va, qris, ovo, store))


async def test_create_accepts_php_style_forms(tripay: httpx.AsyncClient) -> None:
    body = create_body()
    form = {k: str(v) for k, v in body.items() if k != "order_items"}
    for key, value in body["order_items"][0].items():
        form[f"order_items[0][{key}]"] = str(value)

    response = await tripay.post("/api-sandbox/transaction/create", data=form)

    assert response.json()["data"]["order_items"][0]["subtotal"] == 150_000


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"signature": "0" * 64}, "Invalid signature"),
        ({"customer_email": ""}, "The customer email field is required."),
        ({"method": "BITCOIN"}, "Payment channel is not enabled or does not exist"),
        ({"order_items": [{"name": "x", "price": 1, "quantity": 1}]}, "does not match the amount"),
        ({"amount": 9_000, "signature": sign("T0001INV-20250115-AAAAA9000"),
          "order_items": [{"name": "x", "price": 9_000, "quantity": 1}]}, "between 10000"),
        ({"expired_time": int(time.time()) + 600}, "must be 60 - 43200 minutes ahead"),
        ({"method": "DANA", "customer_phone": None}, "customer phone field is required"),
    ],
)  # fmt: skip
async def test_create_refuses_what_tripay_refuses(
    tripay: httpx.AsyncClient, fields: dict[str, Any], message: str
) -> None:
    response = await tripay.post("/api-sandbox/transaction/create", json=create_body(**fields))

    assert response.status_code == 400
    assert response.json()["success"] is False and message in response.json()["message"]


async def test_customer_paying_the_fee_raises_the_amount(
    tripay: httpx.AsyncClient, standin: FastAPI
) -> None:
    standin.state.sandbox.settings.customer_pays_fee = True
    created = await create(tripay)
    assert (created["amount"], created["fee_customer"], created["amount_received"]) == (
        154_250,
        4250,
        150_000,
    )


async def test_pay_sends_a_signed_callback_of_the_raw_body(
    tripay: httpx.AsyncClient, standin: FastAPI, receiver: CallbackReceiver
) -> None:
    created = await create(tripay, note=None)

    control = await tripay.post(f"/_sandbox/transactions/{created['merchant_ref']}/pay", json={})
    await settle(standin)

    assert control.json()["transaction"]["status"] == "PAID"
    [(headers, raw)] = receiver.received
    assert headers["x-callback-event"] == "payment_status"
    assert hmac.compare_digest(headers["x-callback-signature"], sign(raw))
    body = json.loads(raw)
    assert (body["reference"], body["status"], body["total_amount"], body["is_closed_payment"]) == (
        created["reference"],
        "PAID",
        150_000,
        1,
    )
    assert (
        body["payment_method"] == "BRI Virtual Account" and body["payment_method_code"] == "BRIVA"
    )
    assert isinstance(body["paid_at"], int)
    detail = (
        await tripay.get(
            "/api-sandbox/transaction/detail", params={"reference": created["reference"]}
        )
    ).json()
    assert isinstance(detail["data"]["paid_at"], str)  # the docs' example: a string here
    listed = (
        await tripay.get("/api-sandbox/merchant/transactions", params={"status": "PAID"})
    ).json()
    assert isinstance(listed["data"][0]["pay_code"], int)  # and a number here
    assert listed["pagination"]["total_records"] == 1
    status = (
        await tripay.get(
            "/api-sandbox/transaction/check-status", params={"reference": created["reference"]}
        )
    ).json()
    assert status == {"success": True, "message": "Status transaksi saat ini PAID"}


async def test_unacknowledged_callbacks_are_retried_three_more_times(
    tripay: httpx.AsyncClient, standin: FastAPI, receiver: CallbackReceiver
) -> None:
    first, second = await create(tripay), await create(tripay, ref="INV-20250115-BBBBB")
    receiver.replies = [(500, {"error": "down"}), (200, {"success": False})]

    await tripay.post(f"/_sandbox/transactions/{first['reference']}/expire", json={})
    await settle(standin)
    receiver.replies = [(503, {})] * 10
    started = time.monotonic()
    await tripay.post(f"/_sandbox/transactions/{second['reference']}/fail", json={})
    await settle(standin)
    elapsed = time.monotonic() - started

    deliveries = (await tripay.get("/_sandbox/callbacks")).json()["callbacks"]
    assert [(d["status"], d["state"], len(d["attempts"])) for d in deliveries] == [
        ("EXPIRED", "delivered", 3),
        ("FAILED", "failed", 4),
    ]
    assert 0.55 <= elapsed < 3  # three waits of 0.2 s
    assert len({raw for _, raw in receiver.received[:3]}) == 1  # the same bytes each time


async def test_wrong_amount_forged_signature_and_missed_callback(
    tripay: httpx.AsyncClient, standin: FastAPI, receiver: CallbackReceiver
) -> None:
    short, forged, missed = (
        await create(tripay, ref="INV-A"),
        await create(tripay, ref="INV-B"),
        await create(tripay, ref="INV-C"),
    )

    await tripay.post("/_sandbox/transactions/INV-A/pay", json={"amount": 1000})
    await tripay.post("/_sandbox/transactions/INV-B/pay", json={"forge_signature": True})
    missed_answer = await tripay.post(
        "/_sandbox/transactions/INV-C/pay", json={"miss_callback": True}
    )
    await settle(standin)

    bodies = {json.loads(raw)["merchant_ref"]: (headers, raw) for headers, raw in receiver.received}
    assert set(bodies) == {"INV-A", "INV-B"}
    assert json.loads(bodies["INV-A"][1])["total_amount"] == 1000
    assert bodies["INV-A"][0]["x-callback-signature"] == sign(bodies["INV-A"][1])
    assert bodies["INV-B"][0]["x-callback-signature"] != sign(bodies["INV-B"][1])
    assert missed_answer.json()["callback"]["state"] == "missed"
    assert (await tripay.get(f"/_sandbox/transactions/{missed['reference']}")).json()[
        "status"
    ] == "PAID"
    assert short["reference"] != forged["reference"]


async def test_control_refuses_impossible_changes_and_resets(
    tripay: httpx.AsyncClient, standin: FastAPI
) -> None:
    created = await create(tripay)
    await tripay.post(
        f"/_sandbox/transactions/{created['reference']}/pay", json={"miss_callback": True}
    )

    twice = await tripay.post(f"/_sandbox/transactions/{created['reference']}/expire", json={})
    unknown = await tripay.post("/_sandbox/transactions/INV-NONE/pay", json={})
    patched = await tripay.patch("/_sandbox/settings", json={"callback_retry_seconds": 1.5})
    refused = await tripay.patch("/_sandbox/settings", json={"private_key": "x"})
    await tripay.post("/_sandbox/reset")

    assert twice.status_code == 409 and unknown.status_code == 404
    assert patched.json()["callback_retry_seconds"] == 1.5 and "private_key" not in patched.json()
    assert refused.status_code == 422
    assert (await tripay.get("/_sandbox/transactions")).json() == {"transactions": []}
    assert standin.state.sandbox.settings.callback_retry_seconds == 0.2


async def test_overdue_transactions_expire_with_a_callback(
    tripay: httpx.AsyncClient, standin: FastAPI, receiver: CallbackReceiver
) -> None:
    created = await create(tripay)
    sandbox = standin.state.sandbox
    sandbox.store.by_reference[created["reference"]].expired_time = int(time.time()) - 1

    assert sandbox.sweep_expired() == 1
    await settle(standin)

    [(_, raw)] = receiver.received
    assert json.loads(raw)["status"] == "EXPIRED"


def test_webrana_sandbox_command_pays_through_a_running_stand_in(
    receiver: CallbackReceiver, tmp_path: Path
) -> None:
    app = create_app(
        TripaySandboxSettings(
            callback_url=f"{receiver.server.url}/callback", expiry_sweep_seconds=0
        )
    )
    with LiveServer(app) as server:
        created = httpx.post(
            f"{server.url}/api-sandbox/transaction/create", json=create_body(), headers=AUTH
        ).json()["data"]
        parser = argparse.ArgumentParser()
        add_sandbox_parser(
            parser.add_subparsers(dest="command"), argparse.ArgumentParser(add_help=False)
        )
        out = io.StringIO()

        code = run_sandbox(
            parser.parse_args(["sandbox", "pay", "INV-20250115-AAAAA", "--url", server.url]),
            Home(tmp_path),
            Console(out, out, colour=False),
        )
        missing = run_sandbox(
            parser.parse_args(["sandbox", "expire", "INV-NOPE", "--url", server.url]),
            Home(tmp_path),
            Console(out, out, colour=False),
        )

    assert (code, missing) == (0, 1)
    text = out.getvalue()
    assert f"INV-20250115-AAAAA ({created['reference']}, BRIVA): PAID" in text
    assert "callback to" in text and "delivered" in text
    assert "No transaction with reference or merchant_ref INV-NOPE" in text


def test_runs_under_uvicorn_with_credentials_from_its_environment() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "TRIPAY_SANDBOX_API_KEY": "DEV-from-env"}
    command = [
        sys.executable, "-m", "uvicorn", "--factory", "devstack.sandbox.tripay:create_app",
        "--port", str(port), "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{base}/health", trust_env=False).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        path = f"{base}/api-sandbox/merchant/payment-channel"
        wrong = httpx.get(path, headers=AUTH, trust_env=False)
        right = httpx.get(path, headers={"Authorization": "Bearer DEV-from-env"}, trust_env=False)
        assert (wrong.status_code, right.status_code) == (401, 200)
    finally:
        process.terminate()
        process.wait(timeout=10)
