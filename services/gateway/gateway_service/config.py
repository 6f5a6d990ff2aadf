"""Settings of the gateway; every name is documented in services/gateway/README.md."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Literal

from pydantic import Field, field_validator, model_validator

from webrana_common.settings import ServiceSettings

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

MIB = 1024 * 1024
_SIZE = re.compile(r"^\s*(\d+)\s*(b|kb|kib|mb|mib|gb|gib)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {
    None: 1,
    "b": 1,
    "kb": 1000,
    "kib": 1024,
    "mb": 1000**2,
    "mib": MIB,
    "gb": 1000**3,
    "gib": 1024**3,
}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(s|sec|second|m|min|minute|h|hour)s?\s*$", re.I)
_PERIOD_SECONDS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60}
_PERIOD_SECONDS |= {"h": 3600, "hour": 3600}


@dataclass(frozen=True)
class RateSpec:
    """`limit` requests per `period_seconds`, with bursts up to `limit`."""

    limit: int
    period_seconds: int

    @classmethod
    def parse(cls, raw: str) -> RateSpec:
        """`10/minute`, `600/min`, `5/second`, `1000/hour`, `100/30s`."""
        match = _RATE.match(raw)
        if not match:
            raise ValueError(f"rate {raw!r} must look like 10/minute or 100/30s")
        count, multiple, unit = match.groups()
        period = int(multiple or 1) * _PERIOD_SECONDS[unit.lower()]
        if int(count) < 1 or period < 1:
            raise ValueError(f"rate {raw!r} must allow at least one request per period")
        return cls(int(count), period)


def parse_size(raw: str | int) -> int:
    """`1048576`, `1MiB`, `512KiB`, `10MB`."""
    if isinstance(raw, int):
        return raw
    match = _SIZE.match(raw)
    if not match:
        raise ValueError(f"size {raw!r} must look like 1048576, 512KiB or 10MiB")
    number, unit = match.groups()
    return int(number) * _SIZE_UNITS[unit.lower() if unit else None]


def parse_networks(raw: str) -> list[IPNetwork]:
    return [
        ipaddress.ip_network(item.strip(), strict=False) for item in raw.split(",") if item.strip()
    ]


def parse_prefix_sizes(raw: str) -> dict[str, int]:
    """`/api/v1/instances=10MiB,/api/v1/billing=2MiB` → {prefix: bytes}."""
    limits: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        prefix, sep, size = item.partition("=")
        if not sep or not prefix.strip().startswith("/"):
            raise ValueError(f"ROUTE_BODY_LIMITS entry {item!r} must look like /api/v1/x=10MiB")
        limits[prefix.strip().rstrip("/")] = parse_size(size)
    return limits


class GatewaySettings(ServiceSettings):
    service_name: str = "gateway"
    port: int = 3000

    # Upstream HTTP: one keep-alive pool per service (see README, "Forwarding" and "Hot path").
    upstream_connect_timeout_seconds: float = Field(default=3.0, gt=0)
    upstream_timeout_seconds: float = Field(default=30.0, gt=0)
    upstream_max_connections: int = Field(default=256, ge=1)
    # Below uvicorn's 5 s keep-alive, so we drop an idle connection before the service does.
    upstream_keepalive_seconds: float = Field(default=4.0, ge=0)
    upstream_retries: int = Field(default=2, ge=0, le=5)

    max_body_bytes: int = Field(default=MIB, ge=0)
    route_body_limits: str = ""

    circuit_failure_threshold: int = Field(default=5, ge=1)
    circuit_open_seconds: float = Field(default=10.0, gt=0)

    # Edge security.
    admin_allowed_cidrs: str = ""
    trusted_proxies: str = ""
    cors_origins: str = ""
    cors_max_age_seconds: int = Field(default=600, ge=0)
    forwarded_proto: Literal["", "http", "https"] = ""
    hsts_max_age_seconds: int = Field(default=31_536_000, ge=0)
    token_cache_size: int = Field(default=10_000, ge=0)

    # Rate limits: GCRA in Redis (see README, "Rate limiting").
    rate_limit_enabled: bool = True
    rate_limit_auth: str = "10/minute"
    rate_limit_read: str = "300/minute"
    rate_limit_write: str = "60/minute"
    rate_limit_redis_timeout_seconds: float = Field(default=0.25, gt=0)
    rate_limit_redis_retry_seconds: float = Field(default=2.0, ge=0)
    rate_limit_sync_interval_ms: float = Field(default=20.0, ge=0)
    rate_limit_local_max_keys: int = Field(default=100_000, ge=100)

    websocket_idle_timeout_seconds: float = Field(default=300.0, gt=0)
    websocket_max_message_bytes: int = Field(default=MIB, ge=1)
    websocket_max_queue: int = Field(default=16, ge=1)

    openapi_refresh_seconds: float = Field(default=60.0, gt=0)
    openapi_fetch_timeout_seconds: float = Field(default=5.0, gt=0)
    # Upstreams whose readiness the gateway's /ready requires; by default none, since the
    # gateway serves (and answers 503 for one service) while any single service is down.
    ready_required_upstreams: str = ""

    @field_validator("admin_allowed_cidrs", "trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        parse_networks(value)
        return value

    @field_validator("route_body_limits")
    @classmethod
    def _body_limits(cls, value: str) -> str:
        parse_prefix_sizes(value)
        return value

    @field_validator("rate_limit_auth", "rate_limit_read", "rate_limit_write")
    @classmethod
    def _rate(cls, value: str) -> str:
        RateSpec.parse(value)
        return value

    @field_validator("max_body_bytes", "websocket_max_message_bytes", mode="before")
    @classmethod
    def _size(cls, value: str | int) -> int:
        return parse_size(value)

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: str) -> str:
        for origin in filter(None, (o.strip() for o in value.split(","))):
            if origin == "*":
                raise ValueError("CORS_ORIGINS cannot be * : credentials are allowed")
            if not re.fullmatch(r"https?://[^/\s]+", origin):
                raise ValueError(f"CORS origin {origin!r} must be scheme://host[:port]")
        return value

    @field_validator("ready_required_upstreams")
    @classmethod
    def _required(cls, value: str) -> str:
        from gateway_service.routes import PROXIED_SERVICES

        unknown = {s.strip() for s in value.split(",") if s.strip()} - set(PROXIED_SERVICES)
        if unknown:
            raise ValueError(f"READY_REQUIRED_UPSTREAMS names unknown services: {sorted(unknown)}")
        return value

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> GatewaySettings:
        # Replaces the base check (same name), which demands DATABASE_URL and non-development
        # internal keys: the gateway has no database, serves no /internal/** and calls none.
        # One validator, so that the JWKS default is in place before it is checked.
        if not self.jwks_url and self.auth_url:
            self.jwks_url = f"{self.auth_url.rstrip('/')}/.well-known/jwks.json"
        if self.environment != "production":
            return self
        missing = [n for n in ("redis_url", "jwks_url") if not getattr(self, n)]
        if missing:
            raise ValueError(f"production needs {', '.join(m.upper() for m in missing)}")
        return self

    def admin_networks(self) -> list[IPNetwork]:
        return parse_networks(self.admin_allowed_cidrs)

    def trusted_proxy_networks(self) -> list[IPNetwork]:
        return parse_networks(self.trusted_proxies)

    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]

    def required_upstreams(self) -> set[str]:
        return {s.strip() for s in self.ready_required_upstreams.split(",") if s.strip()}

    def rate_specs(self) -> dict[str, RateSpec]:
        return {
            "auth": RateSpec.parse(self.rate_limit_auth),
            "read": RateSpec.parse(self.rate_limit_read),
            "write": RateSpec.parse(self.rate_limit_write),
        }
