"""The internal quote the order service charges from, on the seed catalog."""

from __future__ import annotations

from typing import Any

import httpx
from catalog_helpers import assert_problem


async def _plan_id(client: httpx.AsyncClient, slug: str) -> str:
    return (await client.get(f"/api/v1/catalog/plans/{slug}")).json()["id"]


async def _quote(
    client: httpx.AsyncClient, headers: dict[str, str], plan_id: str, **params: Any
) -> httpx.Response:
    return await client.get(f"/internal/plans/{plan_id}/quote", params=params, headers=headers)


async def test_quotes_each_cycle_with_the_provider_mapping(
    seeded_client: httpx.AsyncClient, internal: dict[str, str]
) -> None:
    plan_id = await _plan_id(seeded_client, "do-1c-1gb")
    expected = {
        "monthly": 129_000,
        "quarterly": 368_000,
        "semiannual": 697_000,
        "annual": 1_316_000,
    }
    for cycle, amount in expected.items():
        response = await _quote(
            seeded_client, internal, plan_id, cycle=cycle, region="sg-sin", image="ubuntu-24.04"
        )
        assert response.status_code == 200, response.text
        quote = response.json()
        assert quote["amount_idr"] == amount and quote["cycle"] == cycle
    assert {
        k: quote[k] for k in ("provider", "provider_size", "provider_region", "provider_image")
    } == {
        "provider": "digitalocean",
        "provider_size": "s-1vcpu-1gb",
        "provider_region": "sgp1",
        "provider_image": "ubuntu-24-04-x64",
    }
    assert quote["months"] == 12 and quote["currency"] == "IDR" and quote["catalog_version"] >= 2

    vultr = await _quote(
        seeded_client, internal, await _plan_id(seeded_client, "vultr-2c-4gb"),
        cycle="monthly", region="kr-sel", image="rocky-9",
    )  # fmt: skip
    assert (vultr.json()["provider_region"], vultr.json()["provider_image"]) == ("icn", "1869")
    jakarta = await _quote(
        seeded_client, internal, await _plan_id(seeded_client, "linode-jkt-1c-1gb"),
        cycle="monthly", region="id-jkt", image="debian-12",
    )  # fmt: skip
    assert (jakarta.json()["provider_region"], jakarta.json()["provider_image"]) == (
        "id-cgk",
        "linode/debian12",
    )


async def test_a_region_the_plan_is_not_offered_in_is_422(
    seeded_client: httpx.AsyncClient, internal: dict[str, str]
) -> None:
    do_plan = await _plan_id(seeded_client, "do-1c-1gb")
    body = assert_problem(
        await _quote(
            seeded_client, internal, do_plan, cycle="monthly", region="id-jkt", image="debian-12"
        ),
        422,
        "region_not_offered",
    )
    assert "id-jkt" in body["detail"]
    # Linode serves Jakarta, but this plan is not offered there (the Jakarta plans are)
    linode_plan = await _plan_id(seeded_client, "linode-1c-1gb")
    assert_problem(
        await _quote(
            seeded_client,
            internal,
            linode_plan,
            cycle="monthly",
            region="id-jkt",
            image="debian-12",
        ),
        422,
        "region_not_offered",
    )
    assert_problem(
        await _quote(
            seeded_client, internal, do_plan, cycle="monthly", region="mars-1", image="debian-12"
        ),
        422,
        "unknown_region",
    )


async def test_an_image_the_provider_does_not_have_is_422(
    seeded_client: httpx.AsyncClient, internal: dict[str, str], admin: dict[str, str]
) -> None:
    created = await seeded_client.post(
        "/api/v1/admin/catalog/images",
        json={"slug": "fedora-41", "name": "Fedora 41", "distribution": "Fedora", "version": "41",
              "codes": {"vultr": "2324"}},
        headers=admin,
    )  # fmt: skip
    assert created.status_code == 201
    do_plan = await _plan_id(seeded_client, "do-1c-1gb")
    body = assert_problem(
        await _quote(
            seeded_client, internal, do_plan, cycle="monthly", region="sg-sin", image="fedora-41"
        ),
        422,
        "image_not_offered",
    )
    assert "digitalocean" in body["detail"]
    assert_problem(
        await _quote(
            seeded_client, internal, do_plan, cycle="monthly", region="sg-sin", image="beos-5"
        ),
        422,
        "unknown_image",
    )


async def test_unknown_plan_is_404_and_bad_input_is_422(
    seeded_client: httpx.AsyncClient, internal: dict[str, str]
) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    assert_problem(
        await _quote(
            seeded_client, internal, missing, cycle="monthly", region="sg-sin", image="debian-12"
        ),
        404,
        "plan_not_found",
    )
    body = assert_problem(
        await _quote(seeded_client, internal, "not-a-uuid", cycle="weekly"), 422, "validation_error"
    )
    assert {e["field"] for e in body["errors"]} == {"plan_id", "cycle"}
    plan_id = await _plan_id(seeded_client, "do-1c-1gb")
    body = assert_problem(
        await _quote(seeded_client, internal, plan_id, cycle="monthly"), 422, "validation_error"
    )
    assert {e["field"] for e in body["errors"]} == {"region", "image"}
    assert_problem(
        await _quote(
            seeded_client, {}, plan_id, cycle="monthly", region="sg-sin", image="debian-12"
        ),
        401,
        "api_key_invalid",
    )


async def test_an_inactive_plan_is_422_for_new_orders_but_still_renews(
    seeded_client: httpx.AsyncClient, internal: dict[str, str], admin: dict[str, str]
) -> None:
    plan_id = await _plan_id(seeded_client, "vultr-1c-1gb")
    await seeded_client.patch(
        f"/api/v1/admin/catalog/plans/{plan_id}", json={"active": False}, headers=admin
    )
    body = assert_problem(
        await _quote(
            seeded_client, internal, plan_id, cycle="monthly", region="sg-sin", image="debian-12"
        ),
        422,
        "plan_inactive",
    )
    assert "vultr-1c-1gb" in body["detail"]
    renewal = await _quote(seeded_client, internal, plan_id, cycle="annual", renewal="true")
    assert renewal.status_code == 200, renewal.text
    assert renewal.json()["plan_active"] is False
    assert renewal.json()["region"] is None and renewal.json()["provider_size"] == "vc2-1c-1gb"


async def test_a_quote_follows_every_catalog_change_at_once(
    seeded_client: httpx.AsyncClient, internal: dict[str, str], admin: dict[str, str]
) -> None:
    """Quotes are served from memory while the catalog version is unchanged: a new price, a
    new provider code or a retired region shows in the very next quote."""
    plan_id = await _plan_id(seeded_client, "do-1c-1gb")
    params = {"cycle": "monthly", "region": "sg-sin", "image": "ubuntu-24.04"}
    first = (await _quote(seeded_client, internal, plan_id, **params)).json()
    again = (await _quote(seeded_client, internal, plan_id, **params)).json()
    assert (again["amount_idr"], again["catalog_version"]) == (
        first["amount_idr"],
        first["catalog_version"],
    )
    assert again["quoted_at"] >= first["quoted_at"]

    changed = await seeded_client.patch(
        f"/api/v1/admin/catalog/plans/{plan_id}",
        json={"prices": {"monthly": 135_000}},
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    repriced = (await _quote(seeded_client, internal, plan_id, **params)).json()
    assert repriced["amount_idr"] == 135_000
    assert repriced["catalog_version"] > first["catalog_version"]

    region = await seeded_client.get("/api/v1/admin/catalog/regions/sg-sin", headers=admin)
    codes = {**region.json()["codes"], "digitalocean": "sgp2"}
    recoded = await seeded_client.patch(
        "/api/v1/admin/catalog/regions/sg-sin", json={"codes": codes}, headers=admin
    )
    assert recoded.status_code == 200, recoded.text
    moved = (await _quote(seeded_client, internal, plan_id, **params)).json()
    assert moved["provider_region"] == "sgp2"

    retired = await seeded_client.patch(
        "/api/v1/admin/catalog/regions/sg-sin", json={"active": False}, headers=admin
    )
    assert retired.status_code == 200, retired.text
    assert_problem(
        await _quote(seeded_client, internal, plan_id, **params), 422, "region_not_offered"
    )
