"""HTTP probes: waiting for each process's /ready after start, /health for `webrana status`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import httpx

from devstack.console import Console
from devstack.supervisor import Child

POLL_SECONDS = 0.25


def http_client(timeout: float = 2.0) -> httpx.AsyncClient:
    # trust_env=False: a developer's proxy settings must not route calls to 127.0.0.1.
    return httpx.AsyncClient(timeout=timeout, trust_env=False)


async def probe(client: httpx.AsyncClient, url: str) -> str:
    """ "ok" on 200, else the status code or "down"."""
    try:
        response = await client.get(url)
    except httpx.HTTPError:
        return "down"
    return "ok" if response.status_code == 200 else str(response.status_code)


async def wait_until_ready(
    children: Sequence[Child], console: Console, seconds: float
) -> dict[str, str]:
    """Each child's readiness: "ready", "not ready" (timeout), "gave up" or, for a process with
    no HTTP side (a worker), whether it runs."""
    deadline = time.monotonic() + seconds
    started = time.monotonic()

    async def one(client: httpx.AsyncClient, child: Child) -> str:
        url = child.spec.ready_url
        while True:
            if child.status == "gave up":
                return "gave up"
            if url is None:
                if child.status == "running":
                    return "running"
            elif child.status == "running" and await probe(client, url) == "ok":
                console.info(f"  {child.name} ready ({time.monotonic() - started:.1f}s)")
                return "ready"
            if time.monotonic() > deadline:
                return "not ready"
            await asyncio.sleep(POLL_SECONDS)

    async with http_client() as client:
        results = await asyncio.gather(*(one(client, c) for c in children))
    return dict(zip((c.name for c in children), results, strict=True))
