"""Regions, sizes and images of a provider, cached in Redis for PROVIDER_METADATA_TTL_SECONDS.

The cache is an optimisation only: with Redis down the provider is asked every time."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel
from redis.asyncio import Redis
from redis.exceptions import RedisError

from provider_service.clouds.base import CloudProvider, Image, ProviderName, Region, Size
from webrana_common.db.base import utcnow

log = logging.getLogger("provider.metadata")


class MetadataKind(StrEnum):
    REGIONS = "regions"
    SIZES = "sizes"
    IMAGES = "images"


class MetadataList(BaseModel):
    provider: ProviderName
    kind: MetadataKind
    fetched_at: datetime
    cached: bool
    items: list[Region] | list[Size] | list[Image]


ITEM_MODELS: dict[MetadataKind, type[Region] | type[Size] | type[Image]] = {
    MetadataKind.REGIONS: Region,
    MetadataKind.SIZES: Size,
    MetadataKind.IMAGES: Image,
}


def cache_key(provider: ProviderName, kind: MetadataKind) -> str:
    return f"provider:metadata:{provider}:{kind}"


async def list_metadata(
    redis: Redis | None,
    adapter: CloudProvider,
    kind: MetadataKind,
    *,
    ttl_seconds: int,
    refresh: bool,
) -> MetadataList:
    key = cache_key(adapter.name, kind)
    model = ITEM_MODELS[kind]
    if not refresh and redis is not None:
        raw = await _read(redis, key)
        if raw is not None:
            stored = json.loads(raw)
            return MetadataList(
                provider=adapter.name,
                kind=kind,
                fetched_at=stored["fetched_at"],
                cached=True,
                items=[model.model_validate(item) for item in stored["items"]],
            )
    fetch = {
        MetadataKind.REGIONS: adapter.list_regions,
        MetadataKind.SIZES: adapter.list_sizes,
        MetadataKind.IMAGES: adapter.list_images,
    }[kind]
    fresh = MetadataList(
        provider=adapter.name, kind=kind, fetched_at=utcnow(), cached=False, items=await fetch()
    )
    if redis is not None:
        try:
            stored = fresh.model_dump(mode="json", include={"fetched_at", "items"})
            await redis.set(key, json.dumps(stored), ex=ttl_seconds)
        except RedisError as exc:
            log.warning("metadata cache unavailable", extra={"key": key, "error": str(exc)})
    return fresh


async def _read(redis: Redis, key: str) -> str | None:
    try:
        return await redis.get(key)
    except RedisError as exc:
        log.warning("metadata cache unavailable", extra={"key": key, "error": str(exc)})
        return None
