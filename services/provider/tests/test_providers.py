"""`GET /internal/providers` (capabilities) and the Redis cache of regions, sizes and images."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import httpx
from provider_helpers import Sandbox, assert_problem
from redis.asyncio import Redis

from provider_service.config import ProviderSettings

ClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


async def test_each_provider_says_what_it_can_do(
    client: httpx.AsyncClient, clouds: dict[str, Sandbox]
) -> None:
    response = await client.get("/internal/providers")
    assert response.status_code == 200, response.text
    providers = {p["name"]: p for p in response.json()["providers"]}
    assert list(providers) == ["digitalocean", "vultr", "linode"]
    assert all(p["available"] for p in providers.values())

    do, vultr, linode = providers["digitalocean"], providers["vultr"], providers["linode"]
    assert do["capabilities"]["actions"] == [
        "reboot", "power_on", "power_off", "shutdown", "rebuild"
    ]  # fmt: skip
    assert (do["capabilities"]["reset_password"], do["capabilities"]["console"]) == (False, False)
    assert any("mails the new password" in note for note in do["capabilities"]["notes"])
    assert vultr["capabilities"]["actions"] == ["reboot", "power_on", "power_off", "rebuild"]
    assert vultr["capabilities"]["rebuild"] == "same_image"
    assert vultr["capabilities"]["console"] is True
    assert vultr["capabilities"]["action_tracking"] == "instance_status"
    assert linode["capabilities"]["reset_password"] is True
    assert linode["capabilities"]["reset_password_powers_off"] is True
    assert linode["capabilities"]["action_tracking"] == "event"


async def test_disabled_and_unconfigured_providers_are_listed_as_unavailable(
    make_client: ClientFactory, clouds: dict[str, Sandbox]
) -> None:
    async with make_client(digitalocean_enabled=False, linode_api_token=None) as client:
        providers = {
            p["name"]: p for p in (await client.get("/internal/providers")).json()["providers"]
        }
    assert (providers["digitalocean"]["enabled"], providers["digitalocean"]["available"]) == (
        False,
        False,
    )
    assert (providers["linode"]["configured"], providers["linode"]["available"]) == (False, False)
    assert providers["vultr"]["available"] is True


async def test_metadata_is_cached_in_redis_until_refreshed(
    client: httpx.AsyncClient, do: Sandbox, redis_url: str, settings: ProviderSettings
) -> None:
    first = (await client.get("/internal/providers/digitalocean/regions")).json()
    second = (await client.get("/internal/providers/digitalocean/regions")).json()
    assert (first["cached"], second["cached"]) == (False, True)
    assert second["items"] == first["items"] and second["fetched_at"] == first["fetched_at"]
    assert len(await do.requests(operation="regions_list")) == 1

    redis = Redis.from_url(redis_url)
    try:
        ttl = await redis.ttl("provider:metadata:digitalocean:regions")
    finally:
        await redis.aclose()
    assert 0 < ttl <= settings.provider_metadata_ttl_seconds

    refreshed = (await client.get("/internal/providers/digitalocean/regions?refresh=true")).json()
    assert refreshed["cached"] is False
    assert len(await do.requests(operation="regions_list")) == 2
    # Each kind and provider has its own entry.
    sizes = (await client.get("/internal/providers/digitalocean/sizes")).json()
    assert sizes["cached"] is False and sizes["kind"] == "sizes"


async def test_an_unknown_kind_is_a_validation_error(
    client: httpx.AsyncClient, clouds: dict[str, Sandbox]
) -> None:
    response = await client.get("/internal/providers/digitalocean/kernels")
    assert_problem(response, 422, "validation_error")


async def test_without_redis_metadata_comes_straight_from_the_provider(
    make_client: ClientFactory, do: Sandbox
) -> None:
    async with make_client(redis_url="redis://127.0.0.1:1/0") as client:
        for _ in range(2):
            response = await client.get("/internal/providers/digitalocean/images")
            assert response.status_code == 200, response.text
            assert response.json()["cached"] is False
    assert len(await do.requests(operation="images_list")) == 2
