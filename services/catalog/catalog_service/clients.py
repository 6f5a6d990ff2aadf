"""Typed clients of other services, over the lifespan's internal HTTP client (API key,
request id, retries of idempotent calls)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypeVar

import httpx
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError

from catalog_service.errors import ProviderNotSupported, ProviderUnavailable


class _Item(BaseModel):
    # The provider service names each thing by `id`; `slug` is accepted as well.
    model_config = ConfigDict(extra="ignore")
    code: str = Field(validation_alias=AliasChoices("id", "slug"), coerce_numbers_to_str=True)


class ProviderRegion(_Item):
    name: str = ""
    country: str | None = None
    available: bool = True


class ProviderSize(_Item):
    vcpus: int
    memory_mb: int
    disk_gb: int
    transfer_gb: int | None = None
    price_monthly_usd: Decimal | None = None
    # Empty means every region.
    regions: list[str] = []
    available: bool = True


class ProviderImage(_Item):
    name: str = ""
    distribution: str | None = None
    version: str | None = None
    available: bool = True


T = TypeVar("T", bound=_Item)


class ProviderClient:
    """`GET /internal/providers/{provider}/regions|sizes|images` of the provider service:
    its normalised view of each cloud (`{"items": [...]}`; a bare list is accepted too)."""

    def __init__(self, http: httpx.AsyncClient, base_url: str) -> None:
        self._http = http
        self._base = base_url.rstrip("/")

    async def regions(self, provider: str) -> list[ProviderRegion]:
        return await self._list(provider, "regions", ProviderRegion)

    async def sizes(self, provider: str) -> list[ProviderSize]:
        return await self._list(provider, "sizes", ProviderSize)

    async def images(self, provider: str) -> list[ProviderImage]:
        return await self._list(provider, "images", ProviderImage)

    async def _list(self, provider: str, kind: str, model: type[T]) -> list[T]:
        url = f"{self._base}/internal/providers/{provider}/{kind}"
        try:
            response = await self._http.get(url)
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(
                f"The provider service did not answer ({type(exc).__name__})"
            ) from exc
        if response.status_code in (400, 404, 422):
            raise ProviderNotSupported(
                f"The provider service cannot list {kind} of '{provider}': {_detail(response)}"
            )
        if response.status_code != 200:
            raise ProviderUnavailable(
                f"The provider service answered {response.status_code} for {kind} of "
                f"'{provider}': {_detail(response)}"
            )
        try:
            body = response.json()
            items = body["items"] if isinstance(body, dict) else body
            return [model.model_validate(item) for item in items]
        except (ValueError, KeyError, TypeError, ValidationError) as exc:
            raise ProviderUnavailable(
                f"The provider service sent {kind} of '{provider}' in an unexpected shape"
            ) from exc


def _detail(response: httpx.Response) -> str:
    try:
        body: Any = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(body, dict):
        return str(body.get("detail") or body.get("code") or body)[:200]
    return str(body)[:200]
