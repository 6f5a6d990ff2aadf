"""Large bodies stream: a 50 MB download passes through a gateway process without being held
in its memory, and a client that leaves stops the service's stream."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import psutil
import pytest
from conftest import RunningGateway
from gateway_tokens import TokenMint
from gateway_upstreams import CHUNK, Upstream

from webrana_common.embedded import free_port

REPO_ROOT = Path(__file__).resolve().parents[3]
MIB = 1024 * 1024


@pytest.fixture
async def gateway_process(
    upstreams: dict[str, Upstream], redis_url: str
) -> AsyncIterator[tuple[str, psutil.Process]]:
    """The gateway as devstack runs it (uvicorn --factory, settings from the environment), in a
    process of its own so that its memory can be measured apart from the test's."""
    port = free_port()
    env = {
        **os.environ,
        "ENVIRONMENT": "test",
        "LOG_LEVEL": "WARNING",
        "REDIS_URL": redis_url,
        "JWKS_URL": f"{upstreams['auth'].url}/.well-known/jwks.json",
        "OPENAPI_REFRESH_SECONDS": "3600",
        **{f"{name.upper()}_URL": server.url for name, server in upstreams.items()},
    }
    argv = [
        sys.executable, "-m", "uvicorn", "--factory", "gateway_service.app:create_app",
        "--port", str(port), "--no-proxy-headers", "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(argv, env=env, cwd=REPO_ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(trust_env=False) as client:
            deadline = time.monotonic() + 20
            while True:
                try:
                    if (await client.get(f"{url}/health")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "gateway process did not start"
                await asyncio.sleep(0.05)
        yield url, psutil.Process(process.pid)
    finally:
        process.terminate()
        process.wait(10)


async def test_a_50_mb_download_streams_through_in_bounded_memory(
    gateway_process: tuple[str, psutil.Process],
) -> None:
    url, process = gateway_process
    async with httpx.AsyncClient(trust_env=False, timeout=30) as client:
        # Warm up (first request imports, pools, buffers), then measure from there.
        assert (await client.get(f"{url}/api/v1/catalog/plans?echo_stream_mb=1")).status_code == 200
        baseline = peak = process.memory_info().rss
        received = 0
        async with client.stream("GET", f"{url}/api/v1/catalog/big?echo_stream_mb=50") as response:
            assert response.status_code == 200
            assert int(response.headers["content-length"]) == 50 * MIB
            async for chunk in response.aiter_raw():
                assert chunk == CHUNK[: len(chunk)] or set(chunk) <= set(CHUNK)
                received += len(chunk)
                if received % (2 * MIB) < len(chunk):
                    peak = max(peak, process.memory_info().rss)
                    await asyncio.sleep(0.005)  # a slowish reader: the gateway must wait for it
    assert received == 50 * MIB
    assert peak - baseline < 20 * MIB, f"gateway grew by {(peak - baseline) / MIB:.1f} MiB"


async def test_a_client_that_leaves_mid_download_stops_the_service_stream(
    start_gateway: Callable[..., RunningGateway], upstreams: dict[str, Upstream]
) -> None:
    gateway = start_gateway()
    async with gateway.client() as client:
        async with client.stream("GET", "/api/v1/catalog/big?echo_stream_mb=200") as response:
            assert response.status_code == 200
            async for _ in response.aiter_raw():
                break
    await asyncio.sleep(0.5)
    sent = upstreams["catalog"].streamed_chunks
    await asyncio.sleep(0.5)
    # 200 MB is 3,200 chunks; with the client gone the service must be stopped, not drained.
    assert upstreams["catalog"].streamed_chunks == sent
    assert sent < 1000


async def test_an_upload_is_forwarded_while_it_is_still_being_sent(
    start_gateway: Callable[..., RunningGateway], upstreams: dict[str, Upstream], mint: TokenMint
) -> None:
    gateway = start_gateway(max_body_bytes="64MiB")
    started = upstreams["instance"].body_started

    async def upload() -> AsyncIterator[bytes]:
        yield b"a" * 65536
        # The rest is sent only once the service has the first part: a gateway that held the
        # body back until it had all of it would wait here forever.
        assert await asyncio.to_thread(started.wait, 5), "the service never saw the first part"
        for _ in range(15):
            yield b"b" * 65536

    async with gateway.client() as client:
        response = await client.post(
            "/api/v1/instances/x/iso?echo_stream_body=1", content=upload(), headers=mint.bearer()
        )
    assert response.status_code == 200
    assert response.json()["body_length"] == 16 * 65536
