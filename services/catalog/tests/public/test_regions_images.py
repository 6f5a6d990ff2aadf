from __future__ import annotations

import httpx
from catalog_helpers import assert_problem


async def test_regions_carry_both_names_and_their_providers(
    seeded_client: httpx.AsyncClient,
) -> None:
    body = (await seeded_client.get("/api/v1/catalog/regions")).json()
    singapore = next(r for r in body["items"] if r["slug"] == "sg-sin")
    assert singapore == {
        "slug": "sg-sin",
        "name_id": "Singapura",
        "name_en": "Singapore",
        "country": "SG",
        "providers": ["digitalocean", "linode", "vultr"],
    }
    assert body["items"][0]["slug"] == "id-jkt"  # sort_order: Jakarta first

    do = await seeded_client.get("/api/v1/catalog/regions", params={"provider": "digitalocean"})
    assert [r["slug"] for r in do.json()["items"]] == ["sg-sin", "in-blr", "au-syd"]


async def test_regions_page(seeded_client: httpx.AsyncClient) -> None:
    first = (await seeded_client.get("/api/v1/catalog/regions", params={"limit": 4})).json()
    rest = (
        await seeded_client.get("/api/v1/catalog/regions", params={"cursor": first["next_cursor"]})
    ).json()
    slugs = [r["slug"] for r in first["items"] + rest["items"]]
    assert len(slugs) == len(set(slugs)) == 9
    assert rest["next_cursor"] is None


async def test_images_filter_by_provider_and_distribution(seeded_client: httpx.AsyncClient) -> None:
    ubuntu = await seeded_client.get("/api/v1/catalog/images", params={"distribution": "UBUNTU"})
    assert [i["slug"] for i in ubuntu.json()["items"]] == ["ubuntu-24.04", "ubuntu-22.04"]
    assert ubuntu.json()["items"][0]["providers"] == ["digitalocean", "linode", "vultr"]
    assert_problem(
        await seeded_client.get("/api/v1/catalog/images", params={"provider": "aws"}),
        422,
        "validation_error",
    )


async def test_providers_list(seeded_client: httpx.AsyncClient) -> None:
    body = (await seeded_client.get("/api/v1/catalog/providers")).json()
    assert body == {
        "items": [
            {"slug": "digitalocean", "name": "DigitalOcean"},
            {"slug": "vultr", "name": "Vultr"},
            {"slug": "linode", "name": "Akamai Linode"},
        ],
        "next_cursor": None,
    }
