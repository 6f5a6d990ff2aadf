"""provider service: one `CloudProvider` protocol over DigitalOcean, Vultr and Linode, and
idempotent provisioning. Internal only: the gateway never routes here."""

from __future__ import annotations

import functools
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from provider_service.api.internal import router as internal_router
from provider_service.clouds.registry import CloudRegistry
from provider_service.config import ProviderSettings
from provider_service.provisioning.router import router as provisioning_router
from webrana_common.aiohttp_transport import AiohttpTransport
from webrana_common.service import create_service_app


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process: building one costs ~30 ms, every app would."""
    return ssl.create_default_context()


TAGS = [
    {
        "name": "internal",
        "description": "Service-to-service only (X-API-Key); never routed by the gateway",
    },
]


def create_app(settings: ProviderSettings | None = None) -> FastAPI:
    settings = settings or ProviderSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Not the fleet's internal client: that one carries our X-API-Key, which must never
        # reach a cloud. Each adapter adds its own Authorization header per request.
        async with httpx.AsyncClient(
            headers={"User-Agent": "webrana-provider/1"},
            transport=AiohttpTransport(verify=tls_context()),
        ) as cloud_http:
            app.state.clouds = CloudRegistry(settings, cloud_http)
            yield

    app = create_service_app(
        settings,
        title="WeBrana provider",
        description="Servers at DigitalOcean, Vultr and Linode behind one API: idempotent "
        "provisioning, power actions, rebuilds, consoles and provider metadata. Errors are "
        "RFC 9457 `application/problem+json` with a stable `code`.",
        lifespan=lifespan,
        openapi_tags=TAGS,
    )
    app.include_router(provisioning_router)
    app.include_router(internal_router)
    return app
