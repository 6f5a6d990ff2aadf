"""order service: orders, their payment status, provisioning and the admin's tools."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from arq import create_pool
from fastapi import FastAPI

from order_service.admin.router import router as admin_router
from order_service.config import OrderSettings
from order_service.orders.router import internal_router as orders_internal_router
from order_service.orders.router import router as orders_router
from webrana_common.redis import arq_redis_settings
from webrana_common.service import create_service_app

TAGS = [
    {"name": "orders", "description": "Ordering a server, my orders, cancelling an unpaid one"},
    {"name": "admin", "description": "Searching orders, retrying, cancelling, refunding"},
    {
        "name": "internal",
        "description": "Service-to-service only (X-API-Key); never routed by the gateway",
    },
]


def create_app(settings: OrderSettings | None = None) -> FastAPI:
    settings = settings or OrderSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Provisioning jobs go to the worker's queue (`arq:order`).
        app.state.arq = (
            await create_pool(
                arq_redis_settings(settings.redis_url), default_queue_name="arq:order"
            )
            if settings.redis_url
            else None
        )
        try:
            yield
        finally:
            if app.state.arq is not None:
                await app.state.arq.aclose()

    app = create_service_app(
        settings,
        title="WeBrana order",
        description="Orders from price to running server. Errors are RFC 9457 "
        "`application/problem+json` with a stable `code`.",
        lifespan=lifespan,
        use_outbox=True,
        openapi_tags=TAGS,
    )
    app.state.referenced_plans = set()
    app.include_router(orders_router)
    app.include_router(admin_router)
    app.include_router(orders_internal_router)
    return app
