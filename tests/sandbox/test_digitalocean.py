"""The DigitalOcean stand-in: droplets boot, actions run asynchronously, pages walk, and what
breaks the spec is refused in DigitalOcean's shape and logged as invalid."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

CREATE = {"name": "web-1", "size": "s-1vcpu-1gb", "image": "ubuntu-24-04-x64", "region": "sgp1"}


async def droplet(do: httpx.AsyncClient, droplet_id: int) -> dict:
    return (await do.get(f"/v2/droplets/{droplet_id}")).json()["droplet"]


async def action(do: httpx.AsyncClient, action_id: int) -> dict:
    return (await do.get(f"/v2/actions/{action_id}")).json()["action"]


async def create(do: httpx.AsyncClient, **overrides: object) -> dict:
    response = await do.post("/v2/droplets", json=CREATE | overrides)
    assert response.status_code == 202, response.text
    return response.json()


async def test_create_is_accepted_new_then_active_with_addresses(do, wait, do_app: FastAPI):
    body = await create(do, ipv6=True, tags=["web", "env:prod"], user_data="#cloud-config\n")
    new = body["droplet"]
    assert new["status"] == "new"
    assert new["networks"] == {"v4": [], "v6": []}
    link = body["links"]["actions"][0]
    assert link["rel"] == "create"
    assert link["href"] == f"http://127.0.0.1:3990/v2/actions/{link['id']}"
    assert (await action(do, link["id"]))["status"] == "in-progress"

    active = await wait(lambda: droplet(do, new["id"]), lambda d: d["status"] == "active")
    kinds = {n["type"]: n for n in active["networks"]["v4"]}
    assert kinds["public"]["ip_address"].startswith(("203.0.113.", "198.51.100."))
    assert kinds["private"]["ip_address"].startswith("10.")
    assert active["networks"]["v6"][0]["ip_address"].startswith("2001:db8:")
    assert active["tags"] == ["web", "env:prod"]
    assert set(active["features"]) >= {"ipv6", "private_networking"}
    created = await action(do, link["id"])
    assert created["status"] == "completed" and created["completed_at"]

    server = (await do.get(f"/_sandbox/servers/{new['id']}")).json()
    assert server["user_data"] == "#cloud-config\n"


async def test_multi_create_answers_droplets_and_one_action_each(do):
    multi = {k: v for k, v in CREATE.items() if k != "name"} | {"names": ["a-1", "a-2"]}
    response = await do.post("/v2/droplets", json=multi)
    assert response.status_code == 202
    body = response.json()
    assert [d["name"] for d in body["droplets"]] == ["a-1", "a-2"]
    assert len(body["links"]["actions"]) == 2


async def test_list_by_tag_walks_every_page(do):
    for i in range(5):
        await create(do, name=f"n-{i}", tags=["web"] if i % 2 == 0 else ["db"])
    seen, url = [], "/v2/droplets?tag_name=web&per_page=2"
    while url:
        page = (await do.get(url)).json()
        assert page["meta"]["total"] == 3
        seen += [d["name"] for d in page["droplets"]]
        url = page["links"].get("pages", {}).get("next")
    assert seen == ["n-0", "n-2", "n-4"]
    last = (await do.get("/v2/droplets?tag_name=web&per_page=2&page=2")).json()
    assert set(last["links"]["pages"]) == {"first", "prev"}
    single = (await do.get("/v2/droplets?tag_name=db")).json()
    assert single["links"] == {} and single["meta"]["total"] == 2


async def test_reboot_is_an_action_to_poll_and_locks_the_droplet(do, wait):
    new = (await create(do))["droplet"]
    await wait(lambda: droplet(do, new["id"]), lambda d: d["status"] == "active")
    # Long enough that the second action below arrives while the reboot runs, even under load.
    await do.patch("/_sandbox/settings", json={"action_delay": 1.5})
    response = await do.post(f"/v2/droplets/{new['id']}/actions", json={"type": "reboot"})
    assert response.status_code == 201
    reboot = response.json()["action"]
    assert (reboot["status"], reboot["type"], reboot["resource_id"]) == (
        "in-progress",
        "reboot",
        new["id"],
    )
    assert reboot["completed_at"] is None
    assert (await droplet(do, new["id"]))["locked"] is True
    again = await do.post(f"/v2/droplets/{new['id']}/actions", json={"type": "power_off"})
    assert again.status_code == 422
    assert again.json()["id"] == "unprocessable_entity"
    assert again.json()["message"] == "Droplet already has a pending event."

    path = f"/v2/droplets/{new['id']}/actions/{reboot['id']}"
    done = await wait(lambda: do.get(path), lambda r: r.json()["action"]["status"] == "completed")
    assert done.json()["action"]["completed_at"]
    listed = (await do.get(f"/v2/droplets/{new['id']}/actions")).json()
    assert [a["type"] for a in listed["actions"]] == ["create", "reboot"]


async def test_shutdown_turns_off_and_power_on_brings_it_back(do, wait):
    new = (await create(do))["droplet"]
    await wait(lambda: droplet(do, new["id"]), lambda d: d["status"] == "active")
    off = (await do.post(f"/v2/droplets/{new['id']}/actions", json={"type": "shutdown"})).json()
    assert (await droplet(do, new["id"]))["status"] == "active"  # shutting down takes a while
    await wait(lambda: action(do, off["action"]["id"]), lambda a: a["status"] == "completed")
    assert (await droplet(do, new["id"]))["status"] == "off"
    on = (await do.post(f"/v2/droplets/{new['id']}/actions", json={"type": "power_on"})).json()
    await wait(lambda: action(do, on["action"]["id"]), lambda a: a["status"] == "completed")
    assert (await droplet(do, new["id"]))["status"] == "active"


async def test_password_reset_power_cycles_and_emails_the_password(do, wait):
    new = (await create(do))["droplet"]
    await wait(lambda: droplet(do, new["id"]), lambda d: d["status"] == "active")
    response = await do.post(f"/v2/droplets/{new['id']}/actions", json={"type": "password_reset"})
    assert response.status_code == 201
    assert response.json()["action"]["type"] == "password_reset"
    assert (await droplet(do, new["id"]))["locked"] is True  # the power cycle
    emails = (await do.get("/_sandbox/emails", params={"server_id": new["id"]})).json()["emails"]
    assert emails[0]["kind"] == "password_reset"
    assert emails[0]["password"] not in response.text  # only the mail carries it


async def test_rebuild_takes_the_new_image_and_boots_again(do, wait):
    new = (await create(do))["droplet"]
    await wait(lambda: droplet(do, new["id"]), lambda d: d["status"] == "active")
    body = {"type": "rebuild", "image": "debian-12-x64"}
    rebuild = (await do.post(f"/v2/droplets/{new['id']}/actions", json=body)).json()["action"]
    await wait(lambda: action(do, rebuild["id"]), lambda a: a["status"] == "completed")
    assert (await droplet(do, new["id"]))["image"]["slug"] == "debian-12-x64"
    bad = await do.post(f"/v2/droplets/{new['id']}/actions", json={"type": "rebuild", "image": "x"})
    assert bad.status_code == 422


async def test_delete_is_204_and_the_droplet_is_gone(do):
    new = (await create(do))["droplet"]
    deleted = await do.delete(f"/v2/droplets/{new['id']}")
    assert deleted.status_code == 204 and deleted.content == b""
    gone = await do.get(f"/v2/droplets/{new['id']}")
    assert gone.status_code == 404 and gone.json()["id"] == "not_found"


async def test_invalid_create_is_422_in_digitalocean_shape_and_logged_invalid(do):
    response = await do.post("/v2/droplets", json={"name": "web-1", "image": "ubuntu-24-04-x64"})
    assert response.status_code == 422
    assert response.json()["id"] == "unprocessable_entity"
    assert "size" in response.json()["message"]
    logged = (await do.get("/_sandbox/requests", params={"valid": "false"})).json()["requests"]
    assert logged[-1]["operation"] == "droplets_create"
    assert logged[-1]["issues"] == [{"location": "body", "field": "size", "message": "is required"}]


async def test_unknown_action_type_and_bad_query_are_refused(do):
    new = (await create(do))["droplet"]
    bad_type = await do.post(f"/v2/droplets/{new['id']}/actions", json={"type": "explode"})
    assert bad_type.status_code == 422 and "type" in bad_type.json()["message"]
    too_many = await do.get("/v2/droplets", params={"per_page": 500})
    assert too_many.status_code == 422
    not_a_number = await do.get("/v2/droplets/abc")
    assert not_a_number.status_code == 404


async def test_token_is_checked_as_digitalocean_does(do_app, make_client):
    async with make_client(do_app, headers={}) as anonymous:
        missing = await anonymous.get("/v2/droplets")
        wrong_scheme = await anonymous.get("/v2/droplets", headers={"Authorization": "Token x"})
    assert missing.status_code == wrong_scheme.status_code == 401
    assert missing.json()["id"] == "unauthorized"
    do_app.state.provider.settings.token = "dop_v1_right"
    async with make_client(do_app, headers={"Authorization": "Bearer dop_v1_wrong"}) as wrong:
        assert (await wrong.get("/v2/droplets")).status_code == 401
    async with make_client(do_app, headers={"Authorization": "Bearer dop_v1_right"}) as right:
        assert (await right.get("/v2/droplets")).status_code == 200


async def test_every_response_carries_rate_limit_headers(do):
    first, second = await do.get("/v2/regions"), await do.get("/v2/nope")
    assert second.status_code == 404
    assert first.headers["ratelimit-limit"] == "5000"
    remaining = [int(r.headers["ratelimit-remaining"]) for r in (first, second)]
    assert remaining[1] == remaining[0] - 1
    assert int(first.headers["ratelimit-reset"]) > 0


async def test_catalog_offers_singapore_sizes_and_current_images(do):
    regions = (await do.get("/v2/regions")).json()["regions"]
    assert "sgp1" in {r["slug"] for r in regions}
    sizes = (await do.get("/v2/sizes")).json()["sizes"]
    assert (sizes[0]["vcpus"], sizes[0]["memory"]) == (1, 1024)
    assert (sizes[-1]["vcpus"], sizes[-1]["memory"]) == (8, 16384)
    slugs, url = [], "/v2/images?type=distribution&per_page=2"
    while url:
        page = (await do.get(url)).json()
        slugs += [i["slug"] for i in page["images"]]
        url = page["links"].get("pages", {}).get("next")
    assert {"ubuntu-24-04-x64", "debian-12-x64", "rockylinux-9-x64", "almalinux-9-x64"} <= set(
        slugs
    )
