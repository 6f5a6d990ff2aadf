"""gateway service: the one public door of the fleet.

`create_app` returns a `Gateway`, the ASGI application uvicorn runs. Requests the edge claims
(a routed path, a refused path, any WebSocket) take a pure-ASGI chain: the envelope (request
id, metrics, security headers), CORS, the edge. They never enter FastAPI, whose routing and
middleware would cost more than the proxying itself (see README, "Hot path"). Everything else,
and the lifespan, goes to the FastAPI app built by `create_service_app`: /health, /ready,
/metrics, /openapi.json (merged) and /docs.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.datastructures import State
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway_service.api_docs import ApiDocuments, docs_router
from gateway_service.config import GatewaySettings
from gateway_service.edge import Edge
from gateway_service.edge_envelope import EdgeEnvelope
from gateway_service.readiness import readiness_router
from gateway_service.routes import PROXIED_SERVICES
from gateway_service.runtime import GatewayRuntime
from gateway_service.security_headers import SecurityHeaders, SecurityHeadersMiddleware
from webrana_common.health import health_router
from webrana_common.metrics import PrometheusMiddleware
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


class Gateway:
    def __init__(self, api: FastAPI, own: ASGIApp, edge: Edge, proxied: ASGIApp) -> None:
        self.api = api  # for its state; requests go through `own`, its wrapped stack
        self.own = own
        self.edge = edge
        self.proxied = proxied

    @property
    def state(self) -> State:
        return self.api.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan" and self.edge.claim(scope):
            await self.proxied(scope, receive, send)
        else:
            await self.own(scope, receive, send)


def create_app(settings: GatewaySettings | None = None) -> Gateway:
    settings = settings or GatewaySettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # For readiness probes and API documents: off the hot path, no internal API key.
        probe_http = httpx.AsyncClient(trust_env=False, timeout=5.0)
        app.state.probe_http = probe_http
        refresher = asyncio.create_task(app.state.api_documents.run(probe_http))
        # Everything alive now (modules, FastAPI, settings) lives as long as the process: the
        # cyclic collector need not walk it again after every few thousand allocations.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refresher
            await runtime.close()
            await probe_http.aclose()

    api = create_service_app(
        settings,
        title="WeBrana gateway",
        description="The public door of WeBrana Cloud: routing, edge authentication, rate "
        "limits and the merged API document.",
        version=VERSION,
        lifespan=lifespan,
        openapi_tags=[{"name": "health", "description": "Liveness and readiness"}],
    )
    runtime = GatewayRuntime(settings, api.state.jwt_verifier, api.state.metrics_registry)
    api.state.runtime = runtime
    api.state.upstream_urls = {s: settings.service_urls()[s] for s in PROXIED_SERVICES}
    _install_own_routes(api, settings)

    origins = settings.cors_origin_list()

    def cors(app: ASGIApp) -> ASGIApp:
        if not origins:
            return app
        return CORSMiddleware(
            app,
            allow_origins=origins,
            allow_credentials=True,
            allow_methods=CORS_METHODS,
            allow_headers=["*"],
            expose_headers=CORS_EXPOSED,
            max_age=settings.cors_max_age_seconds,
        )

    security = SecurityHeaders(
        forwarded_proto=settings.forwarded_proto,
        hsts_max_age=settings.hsts_max_age_seconds,
        addresses=runtime.addresses,
    )
    edge = Edge(runtime)
    # The fleet's series (the app's HttpMetrics), recorded by the envelope for proxied calls.
    http_metrics = next(
        m.kwargs["metrics"] for m in api.user_middleware if m.cls is PrometheusMiddleware
    )
    proxied = EdgeEnvelope(cors(edge), metrics=http_metrics, security=security)
    own = SecurityHeadersMiddleware(cors(api), policy=security)
    return Gateway(api, own, edge, proxied)


def _install_own_routes(api: FastAPI, settings: GatewaySettings) -> None:
    # The library's /ready fails on any dependency and its /openapi.json covers the gateway's
    # own routes only: these take precedence (the router tries routes in order).
    ready = readiness_router()
    for router in (ready, docs_router()):
        api.include_router(router)
        api.router.routes.insert(0, api.router.routes.pop())
    own_routes = [*ready.routes, *(r for r in health_router().routes if r.path == "/health")]
    api.state.api_documents = ApiDocuments(
        api.state.upstream_urls,
        gateway_document=functools.cache(
            lambda: get_openapi(title=api.title, version=VERSION, routes=own_routes)
        ),
        refresh_seconds=settings.openapi_refresh_seconds,
        fetch_timeout=settings.openapi_fetch_timeout_seconds,
        version=VERSION,
    )
