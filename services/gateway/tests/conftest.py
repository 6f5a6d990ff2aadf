"""Fixtures of the gateway tests: a real upstream per service (small ASGI apps under uvicorn),
a token mint whose JWKS the auth stand-in serves, real Redis, and gateways started with any
settings under uvicorn, as in production."""

from __future__ import annotations

import os
import socket
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

# Test helpers live next to this file under fleet-unique module names (tests are collected
# with --import-mode=importlib, so the folder is not on sys.path by itself).
sys.path.insert(0, str(Path(__file__).parent))

from gateway_tokens import TokenMint
from gateway_upstreams import Upstream

from gateway_service.app import Gateway, create_app
from gateway_service.config import GatewaySettings
from gateway_service.routes import PROXIED_SERVICES
from webrana_common.testing.live_server import LiveServer

URL_SETTING = {s: f"{s}_url" for s in PROXIED_SERVICES}


@pytest.fixture(scope="session")
def mint() -> TokenMint:
    return TokenMint()


@pytest.fixture(scope="session")
def upstream_servers(mint: TokenMint) -> Iterator[dict[str, Upstream]]:
    servers = {s: Upstream(s, jwks=mint.jwks if s == "auth" else None) for s in PROXIED_SERVICES}
    for server in servers.values():
        server.start()
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture
def upstreams(upstream_servers: dict[str, Upstream]) -> dict[str, Upstream]:
    for server in upstream_servers.values():
        server.reset()
    return upstream_servers


def closed_port() -> int:
    """A port nothing listens on (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningGateway:
    url: str
    app: Gateway
    settings: GatewaySettings
    server: LiveServer

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://")

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, trust_env=False, timeout=15, **kwargs)


def gateway_settings(
    upstreams: dict[str, Upstream], redis: str, **overrides: Any
) -> GatewaySettings:
    values: dict[str, Any] = {
        "environment": "test",
        "log_level": "WARNING",
        "redis_url": redis,
        "jwks_url": f"{upstreams['auth'].url}/.well-known/jwks.json",
        "rate_limit_auth": "1000/minute",
        "rate_limit_read": "1000/minute",
        "rate_limit_write": "1000/minute",
        "openapi_refresh_seconds": 3600,
        **{URL_SETTING[s]: upstreams[s].url for s in PROXIED_SERVICES},
    }
    values.update(overrides)
    return GatewaySettings(**values)


def run_gateway(settings: GatewaySettings) -> RunningGateway:
    app = create_app(settings)
    # uvicorn believes X-Forwarded-For from 127.0.0.1 unless told otherwise, and rewrites the
    # client address before the gateway sees it; the gateway runs with --no-proxy-headers. Its
    # Config reads this variable when the server is built, inside start().
    previous = os.environ.get("FORWARDED_ALLOW_IPS")
    os.environ["FORWARDED_ALLOW_IPS"] = ""
    try:
        server = LiveServer(app).start()
    finally:
        if previous is None:
            del os.environ["FORWARDED_ALLOW_IPS"]
        else:
            os.environ["FORWARDED_ALLOW_IPS"] = previous
    return RunningGateway(server.url, app, settings, server)


@pytest.fixture(scope="session")
def _stopping() -> Iterator[list[threading.Thread]]:
    """Gateways stop in the background (uvicorn takes ~0.2 s to notice); all are joined at the
    end of the session."""
    threads: list[threading.Thread] = []
    yield threads
    for thread in threads:
        thread.join(10)


@pytest.fixture
def start_gateway(
    upstreams: dict[str, Upstream], redis_url: str, _stopping: list[threading.Thread]
) -> Iterator[Callable[..., RunningGateway]]:
    """A gateway of its own, with settings overridden."""
    started: list[LiveServer] = []

    def start(**overrides: Any) -> RunningGateway:
        gateway = run_gateway(gateway_settings(upstreams, redis_url, **overrides))
        started.append(gateway.server)
        return gateway

    yield start
    for server in started:
        thread = threading.Thread(target=server.stop, daemon=True)
        thread.start()
        _stopping.append(thread)


@pytest.fixture(scope="session")
def shared_gateway(
    upstream_servers: dict[str, Upstream], redis_server_url: str
) -> Iterator[RunningGateway]:
    gateway = run_gateway(gateway_settings(upstream_servers, redis_server_url))
    yield gateway
    gateway.server.stop()


@pytest.fixture
def gateway(shared_gateway: RunningGateway, upstreams: dict[str, Upstream]) -> RunningGateway:
    """The gateway with default settings (shared: tests that change state start their own)."""
    return shared_gateway


@pytest.fixture
async def client(gateway: RunningGateway) -> AsyncIterator[httpx.AsyncClient]:
    async with gateway.client() as http:
        yield http
