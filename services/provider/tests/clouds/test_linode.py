"""The Linode adapter against the Linode stand-in, through the internal API."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from fastapi import FastAPI
from provider_helpers import (
    SSH_KEY,
    Sandbox,
    assert_problem,
    provision_body,
    wait_for_action,
    wait_for_status,
)
from pydantic import SecretStr

from provider_service.clouds import linode as linode_adapter
from provider_service.clouds.base import CreateSpec

P = "linode"


async def _provision(client: httpx.AsyncClient, key: str, **overrides: object) -> dict:
    response = await client.post("/internal/provision", json=provision_body(P, key, **overrides))
    assert response.status_code == 202, response.text
    return response.json()


async def _act(client: httpx.AsyncClient, linode_id: str, **body: object) -> httpx.Response:
    return await client.post(f"/internal/instances/{P}/{linode_id}/actions", json=body)


async def test_linode_lifecycle_create_active_actions_rebuild_delete(
    client: httpx.AsyncClient, linode: Sandbox
) -> None:
    created = await _provision(client, "order-li-1")
    linode_id = created["provider_instance_id"]
    assert created["status"] == "PROVISIONING"
    server = await linode.server(linode_id)
    assert created["root_password"] == server["root_password"]

    body = (await linode.requests(operation="post-linode-instance"))[0]["body"]
    assert body.pop("root_pass") == created["root_password"]
    label = body.pop("label")
    assert label.startswith("budi-web-01-") and len(label) == len("budi-web-01-") + 6
    assert body == {
        "type": "g6-nanode-1",
        "region": "ap-south",
        "image": "linode/ubuntu24.04",
        "tags": ["customer-42", "wbr-order-order-li-1"],
        "booted": True,
    }

    active = await wait_for_status(client, P, linode_id, "ACTIVE")
    assert active["ipv4"] == server["ipv4_public"]
    assert active["ipv6"] == server["ipv6"]  # without Linode's "/128"
    assert active["image"] == "linode/ubuntu24.04"

    for action, expected in [
        ("reboot", "ACTIVE"),
        ("shutdown", "OFF"),
        ("power_on", "ACTIVE"),
        ("power_off", "OFF"),
        ("power_on", "ACTIVE"),
    ]:
        started = await _act(client, linode_id, type=action)
        assert started.status_code == 202, started.text
        done = await wait_for_action(client, P, linode_id, started.json()["action_id"])
        assert done["status"] == "completed" and done["type"] == action.replace(
            "shutdown", "power_off"
        )
        await wait_for_status(client, P, linode_id, expected)

    rebuilt = await _act(client, linode_id, type="rebuild", image="linode/debian12")
    assert rebuilt.status_code == 202, rebuilt.text
    password = rebuilt.json()["root_password"]
    assert password and password != created["root_password"]
    assert (await linode.server(linode_id))["root_password"] == password
    assert (await wait_for_status(client, P, linode_id, "ACTIVE"))["image"] == "linode/debian12"

    assert (await client.delete(f"/internal/instances/{P}/{linode_id}")).status_code == 204
    assert await linode.servers() == []
    assert_problem(
        await client.get(f"/internal/instances/{P}/{linode_id}"), 404, "instance_not_found"
    )


async def test_reset_password_powers_off_sets_the_password_and_boots_again(
    client: httpx.AsyncClient, linode: Sandbox
) -> None:
    created = await _provision(client, "order-li-2")
    linode_id = created["provider_instance_id"]
    await wait_for_status(client, P, linode_id, "ACTIVE")

    response = await _act(client, linode_id, type="reset_password")
    assert response.status_code == 202, response.text
    body = response.json()
    assert response.headers["cache-control"] == "no-store"
    assert "shut down" in body["note"]
    assert body["root_password"] == (await linode.server(linode_id))["root_password"]
    assert body["root_password"] != created["root_password"]

    posts = [r["operation"] for r in await linode.requests(method="POST")]
    assert posts[1:] == [
        "post-shutdown-linode-instance",
        "post-reset-linode-password",
        "post-boot-linode-instance",
    ]
    await wait_for_action(client, P, linode_id, body["action_id"])
    await wait_for_status(client, P, linode_id, "ACTIVE")


async def test_reset_password_of_a_linode_that_is_off_leaves_it_off(
    client: httpx.AsyncClient, linode: Sandbox
) -> None:
    created = await _provision(client, "order-li-3")
    linode_id = created["provider_instance_id"]
    await wait_for_status(client, P, linode_id, "ACTIVE")
    await _act(client, linode_id, type="shutdown")
    await wait_for_status(client, P, linode_id, "OFF")

    response = await _act(client, linode_id, type="reset_password")
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "completed"
    assert "stays off" in response.json()["note"]
    posts = [r["operation"] for r in await linode.requests(method="POST")]
    assert posts[-1] == "post-reset-linode-password"
    assert (await client.get(f"/internal/instances/{P}/{linode_id}")).json()["status"] == "OFF"


async def test_a_linode_that_does_not_go_down_keeps_its_password(
    client: httpx.AsyncClient,
    linode: Sandbox,
    app: FastAPI,
) -> None:
    created = await _provision(client, "order-li-4")
    linode_id = created["provider_instance_id"]
    await wait_for_status(client, P, linode_id, "ACTIVE")
    await linode.configure(action_delay=30)  # the shutdown takes longer than we wait
    adapter = app.state.clouds.get(P)
    adapter.power_off_timeout = 0.3

    response = await _act(client, linode_id, type="reset_password")
    assert_problem(response, 503, "power_off_timeout")
    assert "post-reset-linode-password" not in [
        r["operation"] for r in await linode.requests(method="POST")
    ]


async def test_keys_and_user_data_go_where_linode_takes_them(
    client: httpx.AsyncClient, linode: Sandbox
) -> None:
    user_data = "#cloud-config\npackages: [nginx]\n"
    await _provision(client, "order-li-5", ssh_keys=[SSH_KEY], user_data=user_data)
    body = (await linode.requests(operation="post-linode-instance"))[0]["body"]
    assert body["authorized_keys"] == [SSH_KEY]
    assert base64.b64decode(body["metadata"]["user_data"]).decode() == user_data


async def test_an_account_key_id_is_refused_without_a_call(
    client: httpx.AsyncClient, linode: Sandbox
) -> None:
    response = await client.post(
        "/internal/provision", json=provision_body(P, "order-li-6", ssh_keys=["289794"])
    )
    assert_problem(response, 422, "ssh_key_not_supported")
    assert await linode.requests() == []


async def test_two_orders_with_one_hostname_get_two_linodes(
    client: httpx.AsyncClient, linode: Sandbox
) -> None:
    first = await _provision(client, "order-li-7")
    second = await _provision(client, "order-li-8")
    assert first["provider_instance_id"] != second["provider_instance_id"]
    labels = {s["name"] for s in await linode.servers()}
    assert len(labels) == 2


async def test_console_is_not_supported(client: httpx.AsyncClient, linode: Sandbox) -> None:
    assert_problem(
        await client.get(f"/internal/instances/{P}/1/console"), 400, "console_not_supported"
    )


async def test_a_build_that_fails_reports_error(client: httpx.AsyncClient, linode: Sandbox) -> None:
    await linode.configure(creation_failure="error")
    created = await _provision(client, "order-li-9")
    body = await wait_for_status(client, P, created["provider_instance_id"], "ERROR")
    assert body["provider_status"] == "offline"


async def test_an_action_of_another_linode_is_not_found(
    client: httpx.AsyncClient, linode: Sandbox
) -> None:
    first = await _provision(client, "order-li-10")
    second = await _provision(client, "order-li-11")
    await wait_for_status(client, P, first["provider_instance_id"], "ACTIVE")
    started = await _act(client, first["provider_instance_id"], type="reboot")
    action_id = started.json()["action_id"]
    response = await client.get(
        f"/internal/instances/{P}/{second['provider_instance_id']}/actions/{action_id}"
    )
    assert_problem(response, 404, "action_not_found")


async def test_every_page_of_a_tag_lookup_is_read(
    client: httpx.AsyncClient, linode: Sandbox, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(linode_adapter, "PAGE_SIZE", 25)  # the API's minimum
    adapter = app.state.clouds.get(P)
    for number in range(26):
        await adapter.create(
            CreateSpec(
                region="ap-south",
                size="g6-nanode-1",
                image="linode/debian12",
                hostname=f"web-{number}",
                tags=("wbr-order-many",),
                lookup_tag="wbr-order-many",
                root_password=SecretStr("Kopi-Tubruk-42!"),
            )
        )
    found = await adapter.find_by_tag("wbr-order-many")
    assert len(found) == 26
    lists = await linode.requests(operation="get-linode-instances")
    assert [r["query"]["page"] for r in lists] == [["1"], ["2"]]
    assert json.loads(lists[0]["headers"]["x-filter"]) == {"tags": "wbr-order-many"}


async def test_regions_sizes_and_images(client: httpx.AsyncClient, linode: Sandbox) -> None:
    regions = (await client.get(f"/internal/providers/{P}/regions")).json()["items"]
    jakarta = next(r for r in regions if r["id"] == "id-cgk")
    assert jakarta["country"] == "ID" and jakarta["available"] is True
    sizes = (await client.get(f"/internal/providers/{P}/sizes")).json()["items"]
    nanode = next(s for s in sizes if s["id"] == "g6-nanode-1")
    assert (nanode["memory_mb"], nanode["disk_gb"], nanode["transfer_gb"]) == (1024, 25, 1000)
    images = (await client.get(f"/internal/providers/{P}/images")).json()["items"]
    assert {"linode/ubuntu24.04", "linode/debian12"} <= {i["id"] for i in images}
