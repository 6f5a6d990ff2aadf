"""The Vultr stand-in: instances deploy, power changes are synchronous 204s whose effect shows
in the three status fields, cursors walk, and invalid requests get Vultr's error shape."""

from __future__ import annotations

import base64

import httpx
from fastapi import FastAPI

CREATE = {"region": "sgp", "plan": "vc2-1c-1gb", "os_id": 2284, "label": "web-1"}


async def instance(vu: httpx.AsyncClient, instance_id: str) -> dict:
    return (await vu.get(f"/v2/instances/{instance_id}")).json()["instance"]


def up(i: dict) -> bool:
    return (i["status"], i["power_status"], i["server_status"]) == ("active", "running", "ok")


async def create(vu: httpx.AsyncClient, **overrides: object) -> dict:
    response = await vu.post("/v2/instances", json=CREATE | overrides)
    assert response.status_code == 202, response.text
    return response.json()["instance"]


async def running(vu, wait, **overrides: object) -> dict:
    new = await create(vu, **overrides)
    return await wait(lambda: instance(vu, new["id"]), up)


async def test_create_deploys_pending_then_up_with_addresses(vu, wait):
    user_data = base64.b64encode(b"#cloud-config\nruncmd: [true]\n").decode()
    new = await create(vu, enable_ipv6=True, tags=["web"], user_data=user_data, hostname="web-1")
    assert (new["status"], new["server_status"], new["main_ip"]) == ("pending", "none", "0.0.0.0")
    assert new["default_password"]
    ready = await wait(lambda: instance(vu, new["id"]), up)
    assert ready["main_ip"].startswith(("192.0.2.", "198.51.100."))
    assert ready["v6_main_ip"].startswith("2001:db8:") and ready["v6_network_size"] == 64
    assert ready["kvm"].endswith(f"/_sandbox/console/{new['id']}")
    assert ready["tags"] == ["web"] and ready["hostname"] == "web-1"
    server = (await vu.get(f"/_sandbox/servers/{new['id']}")).json()
    assert server["user_data"] == "#cloud-config\nruncmd: [true]\n"
    assert server["root_password"] == new["default_password"]


async def test_activation_email_is_recorded_only_when_asked(vu):
    quiet = await create(vu, activation_email=False)
    loud = await create(vu, label="web-2", activation_email=True)
    emails = (await vu.get("/_sandbox/emails")).json()["emails"]
    assert [e["server_id"] for e in emails] == [loud["id"]]
    assert quiet["id"] != loud["id"] and emails[0]["kind"] == "activation_email"


async def test_cursor_pages_walk_forward_and_back(vu):
    for i in range(5):
        await create(vu, label=f"n-{i}", tags=["web"] if i < 4 else [])
    labels, cursor, prevs = [], "", []
    while True:
        page = (
            await vu.get("/v2/instances", params={"per_page": 2, "tag": "web", "cursor": cursor})
        ).json()
        assert page["meta"]["total"] == 4
        labels += [i["label"] for i in page["instances"]]
        prevs.append(page["meta"]["links"]["prev"])
        cursor = page["meta"]["links"]["next"]
        if not cursor:
            break
    assert sorted(labels) == ["n-0", "n-1", "n-2", "n-3"] and len(labels) == 4
    assert prevs[0] == "" and prevs[1]
    back = (
        await vu.get("/v2/instances", params={"per_page": 2, "tag": "web", "cursor": prevs[1]})
    ).json()
    assert [i["label"] for i in back["instances"]] == labels[:2]
    by_label = (await vu.get("/v2/instances", params={"label": "n-4"})).json()
    assert [i["label"] for i in by_label["instances"]] == ["n-4"]
    assert by_label["meta"]["links"] == {"next": "", "prev": ""}


async def test_reboot_halt_start_are_204_and_show_in_the_status_fields(vu, wait):
    ready = await running(vu, wait)
    path = f"/v2/instances/{ready['id']}"
    reboot = await vu.post(f"{path}/reboot")
    assert reboot.status_code == 204 and reboot.content == b""
    assert (await instance(vu, ready["id"]))["server_status"] == "installingbooting"
    await wait(lambda: instance(vu, ready["id"]), up)
    assert (await vu.post(f"{path}/halt")).status_code == 204
    assert (await instance(vu, ready["id"]))["power_status"] == "stopped"
    assert (await vu.post(f"{path}/start")).status_code == 204
    await wait(lambda: instance(vu, ready["id"]), up)


async def test_reinstall_answers_the_instance_and_reinstalls_the_same_os(vu, wait):
    ready = await running(vu, wait)
    path = f"/v2/instances/{ready['id']}/reinstall"
    response = await vu.post(path, json={"hostname": "fresh"})
    assert response.status_code == 202
    reinstalled = response.json()["instance"]
    assert reinstalled["server_status"] == "locked" and reinstalled["hostname"] == "fresh"
    assert "default_password" not in reinstalled
    done = await wait(lambda: instance(vu, ready["id"]), up)
    assert done["os_id"] == 2284


async def test_actions_on_a_deploying_instance_are_refused(vu):
    new = await create(vu)
    response = await vu.post(f"/v2/instances/{new['id']}/reboot")
    assert response.status_code == 400
    assert response.json() == {"error": response.json()["error"], "status": 400}


async def test_delete_is_204_and_then_404(vu):
    new = await create(vu)
    assert (await vu.delete(f"/v2/instances/{new['id']}")).status_code == 204
    gone = await vu.get(f"/v2/instances/{new['id']}")
    assert gone.status_code == 404 and gone.json()["status"] == 404


async def test_invalid_create_is_400_in_vultr_shape_and_logged_invalid(vu):
    missing = await vu.post("/v2/instances", json={"region": "sgp", "os_id": 2284})
    assert missing.status_code == 400
    assert missing.json() == {"error": "plan is required", "status": 400}
    wrong_type = await vu.post("/v2/instances", json=CREATE | {"os_id": "ubuntu"})
    assert wrong_type.status_code == 400 and "os_id" in wrong_type.json()["error"]
    not_base64 = await vu.post("/v2/instances", json=CREATE | {"user_data": "#cloud-config"})
    assert not_base64.status_code == 400  # valid against the spec, refused by Vultr's rules
    logged = (await vu.get("/_sandbox/requests", params={"operation": "create-instance"})).json()
    assert [r["valid"] for r in logged["requests"]] == [False, False, True]


async def test_unknown_plan_region_and_os_are_refused(vu):
    for body, word in (
        (CREATE | {"region": "xxx"}, "region"),
        (CREATE | {"plan": "vc2-64c-1tb"}, "plan"),
        (CREATE | {"os_id": 1}, "os_id"),
    ):
        response = await vu.post("/v2/instances", json=body)
        assert response.status_code == 400 and word in response.json()["error"]


async def test_public_lists_need_no_key_but_instances_do(vultr_app: FastAPI, make_client):
    async with make_client(vultr_app, headers={}) as anonymous:
        assert (await anonymous.get("/v2/regions")).status_code == 200
        assert (await anonymous.get("/v2/plans")).status_code == 200
        denied = await anonymous.get("/v2/instances")
    assert denied.status_code == 401
    assert denied.json() == {"error": "Invalid API token.", "status": 401}
    assert "ratelimit-limit" not in denied.headers  # Vultr sends no rate-limit headers


async def test_catalog_pages_and_region_availability(vu):
    ids, cursor = [], ""
    while True:
        page = (await vu.get("/v2/os", params={"per_page": 4, "cursor": cursor})).json()
        ids += [o["id"] for o in page["os"]]
        cursor = page["meta"]["links"]["next"]
        if not cursor:
            break
    assert {2284, 1743, 2136, 1869, 1868} <= set(ids)
    plans = (await vu.get("/v2/plans", params={"type": "vc2"})).json()["plans"]
    assert (plans[0]["vcpu_count"], plans[0]["ram"], plans[0]["monthly_cost"]) == (1, 1024, 5)
    available = (await vu.get("/v2/regions/sgp/availability")).json()["available_plans"]
    assert "vc2-1c-1gb" in available
    assert (await vu.get("/v2/regions/zzz/availability")).status_code == 404
    regions = (await vu.get("/v2/regions")).json()["regions"]
    assert {"sgp", "nrt", "syd"} <= {r["id"] for r in regions}
