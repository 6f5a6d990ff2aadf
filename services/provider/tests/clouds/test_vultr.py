"""The Vultr adapter against the Vultr stand-in, through the internal API."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from provider_helpers import SSH_KEY, Sandbox, assert_problem, provision_body, wait_for_status

from provider_service.clouds import vultr as vultr_adapter

P = "vultr"
KEY_ID = "cb676a46-66fd-4dfb-b839-443f2e6c0b60"


async def _provision(client: httpx.AsyncClient, key: str, **overrides: object) -> dict:
    response = await client.post("/internal/provision", json=provision_body(P, key, **overrides))
    assert response.status_code == 202, response.text
    return response.json()


async def _act(client: httpx.AsyncClient, instance_id: str, **body: object) -> httpx.Response:
    return await client.post(f"/internal/instances/{P}/{instance_id}/actions", json=body)


async def test_instance_lifecycle_create_active_actions_reinstall_delete(
    client: httpx.AsyncClient, vultr: Sandbox
) -> None:
    created = await _provision(client, "order-vu-1")
    instance_id = created["provider_instance_id"]
    assert created["status"] == "PROVISIONING"
    server = await vultr.server(instance_id)
    # Vultr's own password, shown once at deployment and handed on once.
    assert created["root_password"] == server["root_password"]

    body = (await vultr.requests(operation="create-instance"))[0]["body"]
    assert body == {
        "region": "sgp",
        "plan": "vc2-1c-1gb",
        "os_id": 2284,
        "label": "budi-web-01",
        "hostname": "budi-web-01",
        "tags": ["customer-42", "wbr-order-order-vu-1"],
        "enable_ipv6": True,
        "backups": "disabled",
        "activation_email": False,
    }
    assert await vultr.emails() == []

    active = await wait_for_status(client, P, instance_id, "ACTIVE")
    assert active["ipv4"] == server["ipv4_public"]
    assert active["ipv6"] == server["ipv6"]
    assert active["provider_status"] == "active/running/ok"
    assert active["image"] == "2284" and active["size"] == "vc2-1c-1gb"

    for action, expected in [("reboot", "ACTIVE"), ("power_off", "OFF"), ("power_on", "ACTIVE")]:
        started = await _act(client, instance_id, type=action)
        assert started.status_code == 202, started.text
        assert started.json()["action_id"] is None  # no action objects: follow the instance
        await wait_for_status(client, P, instance_id, expected)
    paths = [r["path"].rsplit("/", 1)[1] for r in await vultr.requests(method="POST")]
    assert paths == ["instances", "reboot", "halt", "start"]

    rebuilt = await _act(client, instance_id, type="rebuild")
    assert rebuilt.status_code == 202, rebuilt.text
    assert rebuilt.json()["root_password"] == (await vultr.server(instance_id))["root_password"]
    assert rebuilt.json()["root_password"] != created["root_password"]
    await wait_for_status(client, P, instance_id, "ACTIVE")
    reinstall = (await vultr.requests(operation="reinstall-instance"))[0]
    assert reinstall["body"] == {"hostname": "budi-web-01"}

    assert (await client.delete(f"/internal/instances/{P}/{instance_id}")).status_code == 204
    assert await vultr.servers() == []
    assert_problem(
        await client.get(f"/internal/instances/{P}/{instance_id}"), 404, "instance_not_found"
    )


async def test_what_vultr_cannot_do_is_refused_without_a_call(
    client: httpx.AsyncClient, vultr: Sandbox
) -> None:
    created = await _provision(client, "order-vu-2")
    instance_id = created["provider_instance_id"]
    await vultr.requests()
    for action in ("shutdown", "reset_password"):
        assert_problem(await _act(client, instance_id, type=action), 400, "action_not_supported")
    assert_problem(
        await _act(client, instance_id, type="rebuild", image="1743"),
        400,
        "rebuild_image_not_supported",
    )
    assert_problem(
        await client.get(f"/internal/instances/{P}/{instance_id}/actions/1"),
        400,
        "action_tracking_not_supported",
    )
    assert [r["operation"] for r in await vultr.requests(method="POST")] == ["create-instance"]


async def test_console_url_is_fetched_on_every_call_and_never_cached(
    client: httpx.AsyncClient, vultr: Sandbox
) -> None:
    created = await _provision(client, "order-vu-3")
    instance_id = created["provider_instance_id"]
    not_ready = await client.get(f"/internal/instances/{P}/{instance_id}/console")
    assert_problem(not_ready, 409, "console_not_ready")

    await wait_for_status(client, P, instance_id, "ACTIVE")
    before = len(await vultr.requests(operation="get-instance"))
    for _ in range(2):
        response = await client.get(f"/internal/instances/{P}/{instance_id}/console")
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        assert response.json()["url"].endswith(f"/_sandbox/console/{instance_id}")
        assert response.json()["kind"] == "novnc"
    assert len(await vultr.requests(operation="get-instance")) == before + 2


async def test_ssh_keys_and_user_data_go_where_vultr_takes_them(
    client: httpx.AsyncClient, vultr: Sandbox
) -> None:
    created = await _provision(
        client, "order-vu-4", ssh_keys=[KEY_ID, SSH_KEY], user_data="#cloud-config\nruncmd: []\n"
    )
    body = (await vultr.requests(operation="create-instance"))[0]["body"]
    assert body["sshkey_id"] == [KEY_ID]
    decoded = base64.b64decode(body["user_data"]).decode()
    assert decoded.startswith("Content-Type: multipart/mixed")
    assert (await vultr.server(created["provider_instance_id"]))["user_data"] == decoded


async def test_only_the_public_key_becomes_cloud_config(
    client: httpx.AsyncClient, vultr: Sandbox
) -> None:
    await _provision(client, "order-vu-5", ssh_keys=[SSH_KEY])
    body = (await vultr.requests(operation="create-instance"))[0]["body"]
    assert "sshkey_id" not in body
    header, config = base64.b64decode(body["user_data"]).decode().split("\n", 1)
    assert header == "#cloud-config"
    assert json.loads(config) == {"ssh_authorized_keys": [SSH_KEY]}


async def test_an_image_that_is_not_an_os_id_is_refused_without_a_call(
    client: httpx.AsyncClient, vultr: Sandbox
) -> None:
    response = await client.post(
        "/internal/provision", json=provision_body(P, "order-vu-6", image="ubuntu-24-04")
    )
    assert_problem(response, 422, "image_invalid")
    assert await vultr.requests() == []


async def test_a_malformed_instance_id_is_not_found_without_a_call(
    client: httpx.AsyncClient, vultr: Sandbox
) -> None:
    assert_problem(await client.get(f"/internal/instances/{P}/12345"), 404, "instance_not_found")
    assert await vultr.requests() == []


async def test_every_cursor_page_of_plans_is_read(
    client: httpx.AsyncClient, vultr: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vultr_adapter, "PER_PAGE", 4)
    sizes = (await client.get(f"/internal/providers/{P}/sizes")).json()["items"]
    assert [s["id"] for s in sizes] == [
        "vc2-1c-1gb",
        "vc2-1c-2gb",
        "vc2-2c-2gb",
        "vc2-2c-4gb",
        "vc2-4c-8gb",
        "vc2-6c-16gb",
    ]
    assert sizes[0]["transfer_gb"] == 1024 and sizes[0]["price_monthly_usd"] == 5
    queries = [r["query"] for r in await vultr.requests(operation="list-plans")]
    assert len(queries) == 2
    assert "cursor" not in queries[0] and queries[1]["cursor"][0]


async def test_regions_and_operating_systems(client: httpx.AsyncClient, vultr: Sandbox) -> None:
    regions = (await client.get(f"/internal/providers/{P}/regions")).json()["items"]
    singapore = next(r for r in regions if r["id"] == "sgp")
    assert singapore["name"] == "Singapore" and singapore["country"] == "SG"
    images = (await client.get(f"/internal/providers/{P}/images")).json()["items"]
    ubuntu = next(i for i in images if i["id"] == "2284")
    assert ubuntu["name"] == "Ubuntu 24.04 LTS x64" and ubuntu["distribution"] == "ubuntu"
