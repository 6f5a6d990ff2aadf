"""gateway service: the one public door of the fleet.

Proxied requests never reach FastAPI's router: the `Edge` middleware (pure ASGI, innermost, so
request ids and metrics still wrap it) answers them. FastAPI serves only the gateway's own
routes: /health, /ready, /metrics, /openapi.json (merged) and /docs.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from gateway_service.api_docs import ApiDocuments, docs_router
from gateway_service.config import GatewaySettings
from gateway_service.edge import Edge
from gateway_service.readiness import readiness_router
from gateway_service.routes import PROXIED_SERVICES
from gateway_service.runtime import GatewayRuntime
from gateway_service.security_headers import SecurityHeadersMiddleware
from webrana_common.health import health_router
from webrana_common.service import create_service_app

VERSION = "1.0.0"
CORS_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
CORS_EXPOSED = [
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "RateLimit-Policy",
    "Retry-After",
    "X-Request-ID",
    "Location",
    "Content-Disposition",
]


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # For readiness probes and API documents: off the hot path, no internal API key.
        probe_http = httpx.AsyncClient(trust_env=False, timeout=5.0)
        app.state.probe_http = probe_http
        refresher = asyncio.create_task(app.state.api_documents.run(probe_http))
        try:
            yield
        finally:
            refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refresher
            runtime.close()
            await probe_http.aclose()

    app = create_service_app(
        settings,
        title="WeBrana gateway",
        description="The public door of WeBrana Cloud: routing, edge authentication, rate "
        "limits and the merged API document.",
        version=VERSION,
        lifespan=lifespan,
        openapi_tags=[{"name": "health", "description": "Liveness and readiness"}],
    )
    runtime = GatewayRuntime(settings, app.state.jwt_verifier, app.state.metrics_registry)
    app.state.runtime = runtime
    app.state.upstream_urls = {s: settings.service_urls()[s] for s in PROXIED_SERVICES}
    # The library's /ready fails on any dependency and its /openapi.json covers the gateway's
    # own routes only: these take precedence (the router tries routes in order).
    ready = readiness_router()
    for router in (ready, docs_router()):
        app.include_router(router)
        app.router.routes.insert(0, app.router.routes.pop())
    own_routes = [*ready.routes, *(r for r in health_router().routes if r.path == "/health")]
    app.state.api_documents = ApiDocuments(
        app.state.upstream_urls,
        gateway_document=functools.cache(
            lambda: get_openapi(title=app.title, version=VERSION, routes=own_routes)
        ),
        refresh_seconds=settings.openapi_refresh_seconds,
        fetch_timeout=settings.openapi_fetch_timeout_seconds,
        version=VERSION,
    )

    # Innermost user middleware: inside request id and metrics, before FastAPI's routing.
    app.user_middleware.append(Middleware(Edge, runtime=runtime))
    origins = settings.cors_origin_list()
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_credentials=True,
            allow_methods=CORS_METHODS,
            allow_headers=["*"],
            expose_headers=CORS_EXPOSED,
            max_age=settings.cors_max_age_seconds,
        )
    app.add_middleware(
        SecurityHeadersMiddleware,
        forwarded_proto=settings.forwarded_proto,
        hsts_max_age=settings.hsts_max_age_seconds,
        addresses=runtime.addresses,
    )
    return app
