"""Each stand-in runs in-process behind httpx's ASGI transport with short delays. When a test
ends, every response the stand-in sent must have validated against the provider's spec."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from devstack.sandbox import digitalocean, linode, vultr
from devstack.sandbox.cloud.provider import CloudProvider
from devstack.sandbox.cloud.settings import (
    DigitalOceanSandboxSettings,
    LinodeSandboxSettings,
    VultrSandboxSettings,
)

FAST = {"boot_delay": 0.2, "action_delay": 0.1}
TOKEN = {"Authorization": "Bearer sandbox-token"}


def provider_of(app: FastAPI) -> CloudProvider:
    return app.state.provider


def assert_responses_valid(app: FastAPI) -> None:
    bad = [e.as_dict() for e in provider_of(app).log.entries() if e.response_issues]
    assert not bad, f"responses that break the spec: {bad}"


def _checked(app: FastAPI) -> Iterator[FastAPI]:
    yield app
    assert_responses_valid(app)


@pytest.fixture
def do_app() -> Iterator[FastAPI]:
    yield from _checked(digitalocean.create_app(DigitalOceanSandboxSettings(**FAST)))


@pytest.fixture
def vultr_app() -> Iterator[FastAPI]:
    yield from _checked(vultr.create_app(VultrSandboxSettings(**FAST)))


@pytest.fixture
def linode_app() -> Iterator[FastAPI]:
    yield from _checked(linode.create_app(LinodeSandboxSettings(**FAST)))


def client(app: FastAPI, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://127.0.0.1:3990",
        headers=TOKEN if headers is None else headers,
    )


@pytest.fixture
async def do(do_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client(do_app) as c:
        yield c


@pytest.fixture
async def vu(vultr_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client(vultr_app) as c:
        yield c


@pytest.fixture
async def li(linode_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client(linode_app) as c:
        yield c


async def wait_for(
    fetch: Callable[[], Awaitable[Any]],
    done: Callable[[Any], bool],
    timeout: float = 10.0,
) -> Any:
    """Poll `fetch` until `done(result)`, as a provider adapter polls; the last result."""
    deadline = time.monotonic() + timeout
    while True:
        result = await fetch()
        if done(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting; last result: {result}")
        await asyncio.sleep(0.02)


@pytest.fixture
def wait() -> Callable[..., Awaitable[Any]]:
    return wait_for


@pytest.fixture
def make_client() -> Callable[..., httpx.AsyncClient]:
    return client
