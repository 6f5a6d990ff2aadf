"""Idempotent provisioning: one key, one server, whatever the duplicates, races and failures."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import timedelta

import httpx
import pytest
from provider_helpers import Sandbox, assert_problem, provision_body
from sqlalchemy import func, select

from provider_service.provisioning.models import ProvisionRequest
from webrana_common.db.base import utcnow
from webrana_common.db.session import Database

CREATE_OP = {
    "digitalocean": "droplets_create",
    "vultr": "create-instance",
    "linode": "post-linode-instance",
}
LIST_OP = {
    "digitalocean": "droplets_list",
    "vultr": "list-instances",
    "linode": "get-linode-instances",
}
ClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


async def _claimed_row(db: Database, key: str, *, lease_in: float, state: str = "creating") -> None:
    """A row as a claimer left it (crashed, or still busy), for the same request body."""
    from provider_service.provisioning.schemas import ProvisionRequestBody, lookup_tag

    body = ProvisionRequestBody.model_validate(provision_body("digitalocean", key))
    async with db.session() as session:
        session.add(
            ProvisionRequest(
                id=uuid.uuid4(),
                idempotency_key=key,
                provider="digitalocean",
                request_fingerprint=body.fingerprint(),
                lookup_tag=lookup_tag(key),
                region=body.region,
                size=body.size,
                image=body.image,
                hostname=body.hostname,
                state=state,
                attempts=1,
                lease_expires_at=utcnow() + timedelta(seconds=lease_in),
            )
        )


@pytest.mark.parametrize("provider", ["digitalocean", "vultr", "linode"])
async def test_ten_concurrent_duplicates_build_one_server(
    provider: str, clouds: dict[str, Sandbox], client: httpx.AsyncClient
) -> None:
    body = provision_body(provider, f"order-race-{provider}")
    responses = await asyncio.gather(
        *(client.post("/internal/provision", json=body) for _ in range(10))
    )
    assert [r.status_code for r in responses] == [202] * 10, [r.text for r in responses]
    answers = [r.json() for r in responses]
    assert len({a["provider_instance_id"] for a in answers}) == 1
    assert sum(not a["replayed"] for a in answers) == 1
    assert len([a for a in answers if a["root_password"]]) == 1
    assert len(await clouds[provider].servers()) == 1
    assert len(await clouds[provider].requests(operation=CREATE_OP[provider])) == 1


async def test_duplicates_share_the_fate_of_the_attempt_they_waited_on(
    do: Sandbox, make_client: ClientFactory
) -> None:
    # A slow refusal, so that every duplicate is surely waiting on the first attempt.
    await do.configure(creation_failure="reject", latency_ms=1000)
    body = provision_body("digitalocean", "order-refused")
    slow = {"provider_timeout_seconds": 3, "provider_deadline_seconds": 3}
    async with make_client(**slow, provision_lease_seconds=10) as client:
        first = asyncio.create_task(client.post("/internal/provision", json=body))
        while (await client.get("/internal/provision/order-refused")).status_code == 404:
            await asyncio.sleep(0.01)  # claimed: its create is on the way
        duplicates = await asyncio.gather(
            *(client.post("/internal/provision", json=body) for _ in range(4))
        )
        assert_problem(await first, 422, "provider_rejected")
    for response in duplicates:
        problem = assert_problem(response, 409, "concurrent_provision_failed")
        assert problem["last_error_code"] == "provider_rejected"
        assert "Insufficient capacity" in problem["detail"]
    assert len(await do.requests(operation="droplets_create")) == 1


async def test_the_same_key_later_answers_the_same_server_without_its_password(
    do: Sandbox, client: httpx.AsyncClient
) -> None:
    body = provision_body("digitalocean", "order-again")
    first = (await client.post("/internal/provision", json=body)).json()
    second = await client.post("/internal/provision", json=body)
    assert second.status_code == 202
    assert second.json()["provider_instance_id"] == first["provider_instance_id"]
    assert second.json()["replayed"] is True
    assert second.json()["root_password"] is None
    assert second.headers["cache-control"] == "no-store"
    assert len(await do.requests(operation="droplets_create")) == 1


async def test_a_key_reused_for_another_request_is_refused(
    do: Sandbox, client: httpx.AsyncClient
) -> None:
    await client.post("/internal/provision", json=provision_body("digitalocean", "order-x"))
    other = provision_body("digitalocean", "order-x", size="s-2vcpu-4gb")
    assert_problem(
        await client.post("/internal/provision", json=other), 409, "idempotency_key_reused"
    )
    assert len(await do.servers()) == 1


@pytest.mark.parametrize("provider", ["digitalocean", "vultr", "linode"])
async def test_a_create_that_timed_out_after_building_is_found_by_its_tag(
    provider: str, clouds: dict[str, Sandbox], client: httpx.AsyncClient
) -> None:
    cloud = clouds[provider]
    await cloud.fault("timeout", process=True, seconds=3, operation=CREATE_OP[provider])
    response = await client.post(
        "/internal/provision", json=provision_body(provider, f"order-lost-{provider}")
    )
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["recovered_by_tag"] is True
    servers = await cloud.servers()
    assert [str(s["id"]) for s in servers] == [answer["provider_instance_id"]]
    # The password we sent is still known; Vultr's own is not (it was in the lost answer).
    if provider == "vultr":
        assert answer["root_password"] is None
    else:
        assert answer["root_password"]
    if provider == "linode":
        assert answer["root_password"] == servers[0]["root_password"]
    assert len(await cloud.requests(operation=CREATE_OP[provider])) == 1


async def test_a_create_that_failed_is_repeated_only_after_the_tag_finds_nothing(
    do: Sandbox, client: httpx.AsyncClient
) -> None:
    await do.fault("error", status=500, operation="droplets_create")
    response = await client.post(
        "/internal/provision", json=provision_body("digitalocean", "order-500")
    )
    assert response.status_code == 202, response.text
    assert response.json()["recovered_by_tag"] is False
    operations = [r["operation"] for r in await do.requests()]
    assert operations == ["droplets_create", "droplets_list", "droplets_create"]
    assert (await do.requests(operation="droplets_list"))[0]["query"]["tag_name"] == [
        "wbr-order-order-500"
    ]
    assert len(await do.servers()) == 1


async def test_a_request_that_failed_midway_is_resolved_by_tag_on_retry(
    do: Sandbox, make_client: ClientFactory
) -> None:
    await do.fault("timeout", process=True, seconds=3, operation="droplets_create")
    await do.fault("error", status=500, count=100, operation="droplets_list")
    body = provision_body("digitalocean", "order-midway")
    async with make_client(provider_timeout_seconds=0.3, provider_deadline_seconds=0.5) as client:
        failed = await client.post("/internal/provision", json=body)
        assert_problem(failed, 503, "provider_unavailable")
        view = (await client.get("/internal/provision/order-midway")).json()
        assert view["state"] == "failed" and view["last_error_code"] == "provider_unavailable"

        await do.clear_faults()
        retried = await client.post("/internal/provision", json=body)
        assert retried.status_code == 202, retried.text
        answer = retried.json()
        assert answer["recovered_by_tag"] is True and answer["root_password"] is None
        assert [str(s["id"]) for s in await do.servers()] == [answer["provider_instance_id"]]
        assert len(await do.requests(operation="droplets_create")) == 1
        assert (await client.get("/internal/provision/order-midway")).json()["attempts"] == 2


async def test_a_claim_whose_claimer_vanished_is_taken_over(
    do: Sandbox, client: httpx.AsyncClient, db: Database
) -> None:
    await _claimed_row(db, "order-orphan", lease_in=-1)
    response = await client.post(
        "/internal/provision", json=provision_body("digitalocean", "order-orphan")
    )
    assert response.status_code == 202, response.text
    assert response.json()["recovered_by_tag"] is False
    assert [r["operation"] for r in await do.requests()] == ["droplets_list", "droplets_create"]
    view = (await client.get("/internal/provision/order-orphan")).json()
    assert view["state"] == "created" and view["attempts"] == 2


async def test_a_duplicate_of_a_live_claim_waits_then_answers_in_progress(
    do: Sandbox, db: Database, make_client: ClientFactory
) -> None:
    await _claimed_row(db, "order-busy", lease_in=60)
    async with make_client(provision_wait_seconds=0.2) as client:
        response = await client.post(
            "/internal/provision", json=provision_body("digitalocean", "order-busy")
        )
    assert_problem(response, 409, "provision_in_progress")
    assert response.headers["retry-after"] == "2"
    assert await do.requests() == []


async def test_a_rejected_create_can_be_retried_with_the_same_key(
    do: Sandbox, client: httpx.AsyncClient
) -> None:
    await do.configure(creation_failure="reject")
    body = provision_body("digitalocean", "order-capacity")
    problem = assert_problem(
        await client.post("/internal/provision", json=body), 422, "provider_rejected"
    )
    assert problem["provider_message"] == "Insufficient capacity in this region"
    view = (await client.get("/internal/provision/order-capacity")).json()
    assert (view["state"], view["last_error_code"]) == ("failed", "provider_rejected")

    await do.configure(creation_failure=None)
    retried = await client.post("/internal/provision", json=body)
    assert retried.status_code == 202, retried.text
    assert len(await do.servers()) == 1


async def test_an_unknown_key_has_no_provision(client: httpx.AsyncClient, do: Sandbox) -> None:
    assert_problem(await client.get("/internal/provision/nothing"), 404, "provision_not_found")


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"vultr_enabled": False}, "provider_disabled"),
        ({"vultr_api_key": None}, "provider_not_configured"),
    ],
)
async def test_a_disabled_or_unconfigured_provider_answers_a_problem(
    overrides: dict[str, object],
    code: str,
    vultr: Sandbox,
    make_client: ClientFactory,
    db: Database,
) -> None:
    async with make_client(**overrides) as client:
        provision = await client.post("/internal/provision", json=provision_body("vultr", "o-1"))
        instance = await client.get(f"/internal/instances/vultr/{uuid.uuid4()}")
        listing = await client.get("/internal/providers/vultr/regions")
    for response in (provision, instance, listing):
        problem = assert_problem(response, 503, code)
        assert problem["provider"] == "vultr"
    assert await vultr.requests() == []
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(ProvisionRequest)) == 0


async def test_an_unknown_provider(client: httpx.AsyncClient, clouds: dict[str, Sandbox]) -> None:
    assert_problem(await client.get("/internal/instances/aws/i-123"), 404, "provider_unknown")
    body = provision_body("digitalocean", "order-aws") | {"provider": "aws"}
    assert_problem(await client.post("/internal/provision", json=body), 422, "validation_error")


async def test_internal_routes_need_an_api_key(
    client: httpx.AsyncClient, clouds: dict[str, Sandbox]
) -> None:
    for method, path in [
        ("POST", "/internal/provision"),
        ("GET", "/internal/providers"),
        ("GET", "/internal/instances/digitalocean/1"),
    ]:
        response = await client.request(method, path, headers={"X-API-Key": "wrong"})
        assert_problem(response, 401, "api_key_invalid")
