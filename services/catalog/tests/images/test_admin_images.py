from __future__ import annotations

import httpx
from catalog_builders import make_basics, make_image, make_plan, make_provider
from catalog_helpers import assert_problem

IMAGES = "/api/v1/admin/catalog/images"


async def test_image_lifecycle_with_codes(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    await make_provider(client, admin, "digitalocean")
    await make_provider(client, admin, "vultr")
    image = await make_image(
        client, admin, "debian-12", codes={"digitalocean": "debian-12-x64", "vultr": "2136"},
        name="Debian 12", distribution="Debian", version="12",
    )  # fmt: skip
    assert image["codes"] == {"digitalocean": "debian-12-x64", "vultr": "2136"}
    changed = await client.patch(
        f"{IMAGES}/debian-12", json={"codes": {"vultr": "2136"}, "sort_order": 3}, headers=admin
    )
    assert changed.json()["codes"] == {"vultr": "2136"} and changed.json()["sort_order"] == 3
    assert (await client.delete(f"{IMAGES}/debian-12", headers=admin)).status_code == 204
    assert_problem(await client.get(f"{IMAGES}/debian-12", headers=admin), 404, "image_not_found")


async def test_refuses_shared_codes_and_bad_slugs(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await make_provider(client, admin, "digitalocean")
    await make_image(client, admin, "ubuntu-24.04")
    body = {"slug": "ubuntu-lts", "name": "U", "distribution": "Ubuntu", "version": "24.04"}
    assert_problem(
        await client.post(
            IMAGES, json={**body, "codes": {"digitalocean": "ubuntu-24-04-x64"}}, headers=admin
        ),
        409,
        "image_code_taken",
    )
    assert_problem(
        await client.post(IMAGES, json={**body, "slug": "Ubuntu LTS"}, headers=admin),
        422,
        "validation_error",
    )


async def test_a_deactivated_image_leaves_the_public_catalog(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await make_basics(client, admin)
    await make_plan(client, admin, slug="do-1gb")
    detail = (await client.get("/api/v1/catalog/plans/do-1gb")).json()
    assert [i["slug"] for i in detail["images"]] == ["ubuntu-24.04"]
    await client.patch(f"{IMAGES}/ubuntu-24.04", json={"active": False}, headers=admin)
    assert (await client.get("/api/v1/catalog/plans/do-1gb")).json()["images"] == []
    assert (await client.get("/api/v1/catalog/images")).json()["items"] == []
