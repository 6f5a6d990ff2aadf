"""The merchant's payment channels with their fees: fetched from Tripay, kept in memory for
TRIPAY_CHANNELS_CACHE_SECONDS, then fetched again. While Tripay cannot be reached the last
list keeps serving; with no list at all the caller gets TripayUnavailable."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from billing_service.tripay.client import TripayClient
from billing_service.tripay.errors import TripayError, TripayUnavailable
from billing_service.tripay.schemas import PaymentChannel

log = logging.getLogger("billing.channels")


class ChannelCatalog:
    def __init__(
        self,
        client: TripayClient,
        *,
        cache_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.cache_seconds = cache_seconds
        self._clock = clock
        self._channels: dict[str, PaymentChannel] | None = None
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    def _fresh(self) -> bool:
        return self._channels is not None and (
            self._clock() - self._fetched_at < self.cache_seconds
        )

    async def all(self) -> dict[str, PaymentChannel]:
        if self._fresh():
            assert self._channels is not None
            return self._channels
        async with self._lock:
            if not self._fresh():
                await self._refresh()
        assert self._channels is not None
        return self._channels

    async def _refresh(self) -> None:
        try:
            channels = await self.client.payment_channels()
        except (TripayUnavailable, TripayError):
            if self._channels is None:
                raise
            log.warning("payment channels not refreshed; serving the cached list", exc_info=True)
            # Try again after a short pause rather than on every request.
            self._fetched_at = self._clock() - self.cache_seconds + min(30, self.cache_seconds)
            return
        self._channels = {c.code: c for c in channels}
        self._fetched_at = self._clock()

    async def active(self) -> list[PaymentChannel]:
        return [c for c in (await self.all()).values() if c.active]

    async def get(self, code: str) -> PaymentChannel | None:
        channel = (await self.all()).get(code.upper())
        return channel if channel is not None and channel.active else None

    def invalidate(self) -> None:
        self._fetched_at = float("-inf")
