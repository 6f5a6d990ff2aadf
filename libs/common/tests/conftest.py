"""Shared fixtures for the library's own tests: real HTTP servers on free ports, clean logging."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from starlette.types import ASGIApp

from webrana_common.service import create_service_app
from webrana_common.settings import ServiceSettings

Serve = Callable[..., Awaitable[str]]


@pytest.fixture(autouse=True)
def _restore_root_logger() -> Iterator[None]:
    """`create_service_app`'s lifespan configures the root logger; undo it after each test so a
    handler bound to a closed capture stream does not leak into the next one."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Start an ASGI app under a real uvicorn server in this event loop; returns its base URL.

    `await serve(app)` picks a free port; `await serve(app, port=p)` binds a chosen one (for a
    server that "appears" on a port a client is already retrying).
    """
    running: list[tuple[uvicorn.Server, asyncio.Task[None]]] = []

    async def start(app: ASGIApp, *, port: int = 0) -> str:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        config = uvicorn.Config(
            app,
            lifespan="off",
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve(sockets=[sock]))
        running.append((server, task))
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.005)
        return f"http://127.0.0.1:{sock.getsockname()[1]}"

    yield start
    for server, _ in running:
        server.should_exit = True
    await asyncio.gather(*(task for _, task in running))


@pytest.fixture
def closed_port() -> int:
    """A local port with nothing listening (connections are refused at once)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def make_app() -> Callable[..., FastAPI]:
    """A service app built the way every service builds one; keyword arguments are settings."""

    def build(**settings: Any) -> FastAPI:
        settings.setdefault("service_name", "testsvc")
        settings.setdefault("environment", "test")
        return create_service_app(
            ServiceSettings(**settings), title="test", description="library tests"
        )

    return build
