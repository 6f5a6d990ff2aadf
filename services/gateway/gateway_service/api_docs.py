"""`/openapi.json`: the merged document, refreshed every OPENAPI_REFRESH_SECONDS. A service
that does not answer keeps its last known part, marked stale; one never reached is marked
missing. `/docs` (FastAPI's Swagger UI) reads this document."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from gateway_service.openapi_merge import GATEWAY, ServicePart, merge_documents

log = logging.getLogger("webrana.gateway.docs")

DESCRIPTION = (
    "The public API of WeBrana Cloud, merged from every service's own document by the gateway. "
    "Operations marked with a lock need `Authorization: Bearer <access token>` (from "
    "`POST /api/v1/auth/login`). Errors are RFC 9457 `application/problem+json` with a stable "
    "`code`. Rate limits are announced in `RateLimit-*` headers; a 429 carries `Retry-After`."
)


MISSING_RETRY_SECONDS = 1.0
# The longest wait between tries for a part never fetched: services that became ready a
# moment after a try are in /docs within seconds, not after a doubled wait of 16 s or more.
MISSING_RETRY_MAX_SECONDS = 4.0
ON_DEMAND_SECONDS = 1.0


class ApiDocuments:
    def __init__(
        self,
        upstreams: dict[str, str],
        *,
        gateway_document: Callable[[], dict[str, Any]],
        refresh_seconds: float,
        fetch_timeout: float,
        version: str,
    ) -> None:
        self.upstreams = upstreams
        self.gateway_document = gateway_document
        self.refresh_seconds = refresh_seconds
        self.fetch_timeout = fetch_timeout
        self.version = version
        self.parts = {service: ServicePart(service) for service in upstreams}
        self._merged: dict[str, Any] | None = None
        self._first_refresh = asyncio.Event()
        self._client: httpx.AsyncClient | None = None  # run()'s, for asking on demand
        self._asked_at = float("-inf")

    def current(self) -> dict[str, Any]:
        if self._merged is None:
            self._merged = self._merge()
        return self._merged

    async def wait_first_refresh(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._first_refresh.wait(), self.fetch_timeout + 1)

    async def refresh(self, client: httpx.AsyncClient) -> None:
        await asyncio.gather(*(self._fetch(client, s, url) for s, url in self.upstreams.items()))
        self._merged = self._merge()
        self._first_refresh.set()

    async def refresh_missing(self) -> None:
        """A request for the document while a part was never fetched asks for it at once (at
        most once a second): the first /docs after `make run` has every service that is up,
        not only those the retry timer happened to reach."""
        if self._client is None or not any(p.status == "missing" for p in self.parts.values()):
            return
        now = time.monotonic()
        if now - self._asked_at < ON_DEMAND_SECONDS:
            return
        self._asked_at = now
        await self.refresh(self._client)

    async def run(self, client: httpx.AsyncClient) -> None:
        # A part never fetched (the fleet is still starting, or a service is not deployed)
        # is asked for again after 1, 2, then every 4 seconds: `make run`
        # starts the gateway alongside the services, and /docs must not stay empty a minute.
        self._client = client
        retry = MISSING_RETRY_SECONDS
        while True:
            try:
                await self.refresh(client)
            except Exception:
                log.exception("merging the API documents failed")
            if any(part.status == "missing" for part in self.parts.values()):
                await asyncio.sleep(min(retry, self.refresh_seconds))
                retry = min(retry * 2, MISSING_RETRY_MAX_SECONDS)
            else:
                retry = MISSING_RETRY_SECONDS
                await asyncio.sleep(self.refresh_seconds)

    async def _fetch(self, client: httpx.AsyncClient, service: str, base_url: str) -> None:
        part = self.parts[service]
        try:
            if not base_url:
                raise ValueError("no URL configured")
            response = await client.get(
                f"{base_url.rstrip('/')}/openapi.json", timeout=self.fetch_timeout
            )
            response.raise_for_status()
            document = response.json()
            if not isinstance(document, dict) or "paths" not in document:
                raise ValueError("not an OpenAPI document")
        except (httpx.HTTPError, ValueError) as exc:
            part.error = f"{type(exc).__name__}: {exc}"[:200]
            part.status = "stale" if part.document is not None else "missing"
            return
        part.document = document
        part.status = "ok"
        part.error = None
        part.fetched_at = datetime.now(UTC).isoformat(timespec="seconds")

    def _merge(self) -> dict[str, Any]:
        own = ServicePart(GATEWAY, self.gateway_document(), "ok")
        return merge_documents(
            [own, *self.parts.values()],
            title="WeBrana Cloud API",
            version=self.version,
            description=DESCRIPTION,
        )


def docs_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/openapi.json")
    async def openapi(request: Request) -> JSONResponse:
        documents: ApiDocuments = request.app.state.api_documents
        await documents.wait_first_refresh()
        await documents.refresh_missing()
        return JSONResponse(documents.current(), headers={"Cache-Control": "no-cache"})

    return router
