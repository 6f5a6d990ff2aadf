from __future__ import annotations

import httpx
from catalog_builders import make_basics, make_plan, make_provider
from catalog_helpers import assert_problem

PROVIDERS = "/api/v1/admin/catalog/providers"


async def test_provider_crud(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    created = await make_provider(client, admin, "vultr", name="Vultr", sort_order=20)
    assert created["slug"] == "vultr" and created["active"] is True
    assert_problem(
        await client.post(PROVIDERS, json={"slug": "vultr", "name": "V"}, headers=admin),
        409,
        "provider_slug_taken",
    )
    renamed = await client.patch(f"{PROVIDERS}/vultr", json={"name": "Vultr Cloud"}, headers=admin)
    assert renamed.json()["name"] == "Vultr Cloud"
    assert_problem(
        await client.patch(f"{PROVIDERS}/vultr", json={"slug": "vultr2"}, headers=admin),
        422,
        "validation_error",
    )
    listed = (await client.get(PROVIDERS, headers=admin)).json()
    assert [p["slug"] for p in listed] == ["vultr"]
    assert (await client.delete(f"{PROVIDERS}/vultr", headers=admin)).status_code == 204
    assert_problem(await client.get(f"{PROVIDERS}/vultr", headers=admin), 404, "provider_not_found")


async def test_a_provider_with_plans_is_deactivated_not_deleted(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await make_basics(client, admin)
    await make_plan(client, admin)
    assert_problem(
        await client.delete(f"{PROVIDERS}/digitalocean", headers=admin), 409, "provider_in_use"
    )
    assert len((await client.get("/api/v1/catalog/plans")).json()["items"]) == 1
    await client.patch(f"{PROVIDERS}/digitalocean", json={"active": False}, headers=admin)
    assert (await client.get("/api/v1/catalog/plans")).json()["items"] == []
    assert (await client.get("/api/v1/catalog/providers")).json()["items"] == []
