"""billing service: invoices, Tripay payments and callbacks, the wallet and its ledger, promos."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from billing_service.admin.router import router as admin_router
from billing_service.config import BillingSettings
from billing_service.context import BillingContext
from billing_service.invoices.router import internal_router as invoices_internal_router
from billing_service.invoices.router import router as invoices_router
from billing_service.payments.router import router as payments_router
from billing_service.payments.router import webhook_router
from billing_service.promos.router import admin_router as promos_admin_router
from billing_service.promos.router import internal_router as promos_internal_router
from billing_service.promos.router import router as promos_router
from billing_service.wallet.router import internal_router as wallet_internal_router
from billing_service.wallet.router import router as wallet_router
from webrana_common.service import create_service_app

TAGS = [
    {"name": "invoices", "description": "My invoices (orders and wallet top-ups)"},
    {"name": "payments", "description": "Paying an invoice: channels with fees, Tripay, wallet"},
    {"name": "wallet", "description": "My prepaid balance, its movements, top-ups"},
    {"name": "promos", "description": "Checking a promo code"},
    {"name": "webhooks", "description": "Tripay's signed payment_status callback"},
    {"name": "admin: billing", "description": "Transactions, invoices, wallets (admins only)"},
    {"name": "admin: promos", "description": "Promo codes and their usage (admins only)"},
    {
        "name": "internal",
        "description": "Service-to-service only (X-API-Key); never routed by the gateway",
    },
]


def create_app(
    settings: BillingSettings | None = None,
    *,
    tripay_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """`tripay_transport` lets tests run the Tripay stand-in in-process."""
    settings = settings or BillingSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = app.state
        if state.db is None:
            raise RuntimeError("billing needs DATABASE_URL")
        state.billing = BillingContext.build(settings, state.http, state.redis, tripay_transport)
        try:
            yield
        finally:
            await state.billing.aclose()

    app = create_service_app(
        settings,
        title="WeBrana billing",
        description="Invoices in whole rupiah, payment through Tripay (virtual account, QRIS, "
        "e-wallet, convenience store) or the prepaid wallet, promo codes. Errors are RFC 9457 "
        "`application/problem+json` with a stable `code`.",
        lifespan=lifespan,
        use_outbox=True,
        openapi_tags=TAGS,
    )
    app.include_router(invoices_router)
    app.include_router(payments_router)
    app.include_router(webhook_router)
    app.include_router(wallet_router)
    app.include_router(promos_router)
    app.include_router(admin_router)
    app.include_router(promos_admin_router)
    app.include_router(invoices_internal_router)
    app.include_router(wallet_internal_router)
    app.include_router(promos_internal_router)
    return app
