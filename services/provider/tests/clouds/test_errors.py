"""Every error class of every provider, through the shared retrying helper (clouds/http.py):
refused credentials, unknown servers, refusals with the provider's own message, rate limits
(with the provider's wait honoured), server errors retried, timeouts and refused connections
turned into `provider_unavailable` within the deadline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager

import httpx
from provider_helpers import CLOUD_TOKENS, Sandbox, assert_problem, provision_body

PROVIDERS = ["digitalocean", "vultr", "linode"]
SOME_ID = {
    "digitalocean": "12345",
    "vultr": "cb676a46-66fd-4dfb-b839-443f2e6c0b61",
    "linode": "12345",
}
GET_OP = {
    "digitalocean": "droplets_get",
    "vultr": "get-instance",
    "linode": "get-linode-instance",
}
REGIONS_OP = {"digitalocean": "regions_list", "vultr": "list-regions", "linode": "get-regions"}
REBOOT_OP = {
    "digitalocean": "dropletActions_post",
    "vultr": "reboot-instance",
    "linode": "post-reboot-linode-instance",
}
REFUSED_CREDENTIALS = {
    "digitalocean": "Unable to authenticate you.",
    "vultr": "Invalid API token.",
    "linode": "Invalid Token",
}
BAD_SIZE = {
    "digitalocean": "You specified an invalid size for Droplet creation.",
    "vultr": "Invalid plan chosen.",
    "linode": "type: A valid type by that ID was not found",
}

ClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


def _regions(provider: str) -> str:
    return f"/internal/providers/{provider}/regions?refresh=true"


async def _each(calls: Iterable[Awaitable[httpx.Response]]) -> dict[str, httpx.Response]:
    """One call per provider, all at once (each provider's stand-in serves its own)."""
    return dict(zip(PROVIDERS, await asyncio.gather(*calls), strict=True))


async def test_refused_credentials_are_provider_auth_failed(
    clouds: dict[str, Sandbox], make_client: ClientFactory
) -> None:
    revoked = {
        "digitalocean_token": "revoked-token",
        "vultr_api_key": "revoked-token",
        "linode_api_token": "revoked-token",
    }
    async with make_client(**revoked) as client:
        answers = await _each(
            client.get(f"/internal/instances/{p}/{SOME_ID[p]}") for p in PROVIDERS
        )
    for provider, response in answers.items():
        body = assert_problem(response, 502, "provider_auth_failed")
        assert body["provider_status"] == 401
        assert body["provider_message"] == REFUSED_CREDENTIALS[provider]
        assert "revoked-token" not in response.text
        assert (await clouds[provider].requests())[0]["auth"] == "invalid"


async def test_an_unknown_server_is_instance_not_found(
    clouds: dict[str, Sandbox], client: httpx.AsyncClient
) -> None:
    answers = await _each(client.get(f"/internal/instances/{p}/{SOME_ID[p]}") for p in PROVIDERS)
    for provider, response in answers.items():
        body = assert_problem(response, 404, "instance_not_found")
        assert body["provider"] == provider and body["provider_status"] == 404


async def test_a_refusal_carries_the_providers_own_message(
    clouds: dict[str, Sandbox], client: httpx.AsyncClient
) -> None:
    answers = await _each(
        client.post(
            "/internal/provision", json=provision_body(p, f"order-bad-{p}", size="no-such-size")
        )
        for p in PROVIDERS
    )
    for provider, response in answers.items():
        problem = assert_problem(response, 422, "provider_rejected")
        assert problem["provider_message"] == BAD_SIZE[provider]
        assert BAD_SIZE[provider] in problem["detail"]
    assert answers["linode"].json()["provider_errors"] == [
        {"field": "type", "reason": "A valid type by that ID was not found"}
    ]


async def test_each_providers_rate_limit_wait_is_honoured(
    clouds: dict[str, Sandbox], client: httpx.AsyncClient
) -> None:
    for provider in PROVIDERS:  # all three at once: each waits its own Retry-After
        await clouds[provider].fault("rate_limit", retry_after=1, operation=REGIONS_OP[provider])
    started = time.monotonic()
    responses = await asyncio.gather(*(client.get(_regions(p)) for p in PROVIDERS))
    assert [r.status_code for r in responses] == [200] * 3, [r.text for r in responses]
    assert time.monotonic() - started >= 0.95
    for provider in PROVIDERS:
        assert [r["status"] for r in await clouds[provider].requests()] == [429, 200]


async def test_a_rate_limit_longer_than_the_deadline_is_answered_with_its_wait(
    clouds: dict[str, Sandbox], client: httpx.AsyncClient
) -> None:
    for provider in PROVIDERS:
        await clouds[provider].fault("rate_limit", retry_after=30, operation=REGIONS_OP[provider])
    started = time.monotonic()
    answers = await _each(client.get(_regions(p)) for p in PROVIDERS)
    assert time.monotonic() - started < 1.0
    for provider, response in answers.items():
        assert_problem(response, 429, "provider_rate_limited")
        assert response.headers["retry-after"] == "30"
        assert len(await clouds[provider].requests()) == 1


async def test_server_errors_are_retried_until_success(
    clouds: dict[str, Sandbox], client: httpx.AsyncClient
) -> None:
    for provider in PROVIDERS:
        await clouds[provider].fault("error", status=500, count=2, operation=REGIONS_OP[provider])
    answers = await _each(client.get(_regions(p)) for p in PROVIDERS)
    for provider, response in answers.items():
        assert response.status_code == 200, response.text
        assert [r["status"] for r in await clouds[provider].requests()] == [500, 500, 200]


async def test_timeouts_become_unavailable_when_the_deadline_passes(
    clouds: dict[str, Sandbox], client: httpx.AsyncClient
) -> None:
    for provider in PROVIDERS:
        await clouds[provider].fault("timeout", seconds=5, count=50, operation=REGIONS_OP[provider])
    started = time.monotonic()
    responses = await asyncio.gather(*(client.get(_regions(p)) for p in PROVIDERS))
    elapsed = time.monotonic() - started
    for provider, response in zip(PROVIDERS, responses, strict=True):
        problem = assert_problem(response, 503, "provider_unavailable")
        assert problem["provider"] == provider
        assert "within 1.5 s" in problem["detail"]
        assert len(await clouds[provider].requests()) >= 2
    assert 1.3 <= elapsed < 3.0, elapsed


async def test_a_failed_action_is_never_repeated_blindly(
    clouds: dict[str, Sandbox], client: httpx.AsyncClient
) -> None:
    for provider in PROVIDERS:
        await clouds[provider].fault("error", status=503, count=5, operation=REBOOT_OP[provider])
    answers = await _each(
        client.post(f"/internal/instances/{p}/{SOME_ID[p]}/actions", json={"type": "reboot"})
        for p in PROVIDERS
    )
    for provider, response in answers.items():
        problem = assert_problem(response, 503, "provider_unavailable")
        assert "may have been carried out" in problem["detail"]
        assert len(await clouds[provider].requests(operation=REBOOT_OP[provider])) == 1


async def test_a_refused_connection_is_unavailable(
    make_client: ClientFactory, clouds: dict[str, Sandbox]
) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with make_client(
        digitalocean_api_url=f"http://127.0.0.1:{port}/v2", provider_deadline_seconds=0.3
    ) as client:
        started = time.monotonic()
        response = await client.get("/internal/instances/digitalocean/12345")
    assert_problem(response, 503, "provider_unavailable")
    assert time.monotonic() - started < 1.0
    assert CLOUD_TOKENS["digitalocean"] not in response.text
