"""A stand-in for Tripay's payment API (shared/refs/tripay.md): the merchant endpoints the
billing service calls, on the real wire format, and signed `payment_status` callbacks sent on
command, retried like Tripay's.

    uvicorn --factory devstack.sandbox.tripay:create_app --port 3997
    TRIPAY_API_URL=http://127.0.0.1:3997/api-sandbox (also served under /api)
    TRIPAY_MERCHANT_CODE=T0001 TRIPAY_API_KEY=DEV-sandbox-api-key
    TRIPAY_PRIVATE_KEY=sandbox-private-key (the defaults of TRIPAY_SANDBOX_*)

Merchant API (`Authorization: Bearer <api key>`; `{"success", "message", "data"}` envelopes,
`success: false` with a Tripay-style message on errors): `GET merchant/payment-channel`
(the twenty channels of tripay.md §3 with their standard fees and limits), `GET
merchant/fee-calculator`, `GET payment/instruction`, `POST transaction/create` (JSON or
PHP-style form; checks the signature HMAC-SHA256(private_key, merchant_code + merchant_ref +
amount), the order items' sum, the channel's amount limits and expiry window, customer_phone
for OVO/DANA/ShopeePay; answers pay_code for VAs and stores, qr_string/qr_url for QRIS,
pay_url for redirect e-wallets, checkout_url always, and instructions), `GET
transaction/detail` (paid_at as a string, like Tripay's example), `GET
transaction/check-status`, `GET merchant/transactions` (pay_code as a number, paginated).

Control (`/_sandbox`, see /docs): `POST /_sandbox/transactions/{reference or
merchant_ref}/pay|expire|fail|refund` with optional `{"amount", "forge_signature",
"miss_callback", "note"}`; `GET /_sandbox/transactions`, `GET /_sandbox/callbacks`,
`POST /_sandbox/callbacks/{id}/resend`, `GET|PATCH /_sandbox/settings`, `POST /_sandbox/reset`.
`GET /checkout/{reference}` is a page with pay / expire / fail buttons.

Callbacks go to the create request's `callback_url`, else `TRIPAY_SANDBOX_CALLBACK_URL`, and
count as delivered only on HTTP 200 with `{"success": true}`; otherwise they are retried every
`TRIPAY_SANDBOX_CALLBACK_RETRY_SECONDS` (120) up to `TRIPAY_SANDBOX_CALLBACK_RETRIES` (3) times.
Overdue UNPAID transactions are expired with a callback every `TRIPAY_SANDBOX_EXPIRY_SWEEP_SECONDS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI

from devstack.sandbox.tripay_standin.api import tripay_router
from devstack.sandbox.tripay_standin.control import checkout_router, control_router
from devstack.sandbox.tripay_standin.settings import TripaySandboxSettings
from devstack.sandbox.tripay_standin.state import TripaySandbox

log = logging.getLogger("sandbox.tripay")


async def _sweep(sandbox: TripaySandbox) -> None:
    while True:
        await asyncio.sleep(sandbox.settings.expiry_sweep_seconds or 1.0)
        if sandbox.settings.expiry_sweep_seconds:
            try:
                sandbox.sweep_expired()
            except Exception:
                log.exception("expiry sweep failed")


def create_app(
    settings: TripaySandboxSettings | None = None,
    *,
    callback_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """`callback_transport` lets a test deliver callbacks into an in-process app."""
    sandbox = TripaySandbox(settings or TripaySandboxSettings(), callback_transport)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(_sweep(sandbox))
        try:
            yield
        finally:
            task.cancel()
            sandbox.sender.reset()
            await sandbox.sender.aclose()

    app = FastAPI(
        title="Tripay sandbox",
        description=__doc__,
        lifespan=lifespan,
    )
    app.state.sandbox = sandbox

    @app.get("/health", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(control_router())
    app.include_router(checkout_router())
    app.include_router(tripay_router(), prefix="/api-sandbox")
    app.include_router(tripay_router(), prefix="/api")
    return app
