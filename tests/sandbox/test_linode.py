"""The Linode stand-in: Linodes provision with their IPs known at once, actions answer `{}` and
show in `status` and events, pages walk, and invalid requests get Linode's `errors` list."""

from __future__ import annotations

import base64
import json

import httpx
from fastapi import FastAPI

ROOT_PASS = "c0rrect-Horse-battery"
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG8fnq0q0uH6H1tQn8m1o9bqJq3pT0Yx4lF1kq0b0X0a me@host"
CREATE = {
    "type": "g6-nanode-1",
    "region": "id-cgk",
    "image": "linode/ubuntu24.04",
    "root_pass": ROOT_PASS,
}


async def linode(li: httpx.AsyncClient, linode_id: int) -> dict:
    return (await li.get(f"/v4/linode/instances/{linode_id}")).json()


async def create(li: httpx.AsyncClient, **overrides: object) -> dict:
    response = await li.post("/v4/linode/instances", json=CREATE | overrides)
    assert response.status_code == 200, response.text
    return response.json()


async def running(li, wait, **overrides: object) -> dict:
    new = await create(li, **overrides)
    return await wait(lambda: linode(li, new["id"]), lambda lin: lin["status"] == "running")


async def events_of(li: httpx.AsyncClient, linode_id: int) -> list[dict]:
    flt = json.dumps({"entity.id": linode_id, "entity.type": "linode"})
    return (await li.get("/v4/account/events", headers={"X-Filter": flt})).json()["data"]


async def test_create_provisions_boots_and_runs_with_addresses(li, wait):
    await li.patch("/_sandbox/settings", json={"boot_delay": 0.8})  # long enough to see booting
    user_data = base64.b64encode(b"#cloud-config\n").decode()
    new = await create(
        li,
        label="web-1",
        tags=["web"],
        private_ip=True,
        authorized_keys=[KEY],
        metadata={"user_data": user_data},
    )
    assert new["status"] == "provisioning" and new["label"] == "web-1"
    public, private = new["ipv4"]
    assert public.startswith(("203.0.113.", "198.51.100.")) and private.startswith("192.168.")
    assert new["ipv6"].startswith("2001:db8:") and new["ipv6"].endswith("/128")
    assert new["has_user_data"] is True and "T" in new["created"] and "Z" not in new["created"]
    seen = set()
    done = await wait(
        lambda: linode(li, new["id"]),
        lambda lin: seen.add(lin["status"]) or lin["status"] == "running",
    )
    assert "booting" in seen and done["ipv4"] == new["ipv4"]
    events = {e["action"]: e for e in await events_of(li, new["id"])}
    assert events["linode_create"]["status"] == events["linode_boot"]["status"] == "finished"
    server = (await li.get(f"/_sandbox/servers/{new['id']}")).json()
    assert server["user_data"] == "#cloud-config\n" and server["ssh_keys"] == [KEY]


async def test_pages_walk_and_x_filter_selects_by_tag(li):
    for i in range(27):
        await create(li, label=f"node-{i:02d}", tags=["web"] if i % 3 else ["db"])
    labels, page, pages = [], 1, 1
    while page <= pages:
        body = (await li.get("/v4/linode/instances", params={"page": page, "page_size": 25})).json()
        assert body["results"] == 27
        labels += [lin["label"] for lin in body["data"]]
        pages, page = body["pages"], page + 1
    assert pages == 2 and len(labels) == len(set(labels)) == 27
    tagged = await li.get("/v4/linode/instances", headers={"X-Filter": json.dumps({"tags": "db"})})
    assert tagged.json()["results"] == 9
    ordered = await li.get(
        "/v4/linode/instances",
        headers={"X-Filter": json.dumps({"tags": "db", "+order_by": "label", "+order": "desc"})},
    )
    assert ordered.json()["data"][0]["label"] == "node-24"


async def test_shutdown_then_password_reset_only_while_offline(li, wait):
    ready = await running(li, wait)
    path = f"/v4/linode/instances/{ready['id']}"
    refused = await li.post(f"{path}/password", json={"root_pass": "An0ther-g00d-one"})
    assert refused.status_code == 400 and "shut down" in refused.json()["errors"][0]["reason"]
    shutdown = await li.post(f"{path}/shutdown")
    assert shutdown.status_code == 200 and shutdown.json() == {}
    assert (await linode(li, ready["id"]))["status"] == "shutting_down"
    await wait(lambda: linode(li, ready["id"]), lambda lin: lin["status"] == "offline")
    weak = await li.post(f"{path}/password", json={"root_pass": "password"})
    assert weak.json()["errors"] == [
        {"reason": "Password does not meet strength requirement", "field": "root_pass"}
    ]
    reset = await li.post(f"{path}/password", json={"root_pass": "An0ther-g00d-one"})
    assert reset.status_code == 200 and reset.json() == {}
    assert "password_reset" in {e["action"] for e in await events_of(li, ready["id"])}
    booted = await li.post(f"{path}/boot")
    assert booted.status_code == 200
    await wait(lambda: linode(li, ready["id"]), lambda lin: lin["status"] == "running")


async def test_reboot_while_busy_is_refused_as_linode_busy(li, wait):
    ready = await running(li, wait)
    path = f"/v4/linode/instances/{ready['id']}"
    assert (await li.post(f"{path}/reboot")).status_code == 200
    assert (await linode(li, ready["id"]))["status"] == "rebooting"
    busy = await li.post(f"{path}/shutdown")
    assert busy.status_code == 400 and busy.json() == {"errors": [{"reason": "Linode busy."}]}
    await wait(lambda: linode(li, ready["id"]), lambda lin: lin["status"] == "running")
    event = next(e for e in await events_of(li, ready["id"]) if e["action"] == "linode_reboot")
    single = (await li.get(f"/v4/account/events/{event['id']}")).json()
    assert single["status"] == "finished" and single["entity"]["id"] == ready["id"]


async def test_rebuild_deploys_the_new_image_and_runs_again(li, wait):
    ready = await running(li, wait)
    path = f"/v4/linode/instances/{ready['id']}/rebuild"
    missing_pass = await li.post(path, json={"image": "linode/debian12"})
    assert missing_pass.status_code == 400
    assert missing_pass.json()["errors"][0]["field"] == "root_pass"
    response = await li.post(path, json={"image": "linode/debian12", "root_pass": ROOT_PASS})
    assert response.status_code == 200 and response.json()["status"] == "rebuilding"
    done = await wait(lambda: linode(li, ready["id"]), lambda lin: lin["status"] == "running")
    assert done["image"] == "linode/debian12"


async def test_delete_answers_empty_object_then_404(li):
    new = await create(li)
    deleted = await li.delete(f"/v4/linode/instances/{new['id']}")
    assert deleted.status_code == 200 and deleted.json() == {}
    gone = await li.get(f"/v4/linode/instances/{new['id']}")
    assert gone.status_code == 404 and gone.json() == {"errors": [{"reason": "Not found"}]}
    assert "linode_delete" in {e["action"] for e in await events_of(li, new["id"])}


async def test_invalid_create_lists_every_error_with_its_field(li):
    body = {"region": "id-cgk", "root_pass": "short", "colour": "blue"}
    response = await li.post("/v4/linode/instances", json=body)
    assert response.status_code == 400
    fields = {e.get("field") for e in response.json()["errors"]}
    assert fields == {"type", "root_pass", "colour"}
    logged = (await li.get("/_sandbox/requests", params={"valid": "false"})).json()["requests"]
    assert logged[-1]["operation"] == "post-linode-instance"


async def test_linode_rules_beyond_the_schema(li):
    weak = await li.post("/v4/linode/instances", json=CREATE | {"root_pass": "aaaaaaaa"})
    assert weak.json()["errors"][0]["reason"] == "Password does not meet strength requirement"
    without_pass = {k: v for k, v in CREATE.items() if k != "root_pass"}
    no_pass = await li.post("/v4/linode/instances", json=without_pass)
    assert no_pass.json()["errors"][0]["field"] == "root_pass"
    bad_key = await li.post("/v4/linode/instances", json=CREATE | {"authorized_keys": ["nope"]})
    assert bad_key.json()["errors"][0]["field"] == "authorized_keys"
    await create(li, label="taken")
    duplicate = await li.post("/v4/linode/instances", json=CREATE | {"label": "taken"})
    assert duplicate.json()["errors"] == [
        {"reason": "Label must be unique among your linodes", "field": "label"}
    ]
    wrong_region = await li.post("/v4/linode/instances", json=CREATE | {"region": "mars-1"})
    assert wrong_region.json()["errors"][0]["field"] == "region"


async def test_token_rules_follow_linode(linode_app: FastAPI, make_client):
    linode_app.state.provider.settings.token = "right"
    async with make_client(linode_app, headers={}) as anonymous:
        assert (await anonymous.get("/v4/regions")).status_code == 200
        assert (await anonymous.get("/v4/linode/types")).status_code == 200
        assert (await anonymous.get("/v4/images")).status_code == 200  # public images
        denied = await anonymous.get("/v4/linode/instances")
    assert denied.status_code == 401 and denied.json() == {"errors": [{"reason": "Invalid Token"}]}
    async with make_client(linode_app, headers={"Authorization": "Bearer wrong"}) as wrong:
        assert (await wrong.get("/v4/images")).status_code == 401


async def test_rate_limit_headers_and_catalog(li):
    response = await li.get("/v4/regions")
    assert response.headers["X-RateLimit-Limit"] == "800"
    assert int(response.headers["X-RateLimit-Remaining"]) == 799
    regions = {r["id"] for r in response.json()["data"]}
    assert {"ap-south", "id-cgk", "ap-northeast"} <= regions
    types = (await li.get("/v4/linode/types")).json()["data"]
    nanode = types[0]
    assert (nanode["vcpus"], nanode["memory"], nanode["price"]["monthly"]) == (1, 1024, 5)
    assert nanode["region_prices"][0]["id"] == "id-cgk"
    images = {i["id"] for i in (await li.get("/v4/images")).json()["data"]}
    assert {"linode/ubuntu24.04", "linode/debian12", "linode/rocky9", "linode/almalinux9"} <= images
    assert (await li.get("/v5/regions")).status_code == 404
