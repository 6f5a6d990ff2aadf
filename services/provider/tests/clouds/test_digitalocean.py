"""The DigitalOcean adapter against the DigitalOcean stand-in, through the internal API."""

from __future__ import annotations

import email
import json

import httpx
import pytest
from provider_helpers import (
    SSH_KEY,
    Sandbox,
    assert_problem,
    provision_body,
    wait_for_action,
    wait_for_status,
)

from provider_service.clouds import digitalocean

P = "digitalocean"


async def _provision(client: httpx.AsyncClient, key: str, **overrides: object) -> dict:
    response = await client.post("/internal/provision", json=provision_body(P, key, **overrides))
    assert response.status_code == 202, response.text
    return response.json()


async def test_droplet_lifecycle_create_active_actions_rebuild_delete(
    client: httpx.AsyncClient, do: Sandbox
) -> None:
    created = await _provision(client, "order-do-1")
    droplet_id = created["provider_instance_id"]
    assert created["status"] == "PROVISIONING"
    assert created["create_action_id"]

    request = (await do.requests(operation="droplets_create"))[0]
    assert request["headers"]["content-type"] == "application/json"
    assert request["body"]["name"] == "budi-web-01"
    assert request["body"]["ipv6"] is True
    assert set(request["body"]["tags"]) == {"customer-42", "wbr-order-order-do-1"}
    assert "ssh_keys" not in request["body"]

    active = await wait_for_status(client, P, droplet_id, "ACTIVE")
    server = await do.server(droplet_id)
    assert active["ipv4"] == server["ipv4_public"]
    assert active["private_ipv4"] == server["ipv4_private"]
    assert active["ipv6"] == server["ipv6"]
    assert active["region"] == "sgp1" and active["size"] == "s-1vcpu-1gb"
    assert active["image"] == "ubuntu-24-04-x64"

    for action, expected in [
        ("reboot", "ACTIVE"),
        ("power_off", "OFF"),
        ("power_on", "ACTIVE"),
        ("shutdown", "OFF"),
        ("power_on", "ACTIVE"),
    ]:
        started = await client.post(
            f"/internal/instances/{P}/{droplet_id}/actions", json={"type": action}
        )
        assert started.status_code == 202, started.text
        assert started.json()["type"] == action
        done = await wait_for_action(client, P, droplet_id, started.json()["action_id"])
        assert done["status"] == "completed"
        await wait_for_status(client, P, droplet_id, expected)

    rebuilt = await client.post(
        f"/internal/instances/{P}/{droplet_id}/actions",
        json={"type": "rebuild", "image": "debian-12-x64"},
    )
    assert rebuilt.status_code == 202, rebuilt.text
    await wait_for_action(client, P, droplet_id, rebuilt.json()["action_id"])
    assert (await wait_for_status(client, P, droplet_id, "ACTIVE"))["image"] == "debian-12-x64"
    posted = [r["body"] for r in await do.requests(operation="dropletActions_post")]
    assert posted[-1] == {"type": "rebuild", "image": "debian-12-x64"}

    assert (await client.delete(f"/internal/instances/{P}/{droplet_id}")).status_code == 204
    assert await do.servers() == []
    gone = await client.get(f"/internal/instances/{P}/{droplet_id}")
    assert_problem(gone, 404, "instance_not_found")


async def test_without_ssh_keys_our_password_is_set_by_cloud_init_and_returned_once(
    client: httpx.AsyncClient, do: Sandbox
) -> None:
    created = await _provision(client, "order-do-2", user_data="#!/bin/sh\necho hello\n")
    password = created["root_password"]
    assert password and len(password) >= 20

    user_data = (await do.server(created["provider_instance_id"]))["user_data"]
    ours, theirs = email.message_from_string(user_data).get_payload()
    assert (ours.get_content_type(), theirs.get_content_type()) == (
        "text/cloud-config",
        "text/x-shellscript",
    )
    config = json.loads(ours.get_payload(decode=True).decode().split("\n", 1)[1])
    assert config["chpasswd"]["users"][0]["password"] == password
    assert theirs.get_payload(decode=True).decode() == "#!/bin/sh\necho hello\n"

    again = await _provision(client, "order-do-2", user_data="#!/bin/sh\necho hello\n")
    assert again["replayed"] is True and again["root_password"] is None


async def test_only_our_cloud_config_when_the_caller_sends_no_user_data(
    client: httpx.AsyncClient, do: Sandbox
) -> None:
    created = await _provision(client, "order-do-3")
    user_data = (await do.server(created["provider_instance_id"]))["user_data"]
    header, config = user_data.split("\n", 1)
    assert header == "#cloud-config"
    parsed = json.loads(config)
    assert parsed["chpasswd"]["users"] == [
        {"name": "root", "password": created["root_password"], "type": "text"}
    ]
    assert parsed["ssh_pwauth"] is True


async def test_ssh_keys_go_where_digitalocean_takes_them(
    client: httpx.AsyncClient, do: Sandbox
) -> None:
    fingerprint = "3b:16:e4:bf:8b:00:8b:b8:59:8c:a9:d3:f0:19:fa:45"
    created = await _provision(client, "order-do-4", ssh_keys=["289794", fingerprint, SSH_KEY])
    assert created["root_password"] is None  # keys give access; DigitalOcean sets no password

    body = (await do.requests(operation="droplets_create"))[0]["body"]
    assert body["ssh_keys"] == [289794, fingerprint]
    config = json.loads(body["user_data"].split("\n", 1)[1])
    assert config == {"ssh_authorized_keys": [SSH_KEY]}


async def test_an_unusable_ssh_key_is_refused_before_any_call(
    client: httpx.AsyncClient, do: Sandbox
) -> None:
    response = await client.post(
        "/internal/provision", json=provision_body(P, "order-do-5", ssh_keys=["not a key"])
    )
    assert_problem(response, 422, "ssh_key_not_supported")
    assert await do.requests(operation="droplets_create") == []


async def test_reset_password_is_not_offered_so_nothing_is_mailed_to_the_account_owner(
    client: httpx.AsyncClient, do: Sandbox
) -> None:
    created = await _provision(client, "order-do-6")
    response = await client.post(
        f"/internal/instances/{P}/{created['provider_instance_id']}/actions",
        json={"type": "reset_password"},
    )
    body = assert_problem(response, 400, "action_not_supported")
    assert body["provider"] == P
    assert await do.requests(operation="dropletActions_post") == []
    assert await do.emails() == []


async def test_console_is_not_supported(client: httpx.AsyncClient, do: Sandbox) -> None:
    response = await client.get(f"/internal/instances/{P}/12345/console")
    assert_problem(response, 400, "console_not_supported")


async def test_a_build_that_fails_reports_error(client: httpx.AsyncClient, do: Sandbox) -> None:
    await do.configure(creation_failure="error")
    created = await _provision(client, "order-do-7")
    assert created["status"] == "PROVISIONING"
    body = await wait_for_status(client, P, created["provider_instance_id"], "ERROR")
    assert body["provider_status"] == "new"


async def test_a_malformed_droplet_id_is_not_found_without_a_call(
    client: httpx.AsyncClient, do: Sandbox
) -> None:
    assert_problem(await client.get(f"/internal/instances/{P}/abc"), 404, "instance_not_found")
    assert await do.requests() == []


async def test_every_page_of_sizes_is_read(
    client: httpx.AsyncClient, do: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(digitalocean, "PER_PAGE", 4)
    response = await client.get(f"/internal/providers/{P}/sizes")
    assert response.status_code == 200, response.text
    sizes = response.json()["items"]
    assert [s["id"] for s in sizes][:2] == ["s-1vcpu-1gb", "s-1vcpu-2gb"]
    assert len(sizes) == 6
    assert sizes[0] == {
        "id": "s-1vcpu-1gb",
        "vcpus": 1,
        "memory_mb": 1024,
        "disk_gb": 25,
        "transfer_gb": 1000,
        "price_monthly_usd": 6.0,
        "price_hourly_usd": sizes[0]["price_hourly_usd"],
        "regions": sizes[0]["regions"],
        "available": True,
    }
    pages = [r["query"] for r in await do.requests(operation="sizes_list")]
    assert pages == [{"page": ["1"], "per_page": ["4"]}, {"page": ["2"], "per_page": ["4"]}]


async def test_regions_and_images(client: httpx.AsyncClient, do: Sandbox) -> None:
    regions = (await client.get(f"/internal/providers/{P}/regions")).json()["items"]
    assert {"id": "sgp1", "name": "Singapore 1"}.items() <= regions[0].items()
    images = (await client.get(f"/internal/providers/{P}/images")).json()["items"]
    ubuntu = next(i for i in images if i["id"] == "ubuntu-24-04-x64")
    assert ubuntu["distribution"] == "Ubuntu" and ubuntu["available"] is True
    assert (await do.requests(operation="images_list"))[0]["query"]["type"] == ["distribution"]
