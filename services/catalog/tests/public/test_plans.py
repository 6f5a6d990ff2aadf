"""The public plan list and detail on the seed catalog: filters, sorting, paging, errors."""

from __future__ import annotations

from typing import Any

import httpx
from catalog_helpers import assert_problem

PLANS = "/api/v1/catalog/plans"


async def _items(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    response = await client.get(PLANS, params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_lists_every_seeded_plan_with_rupiah_prices_for_each_cycle(
    seeded_client: httpx.AsyncClient,
) -> None:
    plans = await _items(seeded_client)
    assert len(plans) == 21
    assert {p["provider"]["slug"] for p in plans} == {"digitalocean", "vultr", "linode"}
    smallest = next(p for p in plans if p["slug"] == "do-1c-1gb")
    # $6 x 16,500 x 1.30 = 128,700 -> Rp 129,000; longer cycles 5/10/15 % off, rounded up
    assert {c: v["amount_idr"] for c, v in smallest["prices"].items()} == {
        "monthly": 129_000,
        "quarterly": 368_000,
        "semiannual": 697_000,
        "annual": 1_316_000,
    }
    assert smallest["prices"]["annual"]["per_month_idr"] == 109_667
    assert [r["slug"] for r in smallest["regions"]] == ["sg-sin", "in-blr", "au-syd"]


async def test_filters_by_provider_region_vcpus_and_memory(
    seeded_client: httpx.AsyncClient,
) -> None:
    vultr = await _items(seeded_client, provider="vultr")
    assert vultr and all(p["provider"]["slug"] == "vultr" for p in vultr)

    jakarta = await _items(seeded_client, region="id-jkt")
    assert {p["slug"] for p in jakarta} == {
        "linode-jkt-1c-1gb",
        "linode-jkt-1c-2gb",
        "linode-jkt-2c-4gb",
        "linode-jkt-4c-8gb",
    }

    big = await _items(seeded_client, min_vcpus=4, min_memory_mb=16384)
    assert {p["slug"] for p in big} == {"do-8c-16gb", "vultr-6c-16gb", "linode-6c-16gb"}


async def test_max_price_applies_to_the_chosen_cycle(seeded_client: httpx.AsyncClient) -> None:
    monthly = await _items(seeded_client, max_price=130_000)
    assert monthly and all(p["prices"]["monthly"]["amount_idr"] <= 130_000 for p in monthly)
    annual = await _items(seeded_client, max_price=1_200_000, cycle="annual")
    assert annual and all(p["prices"]["annual"]["amount_idr"] <= 1_200_000 for p in annual)
    # Rp 1.2 M a year buys plans whose monthly price is above Rp 100,000
    assert any(p["prices"]["monthly"]["amount_idr"] > 100_000 for p in annual)
    assert {p["slug"] for p in annual} != {p["slug"] for p in monthly}


async def test_sorts_by_price_vcpus_and_memory(seeded_client: httpx.AsyncClient) -> None:
    def monthly(plans: list[dict[str, Any]]) -> list[int]:
        return [p["prices"]["monthly"]["amount_idr"] for p in plans]

    cheap_first = await _items(seeded_client, sort="price")
    assert monthly(cheap_first) == sorted(monthly(cheap_first))
    dear_first = await _items(seeded_client, sort="-price")
    assert monthly(dear_first) == sorted(monthly(dear_first), reverse=True)

    annual = await _items(seeded_client, sort="price", cycle="annual")
    amounts = [p["prices"]["annual"]["amount_idr"] for p in annual]
    assert amounts == sorted(amounts)

    by_cpu = await _items(seeded_client, sort="-vcpus")
    assert [p["vcpus"] for p in by_cpu] == sorted((p["vcpus"] for p in by_cpu), reverse=True)
    by_memory = await _items(seeded_client, sort="memory")
    assert [p["memory_mb"] for p in by_memory] == sorted(p["memory_mb"] for p in by_memory)

    default = await _items(seeded_client)
    assert default[0]["slug"] == "linode-jkt-1c-1gb"  # our recommendation: sort_order


async def test_pages_with_a_cursor_without_repeating_or_skipping(
    seeded_client: httpx.AsyncClient,
) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"sort": "-price", "limit": 5}
        if cursor:
            params["cursor"] = cursor
        body = (await seeded_client.get(PLANS, params=params)).json()
        seen += [p["slug"] for p in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [p["slug"] for p in await _items(seeded_client, sort="-price")]
    assert len(seen) == len(set(seen)) == 21


async def test_a_cursor_of_another_sort_or_garbage_is_refused(
    seeded_client: httpx.AsyncClient,
) -> None:
    cursor = (await seeded_client.get(PLANS, params={"limit": 2})).json()["next_cursor"]
    other = await seeded_client.get(PLANS, params={"limit": 2, "sort": "price", "cursor": cursor})
    assert_problem(other, 400, "invalid_cursor")
    assert_problem(await seeded_client.get(PLANS, params={"cursor": "%%%"}), 400, "invalid_cursor")


async def test_invalid_filters_answer_problem_json_naming_the_field(
    seeded_client: httpx.AsyncClient,
) -> None:
    body = assert_problem(
        await seeded_client.get(PLANS, params={"provider": "aws"}), 422, "validation_error"
    )
    assert body["errors"][0]["field"] == "provider"
    assert "unknown provider 'aws'" in body["detail"] and "digitalocean" in body["detail"]

    body = assert_problem(
        await seeded_client.get(PLANS, params={"region": "us-nyc"}), 422, "validation_error"
    )
    assert body["errors"][0]["field"] == "region"

    body = assert_problem(
        await seeded_client.get(PLANS, params={"min_vcpus": "0", "cycle": "weekly"}),
        422,
        "validation_error",
    )
    assert {e["field"] for e in body["errors"]} == {"min_vcpus", "cycle"}
    assert_problem(await seeded_client.get(PLANS, params={"limit": "101"}), 422, "validation_error")


async def test_plan_detail_by_id_or_slug_lists_regions_and_images(
    seeded_client: httpx.AsyncClient,
) -> None:
    plan = (await _items(seeded_client, provider="vultr", limit=1))[0]
    by_id = await seeded_client.get(f"{PLANS}/{plan['id']}")
    by_slug = await seeded_client.get(f"{PLANS}/{plan['slug']}")
    assert by_id.status_code == by_slug.status_code == 200
    assert by_id.json() == by_slug.json()
    detail = by_id.json()
    assert {i["slug"] for i in detail["images"]} == {
        "ubuntu-24.04",
        "ubuntu-22.04",
        "debian-12",
        "rocky-9",
        "almalinux-9",
    }
    assert "kr-sel" in {r["slug"] for r in detail["regions"]}


async def test_unknown_plan_is_404(seeded_client: httpx.AsyncClient) -> None:
    assert_problem(await seeded_client.get(f"{PLANS}/no-such-plan"), 404, "plan_not_found")
    missing = "00000000-0000-4000-8000-000000000000"
    assert_problem(await seeded_client.get(f"{PLANS}/{missing}"), 404, "plan_not_found")
