"""What the rules need besides the session: settings, Tripay, the channel list, auth. Built
once by the app's lifespan and by the worker's startup."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from redis.asyncio import Redis

from billing_service.clients import AuthClient
from billing_service.config import BillingSettings
from billing_service.tripay.channels import ChannelCatalog
from billing_service.tripay.client import TripayClient


@dataclass(frozen=True)
class BillingContext:
    settings: BillingSettings
    tripay: TripayClient
    channels: ChannelCatalog
    auth: AuthClient

    @classmethod
    def build(
        cls,
        settings: BillingSettings,
        http: httpx.AsyncClient,
        redis: Redis | None,
        tripay_transport: httpx.AsyncBaseTransport | None = None,
    ) -> BillingContext:
        tripay = TripayClient(
            base_url=settings.tripay_api_url,
            merchant_code=settings.tripay_merchant_code,
            api_key=settings.tripay_api_key,
            private_key=settings.tripay_private_key,
            timeout=settings.tripay_timeout_seconds,
            transport=tripay_transport,
        )
        return cls(
            settings=settings,
            tripay=tripay,
            channels=ChannelCatalog(tripay, cache_seconds=settings.tripay_channels_cache_seconds),
            auth=AuthClient(
                http, settings.auth_url, redis, cache_seconds=settings.user_cache_seconds
            ),
        )

    async def aclose(self) -> None:
        await self.tripay.aclose()
