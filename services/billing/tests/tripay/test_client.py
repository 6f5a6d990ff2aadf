"""The Tripay client against the stand-in of devstack/sandbox (in-process): every endpoint,
typed errors for `success: false` and for no envelope at all, lenient parsing."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from billing_service.tripay.client import NewTransaction, OrderItem, TripayClient
from billing_service.tripay.errors import TripayError, TripayRejected, TripayUnavailable
from billing_service.tripay.schemas import Callback, Transaction
from devstack.sandbox.tripay import create_app
from devstack.sandbox.tripay_standin.settings import TripaySandboxSettings


def make_client(
    app: object, *, api_key: str = "DEV-sandbox-api-key", private_key: str = "sandbox-private-key"
) -> TripayClient:
    return TripayClient(
        base_url="http://tripay.test/api-sandbox",
        merchant_code="T0001",
        api_key=SecretStr(api_key),
        private_key=SecretStr(private_key),
        transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
    )


@pytest.fixture
def standin() -> object:
    return create_app(
        TripaySandboxSettings(expiry_sweep_seconds=0, public_url="http://tripay.test")
    )


@pytest.fixture
async def tripay(standin: object) -> AsyncIterator[TripayClient]:
    client = make_client(standin)
    yield client
    await client.aclose()


def new(
    ref: str = "INV-20250115-AAAAA", amount: int = 150_000, method: str = "BRIVA"
) -> NewTransaction:
    return NewTransaction(
        method=method,
        merchant_ref=ref,
        amount=amount,
        customer_name="Budi Santoso",
        customer_email="budi@example.co.id",
        customer_phone="+6281234567890",
        order_items=[OrderItem("Cloud VPS 2 GB", amount)],
        expires_at=datetime.now(UTC) + timedelta(hours=2),
    )


async def test_payment_channels_parse_both_percent_shapes(tripay: TripayClient) -> None:
    channels = {c.code: c for c in await tripay.payment_channels()}

    qris = channels["QRIS"]
    assert qris.fee_merchant.percent == Decimal("0.7")  # a JSON number here...
    assert qris.total_fee.percent == Decimal("0.70")  # ...and a string here
    assert (qris.fee_merchant.flat, qris.minimum_amount, qris.maximum_amount) == (
        750,
        1000,
        5_000_000,
    )
    assert channels["OVO"].minimum_fee == 1000 and channels["OVO"].type == "redirect"
    assert [c.code for c in await tripay.payment_channels("BCAVA")] == ["BCAVA"]


async def test_fee_calculator_matches_the_docs_example(tripay: TripayClient) -> None:
    [qris] = await tripay.fee_calculator(100_000, "QRIS")
    assert qris.total_fee == {"merchant": 1450, "customer": 0}


async def test_create_detail_and_list(tripay: TripayClient, standin: object) -> None:
    created = await tripay.create_transaction(new())

    assert created.status == "UNPAID" and created.reference.startswith("DEV-T0001")
    assert created.pay_code and created.checkout_url and created.instructions
    standin.state.sandbox.change_status(created.reference, "PAID", miss_callback=True)  # type: ignore[attr-defined]
    detail = await tripay.transaction_detail(created.reference)
    page = await tripay.merchant_transactions(merchant_ref="INV-20250115-AAAAA")

    assert detail.status == "PAID"
    assert isinstance(detail.paid_at, int) and abs(detail.paid_at - time.time()) < 60  # sent as "…"
    [listed] = page.items
    assert listed.pay_code == created.pay_code  # sent as a JSON number in this list
    assert page.pagination.total_records == 1


async def test_success_false_is_a_typed_error_with_tripays_message(standin: object) -> None:
    wrong_key = make_client(standin, api_key="DEV-wrong")
    wrong_signature = make_client(standin, private_key="not-ours")
    try:
        with pytest.raises(TripayRejected) as refused:
            await wrong_key.payment_channels()
        assert (refused.value.message, refused.value.status_code) == ("Invalid API Key", 401)
        with pytest.raises(TripayRejected, match="Invalid signature"):
            await wrong_signature.create_transaction(new())
        with pytest.raises(TripayRejected, match="between 1000 and 5000000"):
            await make_client(standin).create_transaction(new(amount=6_000_000, method="QRIS"))
        with pytest.raises(TripayRejected, match="Transaction not found"):
            await make_client(standin).transaction_detail("DEV-NOPE")
    finally:
        await wrong_key.aclose()
        await wrong_signature.aclose()


async def test_no_envelope_and_no_answer_are_typed_errors() -> None:
    async def outage(_: object) -> HTMLResponse:
        return HTMLResponse("<h1>502 Bad Gateway</h1>", 502)

    async def teapot(_: object) -> HTMLResponse:
        return HTMLResponse("<h1>moved</h1>", 200)

    broken = make_client(Starlette(routes=[Route("/api-sandbox/merchant/payment-channel", outage)]))
    odd = make_client(Starlette(routes=[Route("/api-sandbox/merchant/payment-channel", teapot)]))
    nowhere = TripayClient(
        base_url="http://127.0.0.1:9/api-sandbox",
        merchant_code="T0001",
        api_key=SecretStr("k"),
        private_key=SecretStr("p"),
        timeout=2,
    )
    try:
        with pytest.raises(TripayUnavailable):
            await broken.payment_channels()
        with pytest.raises(TripayError, match="without an envelope"):
            await odd.payment_channels()
        with pytest.raises(TripayUnavailable):
            await nowhere.payment_channels()
    finally:
        for client in (broken, odd, nowhere):
            await client.aclose()


def test_loose_parsing_of_fields_whose_types_vary() -> None:
    transaction = Transaction.model_validate(
        {
            "reference": "T0001000000000000006",
            "amount": "150000",
            "fee_merchant": 4250.0,
            "pay_code": 8808123456789,
            "paid_at": "1582856000",
            "expired_time": 1582859600,
            "status": "PAID",
            "instructions": [{"title": "ATM", "steps": ["..."]}],
            "something_new": {"kept": True},
        }
    )
    assert (transaction.amount, transaction.fee_merchant) == (150_000, 4250)
    assert (transaction.pay_code, transaction.paid_at) == ("8808123456789", 1_582_856_000)
    assert transaction.model_extra == {"something_new": {"kept": True}}
    callback = Callback.model_validate(
        {"reference": "R", "status": "PAID", "total_amount": 200000, "paid_at": None, "note": None}
    )
    assert callback.paid_at is None and callback.is_closed_payment == 1


def test_order_items_must_add_up() -> None:
    with pytest.raises(ValueError, match="add up"):
        NewTransaction(
            method="BRIVA",
            merchant_ref="INV",
            amount=10_000,
            customer_name="x",
            customer_email="x@example.co.id",
            order_items=[OrderItem("a", 9_999)],
            expires_at=datetime.now(UTC),
        )
