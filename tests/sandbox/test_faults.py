"""Fault controls under /_sandbox: queued errors, 429s and timeouts, latency, creation that
fails, boot delay, reset, and the request log, on each of the three stand-ins."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from devstack.sandbox import digitalocean, linode, vultr
from devstack.sandbox.cloud.settings import (
    DigitalOceanSandboxSettings,
    LinodeSandboxSettings,
    VultrSandboxSettings,
)
from webrana_common.testing.live_server import LiveServer

FAST = {"boot_delay": 0.2, "action_delay": 0.1}
TOKEN = {"Authorization": "Bearer sandbox-token"}


def _message(body: dict[str, Any]) -> str:
    if "errors" in body:
        return body["errors"][0]["reason"]
    return body.get("message") or body["error"]


PROVIDERS: dict[str, dict[str, Any]] = {
    "digitalocean": {
        "app": lambda: digitalocean.create_app(DigitalOceanSandboxSettings(**FAST)),
        "list": "/v2/droplets",
        "create": (
            "/v2/droplets",
            {"name": "web-1", "size": "s-1vcpu-1gb", "image": "ubuntu-24-04-x64"},
        ),
        "create_op": "droplets_create",
        "rejected": 422,
        "shape": lambda b: set(b) == {"id", "message", "request_id"},
        "limit_headers": ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"),
    },
    "vultr": {
        "app": lambda: vultr.create_app(VultrSandboxSettings(**FAST)),
        "list": "/v2/instances",
        "create": ("/v2/instances", {"region": "sgp", "plan": "vc2-1c-1gb", "os_id": 2284}),
        "create_op": "create-instance",
        "rejected": 400,
        "shape": lambda b: set(b) == {"error", "status"},
        "limit_headers": (),
    },
    "linode": {
        "app": lambda: linode.create_app(LinodeSandboxSettings(**FAST)),
        "list": "/v4/linode/instances",
        "create": (
            "/v4/linode/instances",
            {
                "type": "g6-nanode-1",
                "region": "ap-south",
                "image": "linode/debian12",
                "root_pass": "c0rrect-Horse-battery",
            },
        ),
        "create_op": "post-linode-instance",
        "rejected": 400,
        "shape": lambda b: set(b) == {"errors"} and "reason" in b["errors"][0],
        "limit_headers": ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"),
    },
}


@pytest.fixture(params=list(PROVIDERS))
def cloud(request: pytest.FixtureRequest) -> dict[str, Any]:
    return {"name": request.param, **PROVIDERS[request.param]}


@pytest.fixture
async def sandbox(cloud: dict[str, Any], make_client: Callable[..., httpx.AsyncClient]):
    app: FastAPI = cloud["app"]()
    async with make_client(app) as c:
        yield c


async def fault(client: httpx.AsyncClient, **spec: Any) -> dict[str, Any]:
    response = await client.post("/_sandbox/faults", json=spec)
    assert response.status_code == 201, response.text
    return response.json()


async def test_error_fault_fails_the_next_calls_in_the_provider_shape(sandbox, cloud):
    await fault(sandbox, kind="error", count=2, status=503)
    failed = [await sandbox.get(cloud["list"]) for _ in range(2)]
    assert [r.status_code for r in failed] == [503, 503]
    assert all(cloud["shape"](r.json()) for r in failed)
    assert (await sandbox.get(cloud["list"])).status_code == 200
    logged = (await sandbox.get("/_sandbox/requests")).json()["requests"]
    assert [r["fault"] for r in logged] == ["error", "error", None]
    assert (await sandbox.get("/_sandbox/faults")).json() == {"faults": []}


async def test_rate_limit_fault_answers_429_with_retry_after(sandbox, cloud):
    await fault(sandbox, kind="rate_limit", retry_after=7)
    limited = await sandbox.get(cloud["list"])
    assert limited.status_code == 429 and cloud["shape"](limited.json())
    assert limited.headers["Retry-After"] == "7"
    for header in cloud["limit_headers"]:
        assert header in limited.headers
    if cloud["limit_headers"]:
        assert limited.headers[cloud["limit_headers"][1]] == "0"


async def test_fault_narrowed_to_one_operation_leaves_the_rest_alone(sandbox, cloud):
    await fault(sandbox, kind="error", operation=cloud["create_op"])
    path, body = cloud["create"]
    assert (await sandbox.get(cloud["list"])).status_code == 200
    assert (await sandbox.post(path, json=body)).status_code == 500
    assert (await sandbox.post(path, json=body)).status_code in (200, 202)


async def test_latency_slows_every_api_response_but_not_control(sandbox, cloud):
    await sandbox.patch("/_sandbox/settings", json={"latency_ms": 150})
    started = time.perf_counter()
    await sandbox.get(cloud["list"])
    assert time.perf_counter() - started >= 0.15
    started = time.perf_counter()
    await sandbox.get("/_sandbox/settings")
    assert time.perf_counter() - started < 0.15


async def test_rejected_creation_answers_the_provider_error(sandbox, cloud):
    settings = {"creation_failure": "reject", "creation_failure_message": "No capacity"}
    assert (await sandbox.patch("/_sandbox/settings", json=settings)).status_code == 200
    path, body = cloud["create"]
    for _ in range(2):  # permanent until cleared
        response = await sandbox.post(path, json=body)
        assert response.status_code == cloud["rejected"]
        assert _message(response.json()) == "No capacity"
    assert (await sandbox.get("/_sandbox/servers")).json() == {"servers": []}
    await sandbox.patch("/_sandbox/settings", json={"creation_failure": None})
    assert (await sandbox.post(path, json=body)).status_code in (200, 202)


async def test_failed_creation_is_accepted_then_never_comes_up(sandbox, cloud, wait):
    await sandbox.patch("/_sandbox/settings", json={"creation_failure": "error"})
    path, body = cloud["create"]
    assert (await sandbox.post(path, json=body)).status_code in (200, 202)

    async def server() -> dict[str, Any]:
        return (await sandbox.get("/_sandbox/servers")).json()["servers"][0]

    failed = await wait(server, lambda s: s["state"] == "failed")
    api = failed["api"]
    assert failed["jobs"][0]["status"] == "failed"
    if cloud["name"] == "digitalocean":
        action = (await sandbox.get(f"/v2/actions/{failed['jobs'][0]['id']}")).json()["action"]
        assert action["status"] == "errored"
        assert api["status"] == "new" and api["networks"]["v4"] == []
    elif cloud["name"] == "vultr":
        assert (api["status"], api["power_status"]) == ("pending", "stopped")
        assert api["main_ip"] == "0.0.0.0"
    else:
        assert api["status"] == "offline"
        events = (await sandbox.get("/v4/account/events")).json()["data"]
        assert events[0]["action"] == "linode_create" and events[0]["status"] == "failed"


async def test_boot_delay_is_a_setting(sandbox, cloud, wait):
    settings = (await sandbox.patch("/_sandbox/settings", json={"boot_delay": 0})).json()
    assert settings["boot_delay"] == 0 and settings["token_required"] is False
    path, body = cloud["create"]
    await sandbox.post(path, json=body)
    server = (await sandbox.get("/_sandbox/servers")).json()["servers"][0]
    assert server["state"] == "running"


async def test_reset_forgets_servers_faults_and_log_and_restores_settings(sandbox, cloud):
    path, body = cloud["create"]
    await sandbox.post(path, json=body)
    await sandbox.patch("/_sandbox/settings", json={"boot_delay": 9, "latency_ms": 5})
    await fault(sandbox, kind="error", count=3)
    assert (await sandbox.post("/_sandbox/reset")).status_code == 204
    assert (await sandbox.get("/_sandbox/servers")).json() == {"servers": []}
    assert (await sandbox.get("/_sandbox/faults")).json() == {"faults": []}
    assert (await sandbox.get("/_sandbox/requests")).json() == {"requests": []}
    settings = (await sandbox.get("/_sandbox/settings")).json()
    assert (settings["boot_delay"], settings["latency_ms"]) == (FAST["boot_delay"], 0)
    assert (await sandbox.get(cloud["list"])).status_code == 200


async def test_request_log_records_what_was_sent_and_the_spec_verdict(sandbox, cloud):
    path, body = cloud["create"]
    await sandbox.post(path, json=body, headers={"Idempotency-Key": "ord-1"})
    await sandbox.post(path, json={"nonsense": True})
    await sandbox.get(cloud["list"], params={"per_page": 5, "bogus": 1})
    everything = (await sandbox.get("/_sandbox/requests")).json()["requests"]
    good, bad, listed = everything
    assert (good["method"], good["path"], good["body"], good["valid"]) == ("POST", path, body, True)
    assert good["headers"]["idempotency-key"] == "ord-1" and good["auth"] == "ok"
    assert bad["valid"] is False and bad["issues"] and bad["status"] >= 400
    assert listed["query"]["bogus"] == ["1"] and any("bogus" in w for w in listed["warnings"])
    invalid = (await sandbox.get("/_sandbox/requests", params={"valid": False})).json()
    assert [r["id"] for r in invalid["requests"]] == [bad["id"]]
    creates = await sandbox.get("/_sandbox/requests", params={"operation": cloud["create_op"]})
    assert len(creates.json()["requests"]) == 2
    assert (await sandbox.delete("/_sandbox/requests")).status_code == 204


async def test_timeout_fault_holds_the_call_past_the_client_timeout():
    app = vultr.create_app(VultrSandboxSettings(**FAST))
    path, body = PROVIDERS["vultr"]["create"]
    with LiveServer(app) as server:
        # Only the held calls get the short timeout: on a busy machine an ordinary answer may
        # take longer than 0.3 s.
        async with httpx.AsyncClient(base_url=server.url, headers=TOKEN, timeout=10) as client:
            await fault(client, kind="timeout", seconds=10, operation="list-instances")
            with pytest.raises(httpx.ReadTimeout):
                await client.get("/v2/instances", timeout=0.3)
            # With process=true the work is done and only the answer is held back.
            await fault(client, kind="timeout", seconds=10, process=True)
            with pytest.raises(httpx.ReadTimeout):
                await client.post(path, json=body, timeout=0.3)
            await client.delete("/_sandbox/faults")  # lets held calls go
            listed = (await client.get("/v2/instances")).json()
            assert listed["meta"]["total"] == 1
