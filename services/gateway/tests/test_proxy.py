"""Forwarding: headers kept and dropped, forwarded headers, request ids, bodies both ways, the
body limit, and what a client sees when a service is down, slow or absent."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import httpx
import pytest
from conftest import RunningGateway, closed_port
from gateway_raw_http import raw_request
from gateway_tokens import TokenMint
from gateway_upstreams import Upstream

from gateway_service.proxy import response_headers
from webrana_common.testing.live_server import LiveServer


async def test_end_to_end_headers_pass_and_hop_by_hop_headers_do_not(
    gateway: RunningGateway, upstreams: dict[str, Upstream]
) -> None:
    response = await raw_request(
        gateway.url,
        b"/api/v1/catalog/plans",
        headers={
            "X-Custom": "kept",
            "Accept-Language": "id-ID",
            "Connection": "keep-alive, X-Client-Secret",
            "X-Client-Secret": "named by Connection",
            "Keep-Alive": "timeout=5",
            "TE": "trailers",
            "Proxy-Authorization": "Basic eA==",
            "Upgrade": "h2c",
        },
    )
    assert response.status == 200
    seen = upstreams["catalog"].requests[-1]
    assert seen.header("x-custom") == "kept"
    assert seen.header("accept-language") == "id-ID"
    for dropped in ("x-client-secret", "keep-alive", "te", "proxy-authorization", "upgrade"):
        assert seen.header(dropped) is None, dropped
    assert seen.header("host") == upstreams["catalog"].url.removeprefix("http://")


async def test_hop_by_hop_response_headers_are_dropped(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/catalog/plans?echo_hop=1")
    assert response.status_code == 200
    assert response.headers["x-served-by"] == "catalog"
    for dropped in ("x-upstream-secret", "keep-alive", "trailer"):
        assert dropped not in response.headers, dropped
    # uvicorn writes its own; the service's must not make a second one
    assert len(response.headers.get_list("date")) == 1
    assert len(response.headers.get_list("server")) == 1


def test_response_headers_named_by_connection_are_dropped() -> None:
    headers = [(b"connection", b"close, X-Secret"), (b"x-secret", b"1"), (b"etag", b'"a"')]
    assert response_headers(headers) == [(b"etag", b'"a"')]


async def test_forwarded_headers_describe_the_client_not_what_it_claims(
    client: httpx.AsyncClient, upstreams: dict[str, Upstream]
) -> None:
    await client.get(
        "/api/v1/catalog/plans",
        headers={
            "X-Forwarded-For": "203.0.113.9",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "evil.example",
            "Forwarded": "for=203.0.113.9",
        },
    )
    seen = upstreams["catalog"].requests[-1]
    assert seen.header("x-forwarded-for") == "127.0.0.1"
    assert seen.header("x-forwarded-proto") == "http"
    assert seen.header("x-forwarded-host") == client.base_url.netloc.decode()
    assert seen.header("forwarded") is None


async def test_a_trusted_proxy_extends_the_forwarded_chain(
    start_gateway: Callable[..., RunningGateway], upstreams: dict[str, Upstream]
) -> None:
    gateway = start_gateway(trusted_proxies="127.0.0.1/32")
    async with gateway.client() as client:
        await client.get(
            "/api/v1/catalog/plans",
            headers={
                "X-Forwarded-For": "203.0.113.9",
                "X-Forwarded-Proto": "https",
                "X-Forwarded-Host": "app.webrana.cloud",
            },
        )
    seen = upstreams["catalog"].requests[-1]
    assert seen.header("x-forwarded-for") == "203.0.113.9, 127.0.0.1"
    assert seen.header("x-forwarded-proto") == "https"
    assert seen.header("x-forwarded-host") == "app.webrana.cloud"


async def test_forwarded_proto_setting_is_reported_to_services(
    start_gateway: Callable[..., RunningGateway], upstreams: dict[str, Upstream]
) -> None:
    gateway = start_gateway(forwarded_proto="https")
    async with gateway.client() as client:
        await client.get("/api/v1/catalog/plans")
    assert upstreams["catalog"].requests[-1].header("x-forwarded-proto") == "https"


async def test_request_id_reaches_the_service_and_comes_back(
    client: httpx.AsyncClient, upstreams: dict[str, Upstream]
) -> None:
    response = await client.get("/api/v1/catalog/plans", headers={"X-Request-ID": "trace-42"})
    assert response.headers["x-request-id"] == "trace-42"
    assert upstreams["catalog"].requests[-1].header("x-request-id") == "trace-42"
    generated = await client.get("/api/v1/catalog/plans")
    assert (
        upstreams["catalog"].requests[-1].header("x-request-id")
        == generated.headers["x-request-id"]
    )


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_methods_and_bodies_are_forwarded(
    client: httpx.AsyncClient, upstreams: dict[str, Upstream], mint: TokenMint, method: str
) -> None:
    response = await client.request(
        method, "/api/v1/orders/x", content=b"a" * 1000, headers=mint.bearer()
    )
    assert response.status_code == 200
    assert response.json()["method"] == method
    assert upstreams["order"].requests[-1].body_length == 1000


async def test_head_answers_keep_the_connection_usable(
    client: httpx.AsyncClient, upstreams: dict[str, Upstream]
) -> None:
    head = await client.head("/api/v1/catalog/plans")
    assert head.status_code == 200
    assert head.content == b""
    for _ in range(3):
        assert (await client.get("/api/v1/catalog/plans")).status_code == 200
    assert upstreams["catalog"].requests[-1].method == "GET"


async def test_a_streamed_upload_arrives_whole(
    start_gateway: Callable[..., RunningGateway], upstreams: dict[str, Upstream], mint: TokenMint
) -> None:
    gateway = start_gateway(max_body_bytes="16MiB")

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(80):
            yield b"z" * 65536

    async with gateway.client() as client:
        response = await client.post(
            "/api/v1/orders/upload", content=chunks(), headers=mint.bearer()
        )
    assert response.status_code == 200
    assert upstreams["order"].requests[-1].body_length == 80 * 65536
    assert upstreams["order"].requests[-1].header("transfer-encoding") == "chunked"


async def test_a_body_over_the_limit_is_refused_before_it_is_read(
    client: httpx.AsyncClient, upstreams: dict[str, Upstream], mint: TokenMint
) -> None:
    response = await client.post(
        "/api/v1/orders", content=b"x" * (1024 * 1024 + 1), headers=mint.bearer()
    )
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert response.json()["limit_bytes"] == 1024 * 1024
    assert not upstreams["order"].requests


async def test_a_chunked_body_over_the_limit_is_cut_off(
    client: httpx.AsyncClient, upstreams: dict[str, Upstream], mint: TokenMint
) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(40):
            yield b"y" * 65536

    response = await client.post("/api/v1/orders", content=chunks(), headers=mint.bearer())
    assert response.status_code == 413
    assert not upstreams["order"].requests


async def test_route_body_limits_override_the_default_per_prefix(
    start_gateway: Callable[..., RunningGateway], mint: TokenMint
) -> None:
    gateway = start_gateway(max_body_bytes="4KiB", route_body_limits="/api/v1/instances=64KiB")
    async with gateway.client() as client:
        small_route = await client.post(
            "/api/v1/orders", content=b"x" * 5000, headers=mint.bearer()
        )
        big_route = await client.post(
            "/api/v1/instances/x/rebuild", content=b"x" * 5000, headers=mint.bearer()
        )
        too_big = await client.post(
            "/api/v1/instances/x/rebuild", content=b"x" * 70_000, headers=mint.bearer()
        )
    assert small_route.status_code == 413
    assert big_route.status_code == 200
    assert too_big.status_code == 413


async def test_a_service_that_is_down_gives_503_naming_it(
    start_gateway: Callable[..., RunningGateway],
) -> None:
    gateway = start_gateway(catalog_url=f"http://127.0.0.1:{closed_port()}", upstream_retries=0)
    async with gateway.client() as client:
        response = await client.get("/api/v1/catalog/plans")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "upstream_unavailable"
    assert body["service"] == "catalog"
    assert "catalog" in body["detail"]
    assert "Traceback" not in response.text


async def test_a_service_without_a_url_gives_503_not_configured(
    start_gateway: Callable[..., RunningGateway],
) -> None:
    gateway = start_gateway(billing_url="")
    async with gateway.client() as client:
        response = await client.post("/api/v1/billing/callbacks/tripay", content=b"{}")
    assert response.status_code == 503
    assert response.json()["code"] == "upstream_not_configured"
    assert response.json()["service"] == "billing"


async def test_a_slow_service_gives_504_and_is_not_retried(
    start_gateway: Callable[..., RunningGateway], upstreams: dict[str, Upstream]
) -> None:
    gateway = start_gateway(upstream_timeout_seconds=0.3)
    async with gateway.client() as client:
        started = time.monotonic()
        response = await client.get("/api/v1/catalog/plans?echo_sleep=2")
    assert response.status_code == 504
    assert time.monotonic() - started < 1.5
    assert response.json()["code"] == "upstream_timeout"
    assert response.json()["service"] == "catalog"
    await asyncio.sleep(0.1)
    assert len(upstreams["catalog"].requests) == 1


async def _come_up_later(upstream: Upstream, port: int, delay: float) -> LiveServer:
    server = LiveServer(upstream.app(), port=port)
    thread = threading.Timer(delay, server.start)
    thread.start()
    return server


async def test_connect_errors_are_retried_for_idempotent_methods_only(
    start_gateway: Callable[..., RunningGateway], upstreams: dict[str, Upstream], mint: TokenMint
) -> None:
    port = closed_port()
    gateway = start_gateway(order_url=f"http://127.0.0.1:{port}", upstream_retries=5)
    async with gateway.client() as client:
        post = await client.post("/api/v1/orders", content=b"{}", headers=mint.bearer())
        assert post.status_code == 503  # never retried: it could have been half-sent
        server = await _come_up_later(upstreams["order"], port, 0.15)
        try:
            get = await client.get("/api/v1/orders/x", headers=mint.bearer())
        finally:
            await asyncio.to_thread(server.stop)
    assert get.status_code == 200
    assert [r.method for r in upstreams["order"].requests] == ["GET"]


async def test_a_restarted_service_is_reached_again(
    start_gateway: Callable[..., RunningGateway], upstreams: dict[str, Upstream]
) -> None:
    restartable = Upstream("catalog").start()
    try:
        gateway = start_gateway(catalog_url=restartable.url)
        async with gateway.client() as client:
            assert (await client.get("/api/v1/catalog/plans")).status_code == 200
            await asyncio.to_thread(restartable.server.stop)  # type: ignore[union-attr]
            await asyncio.to_thread(restartable.server.start)  # type: ignore[union-attr]
            assert (await client.get("/api/v1/catalog/plans")).status_code == 200
    finally:
        restartable.stop()
