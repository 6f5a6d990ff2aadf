"""What the edge needs at request time, built once from the settings: a connection pool and a
circuit breaker per service, the rate limiter, the token checker and the forwarder."""

from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry

from gateway_service.circuit_breaker import CircuitBreaker, CircuitState
from gateway_service.client_address import ClientAddressResolver
from gateway_service.config import GatewaySettings, parse_prefix_sizes
from gateway_service.edge_auth import EdgeAuthenticator
from gateway_service.gateway_metrics import GatewayMetrics
from gateway_service.proxy import Forwarder
from gateway_service.rate_limit import LocalBuckets, RateLimiter
from gateway_service.redis_pipeline import RedisPipeline
from gateway_service.routes import PROXIED_SERVICES, BodyLimits
from gateway_service.upstream_pool import UpstreamPool
from webrana_common.auth.jwt import JWKSVerifier

log = logging.getLogger("webrana.gateway")


class GatewayRuntime:
    def __init__(
        self, settings: GatewaySettings, verifier: JWKSVerifier, registry: CollectorRegistry
    ) -> None:
        self.settings = settings
        self.metrics = GatewayMetrics(registry)
        urls = settings.service_urls()
        self.pools: dict[str, UpstreamPool] = {}
        self.breakers: dict[str, CircuitBreaker] = {}
        for service in PROXIED_SERVICES:
            if urls[service]:
                self.pools[service] = UpstreamPool(
                    service,
                    urls[service],
                    max_connections=settings.upstream_max_connections,
                    connect_timeout=settings.upstream_connect_timeout_seconds,
                    keepalive_seconds=settings.upstream_keepalive_seconds,
                )
            self.breakers[service] = CircuitBreaker(
                service,
                failure_threshold=settings.circuit_failure_threshold,
                open_seconds=settings.circuit_open_seconds,
                on_change=self.metrics.circuit_changed,
            )
            self.metrics.circuit_changed(service, CircuitState.CLOSED)
        self.redis = (
            RedisPipeline(
                settings.redis_url,
                timeout=settings.rate_limit_redis_timeout_seconds,
                retry_seconds=settings.rate_limit_redis_retry_seconds,
            )
            if settings.redis_url and settings.rate_limit_enabled
            else None
        )
        self.limiter = (
            RateLimiter(
                settings.rate_specs(),
                redis=self.redis,
                local=LocalBuckets(settings.rate_limit_local_max_keys),
                registry=registry,
                sync_interval_ms=settings.rate_limit_sync_interval_ms,
            )
            if settings.rate_limit_enabled
            else None
        )
        if self.limiter is not None and self.redis is None:
            log.warning("REDIS_URL is not set: rate limits are per process")
        self.authenticator = EdgeAuthenticator(verifier, max_entries=settings.token_cache_size)
        self.forwarder = Forwarder(
            timeout=settings.upstream_timeout_seconds,
            retries=settings.upstream_retries,
            metrics=self.metrics,
        )
        self.addresses = ClientAddressResolver(settings.trusted_proxy_networks())
        self.admin_networks = settings.admin_networks()
        self.body_limits = BodyLimits(
            settings.max_body_bytes, parse_prefix_sizes(settings.route_body_limits)
        )
        self.forwarded_proto = settings.forwarded_proto.encode() or None
        self.cors_origins = frozenset(settings.cors_origin_list())

    async def close(self) -> None:
        if self.limiter is not None:
            await self.limiter.close()
            await self.limiter.sync()
        for pool in self.pools.values():
            pool.close()
        if self.redis is not None:
            self.redis.close()
