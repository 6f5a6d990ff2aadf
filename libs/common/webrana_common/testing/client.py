"""An HTTP client for an app with its lifespan running, as in production."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI


@asynccontextmanager
async def running_app(
    app: FastAPI, base_url: str = "http://testserver", *, raise_app_exceptions: bool = True
) -> AsyncIterator[httpx.AsyncClient]:
    """`raise_app_exceptions=False` to see the 500 a client gets for a bug, as under uvicorn,
    instead of the exception the app re-raises after answering."""
    async with LifespanManager(app, startup_timeout=30, shutdown_timeout=30) as manager:
        transport = httpx.ASGITransport(app=manager.app, raise_app_exceptions=raise_app_exceptions)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client
