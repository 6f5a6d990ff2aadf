"""The internal HTTP client: base URL, API key, request id, timeouts, careful retries."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import httpx

from webrana_common.aiohttp_transport import AiohttpTransport
from webrana_common.request_id import HEADER as REQUEST_ID_HEADER
from webrana_common.request_id import get_request_id

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRYABLE_STATUS = frozenset({502, 503, 504})


class RetryingTransport(httpx.AsyncBaseTransport):
    """Retries connection failures and connect timeouts for any method (nothing reached the
    server) and, for idempotent methods or requests carrying an Idempotency-Key, 502/503/504 and
    read/write timeouts."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport | None = None,
        *,
        attempts: int = 3,
        backoff_seconds: float = 0.1,
    ) -> None:
        self.inner = inner or AiohttpTransport()
        self.attempts = max(1, attempts)
        self.backoff = backoff_seconds

    def _safe_to_repeat(self, request: httpx.Request) -> bool:
        return request.method in IDEMPOTENT_METHODS or "idempotency-key" in request.headers

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        for attempt in range(1, self.attempts + 1):
            last = attempt == self.attempts
            try:
                response = await self.inner.handle_async_request(request)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout):
                # No connection, so nothing reached the server: safe to repeat whatever the method.
                if last:
                    raise
            except httpx.TimeoutException:
                if last or not self._safe_to_repeat(request):
                    raise
            else:
                if last or response.status_code not in RETRYABLE_STATUS:
                    return response
                if not self._safe_to_repeat(request):
                    return response
                await response.aclose()
            delay = self.backoff * (2 ** (attempt - 1))
            await asyncio.sleep(delay + random.uniform(0, delay / 2))
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        await self.inner.aclose()


async def _add_request_id(request: httpx.Request) -> None:
    request_id = get_request_id()
    if request_id and REQUEST_ID_HEADER.lower() not in request.headers:
        request.headers[REQUEST_ID_HEADER] = request_id


def internal_client(
    base_url: str = "",
    *,
    api_key: str | None = None,
    timeout: float = 10.0,
    attempts: int = 3,
    transport: httpx.AsyncBaseTransport | None = None,
    **kwargs: Any,
) -> httpx.AsyncClient:
    headers = {"User-Agent": "webrana-internal/1"}
    if api_key:
        headers["X-API-Key"] = api_key
    return httpx.AsyncClient(
        base_url=base_url,
        headers=headers,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
        transport=RetryingTransport(transport, attempts=attempts),
        event_hooks={"request": [_add_request_id]},
        **kwargs,
    )
