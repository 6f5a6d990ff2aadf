from __future__ import annotations

import httpx
from catalog_builders import make_basics, make_plan, make_provider, make_region
from catalog_helpers import assert_problem

REGIONS = "/api/v1/admin/catalog/regions"


async def test_creates_a_region_with_provider_codes(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await make_provider(client, admin, "digitalocean")
    await make_provider(client, admin, "linode")
    region = await make_region(
        client, admin, "sg-sin", codes={"digitalocean": "sgp1", "linode": "ap-south"}, country="sg"
    )
    assert region["codes"] == {"digitalocean": "sgp1", "linode": "ap-south"}
    assert region["country"] == "SG"
    fetched = (await client.get(f"{REGIONS}/sg-sin", headers=admin)).json()
    assert fetched == region


async def test_refuses_unknown_providers_shared_codes_and_taken_slugs(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await make_provider(client, admin, "digitalocean")
    await make_region(client, admin, "sg-sin", codes={"digitalocean": "sgp1"})
    body = {"slug": "sg-two", "name_id": "S", "name_en": "S", "country": "SG"}
    assert_problem(
        await client.post(REGIONS, json={**body, "codes": {"aws": "ap-1"}}, headers=admin),
        422,
        "unknown_provider",
    )
    assert_problem(
        await client.post(REGIONS, json={**body, "codes": {"digitalocean": "sgp1"}}, headers=admin),
        409,
        "region_code_taken",
    )
    assert_problem(
        await client.post(REGIONS, json={**body, "slug": "sg-sin"}, headers=admin),
        409,
        "region_slug_taken",
    )
    bad = assert_problem(
        await client.post(
            REGIONS, json={**body, "country": "SGP", "codes": {"x": "a b"}}, headers=admin
        ),
        422,
        "validation_error",
    )
    assert {"country"} <= {e["field"] for e in bad["errors"]}


async def test_a_region_plans_are_offered_in_cannot_be_deleted_or_lose_their_code(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await make_basics(client, admin)
    await make_plan(client, admin, slug="do-1gb")
    body = assert_problem(
        await client.delete(f"{REGIONS}/sg-sin", headers=admin), 409, "region_in_use"
    )
    assert "do-1gb" in body["detail"]
    assert_problem(
        await client.patch(f"{REGIONS}/sg-sin", json={"codes": {}}, headers=admin),
        409,
        "region_in_use",
    )
    deactivated = await client.patch(f"{REGIONS}/sg-sin", json={"active": False}, headers=admin)
    assert deactivated.json()["active"] is False
    # no active region left for the plan: nothing to buy
    assert (await client.get("/api/v1/catalog/plans")).json()["items"] == []


async def test_deletes_an_unused_region(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    await make_provider(client, admin, "digitalocean")
    await make_region(client, admin, "in-blr", codes={"digitalocean": "blr1"})
    assert (await client.delete(f"{REGIONS}/in-blr", headers=admin)).status_code == 204
    assert_problem(await client.get(f"{REGIONS}/in-blr", headers=admin), 404, "region_not_found")


async def test_lists_regions_in_pages(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    await make_provider(client, admin, "digitalocean")
    for i in range(3):
        await make_region(client, admin, f"r-{i}", codes={"digitalocean": f"c{i}"})
    first = (await client.get(REGIONS, params={"limit": 2}, headers=admin)).json()
    rest = (
        await client.get(
            REGIONS, params={"limit": 2, "cursor": first["next_cursor"]}, headers=admin
        )
    ).json()
    assert [r["slug"] for r in first["items"] + rest["items"]] == ["r-0", "r-1", "r-2"]
    assert rest["next_cursor"] is None
