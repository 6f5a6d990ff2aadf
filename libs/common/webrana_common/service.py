"""Service defaults: one call wires logging, request id, errors, metrics, Sentry, health, auth,
the database, Redis, the internal HTTP client and the outbox into a FastAPI app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from starlette.middleware import Middleware

from webrana_common.auth.api_keys import parse_api_keys
from webrana_common.auth.jwt import JWKSVerifier
from webrana_common.db.session import Database
from webrana_common.health import health_router
from webrana_common.http import internal_client
from webrana_common.logs import configure_logging
from webrana_common.metrics import HttpMetrics, PrometheusMiddleware, metrics_router
from webrana_common.nul_refusal import RefuseNulMiddleware
from webrana_common.outbox.relay import OutboxRelay, OutboxSender
from webrana_common.problem import install_problem_handlers
from webrana_common.redis import redis_client
from webrana_common.request_id import RequestIdMiddleware
from webrana_common.sentry import init_sentry
from webrana_common.settings import ServiceSettings

ServiceLifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    description: str,
    version: str = "1.0.0",
    lifespan: ServiceLifespan | None = None,
    use_outbox: bool = False,
    openapi_tags: list[dict[str, Any]] | None = None,
    inner_middleware: list[Middleware] | None = None,
) -> FastAPI:
    """`inner_middleware` runs inside the request-id, metrics and NUL-refusal middleware (a
    fast path answering from memory still gets a request id and its metrics, and never sees
    a NUL)."""

    @asynccontextmanager
    async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.service_name, settings.log_level)
        init_sentry(settings)
        state = app.state
        state.http = internal_client(
            api_key=settings.internal_api_key.get_secret_value(),
            timeout=settings.http_timeout_seconds,
        )
        state.db = (
            Database(settings.database_url, pool_size=settings.db_pool_size)
            if settings.database_url
            else None
        )
        state.redis = redis_client(settings.redis_url) if settings.redis_url else None
        if state.db is not None:
            state.readiness_checks["database"] = state.db.ping
        if state.redis is not None:
            state.readiness_checks["redis"] = state.redis.ping
        if use_outbox and state.db is not None:
            state.db.outbox_relay = OutboxRelay(
                state.db, OutboxSender(state.http, settings.service_urls())
            )
        try:
            if lifespan is not None:
                async with lifespan(app):
                    yield
            else:
                yield
        finally:
            if state.db is not None:
                # First: dispose() lets post-commit outbox deliveries finish over `state.http`.
                await state.db.dispose()
            await state.http.aclose()
            if state.redis is not None:
                await state.redis.aclose()

    app = FastAPI(
        title=title,
        description=description,
        version=version,
        lifespan=_lifespan,
        openapi_tags=openapi_tags,
    )
    app.state.settings = settings
    app.state.readiness_checks = {}
    app.state.internal_api_keys = parse_api_keys(settings.internal_api_keys)
    app.state.jwt_verifier = JWKSVerifier(
        settings.jwks_url,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        cache_seconds=settings.jwks_cache_seconds,
    )
    registry = CollectorRegistry()
    app.state.metrics_registry = registry
    install_problem_handlers(app)
    app.user_middleware.extend([Middleware(RefuseNulMiddleware), *(inner_middleware or [])])
    app.add_middleware(PrometheusMiddleware, metrics=HttpMetrics(registry, settings.service_name))
    app.add_middleware(RequestIdMiddleware)
    app.include_router(health_router())
    app.include_router(metrics_router(registry))
    return app
