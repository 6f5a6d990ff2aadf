"""Import from the provider service (a stand-in speaking its metadata contract) on the seed
catalog: inactive proposals at the configured markup, drift reports, failures."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from catalog_builders import make_plan
from catalog_helpers import ProviderStandIn, assert_problem

from catalog_service.app import create_app
from catalog_service.config import CatalogSettings
from webrana_common.testing.client import running_app

IMPORT = "/api/v1/admin/catalog/import"


def _size(
    code: str,
    vcpus: int,
    memory_mb: int,
    disk: int,
    usd: float | None,
    regions: list[str],
    **kw: Any,
) -> dict:
    return {
        "id": code, "vcpus": vcpus, "memory_mb": memory_mb, "disk_gb": disk,
        "transfer_gb": kw.pop("transfer_gb", 1000), "price_monthly_usd": usd,
        "price_hourly_usd": None, "regions": regions, "available": kw.pop("available", True),
    }  # fmt: skip


DIGITALOCEAN = {
    "regions": [
        {"id": "sgp1", "name": "Singapore 1", "country": "SG", "available": True, "features": []},
        {"id": "blr1", "name": "Bangalore 1", "country": "IN", "available": True, "features": []},
        {"id": "nyc3", "name": "New York 3", "country": "US", "available": True, "features": []},
        {"id": "syd1", "name": "Sydney 1", "country": "AU", "available": False, "features": []},
    ],
    "sizes": [
        _size("s-1vcpu-1gb", 1, 1024, 25, 6.0, ["sgp1", "nyc3"]),  # we sell it already
        _size("s-1vcpu-512mb-10gb", 1, 512, 10, 4.0, ["sgp1", "nyc3"], transfer_gb=500),
        _size("s-4vcpu-16gb-amd", 4, 16384, 200, 84.0, []),  # [] = every region
        _size("c-2", 2, 4096, 25, 42.0, ["nyc3"]),
        _size("gpu-h100x1-80gb", 20, 245760, 720, 4529.3, ["sgp1"]),
        _size("s-2vcpu-2gb-old", 2, 2048, 60, 18.0, ["sgp1"], available=False),
    ],
    "images": [
        {"id": "ubuntu-24-04-x64", "name": "Ubuntu 24.04 (LTS) x64", "distribution": "Ubuntu"},
        {"id": "ubuntu-22-04-x64", "name": "Ubuntu 22.04 (LTS) x64", "distribution": "Ubuntu"},
        {"id": "debian-12-x64", "name": "Debian 12 x64", "distribution": "Debian"},
        {"id": "fedora-41-x64", "name": "Fedora 41 x64", "distribution": "Fedora"},
    ],
}


@pytest.fixture
def do_provider(provider_service: ProviderStandIn) -> ProviderStandIn:
    provider_service.data["digitalocean"] = DIGITALOCEAN
    return provider_service


async def _run(client: httpx.AsyncClient, admin: dict[str, str], **body: Any) -> httpx.Response:
    return await client.post(IMPORT, json={"provider": "digitalocean", **body}, headers=admin)


async def test_proposes_inactive_plans_at_the_markup_for_sizes_we_do_not_sell(
    seeded_client: httpx.AsyncClient, admin: dict[str, str], do_provider: ProviderStandIn
) -> None:
    response = await _run(seeded_client, admin, max_price_monthly_usd="1000")
    assert response.status_code == 200, response.text
    report = response.json()
    assert [p["provider_size_slug"] for p in report["proposals"]] == [
        "s-1vcpu-512mb-10gb",
        "s-4vcpu-16gb-amd",
    ]
    small = report["proposals"][0]
    # $4 x 16,500 x 1.30 = 85,800 -> Rp 86,000; 5/10/15 % off the longer cycles, rounded up
    assert small["prices"] == {
        "monthly": 86_000,
        "quarterly": 246_000,
        "semiannual": 465_000,
        "annual": 878_000,
    }
    assert small["regions"] == ["sg-sin"]  # nyc3 is none of ours
    assert small["slug"] == "digitalocean-s-1vcpu-512mb-10gb"
    assert small["name"] == "DigitalOcean 1 vCPU 512 MB"
    everywhere = report["proposals"][1]
    assert everywhere["regions"] == ["in-blr", "sg-sin"]  # syd1 is unavailable at the provider
    assert everywhere["prices"]["monthly"] == 1_802_000  # 84 x 16,500 x 1.3 = 1,801,800

    skipped = {s["size"]: s["reason"] for s in report["skipped"]}
    assert skipped == {
        "s-1vcpu-1gb": "already_planned",
        "c-2": "not_in_our_regions",
        "gpu-h100x1-80gb": "over_max_price",
        "s-2vcpu-2gb-old": "unavailable",
    }
    assert report["unmapped_regions"] == [{"code": "nyc3", "name": "New York 3"}]
    assert report["stale_region_codes"] == [{"slug": "au-syd", "code": "syd1"}]
    assert {s["code"] for s in report["stale_image_codes"]} == {
        "rockylinux-9-x64",
        "almalinux-9-x64",
    }
    assert report["unmapped_images"] == [{"code": "fedora-41-x64", "name": "Fedora 41 x64"}]

    plan = (
        await seeded_client.get(f"/api/v1/admin/catalog/plans/{small['plan_id']}", headers=admin)
    ).json()
    assert plan["active"] is False and plan["prices"] == small["prices"]
    public = await seeded_client.get(f"/api/v1/catalog/plans/{small['slug']}")
    assert_problem(public, 404, "plan_not_found")  # inactive until reviewed
    trail = (
        await seeded_client.get(
            "/api/v1/admin/catalog/audit", params={"action": "plan.imported"}, headers=admin
        )
    ).json()
    assert {e["target_slug"] for e in trail["items"]} == {p["slug"] for p in report["proposals"]}
    assert {key for _, _, key in do_provider.calls} == {"catalog-test-key"}


async def test_a_second_run_proposes_nothing_new(
    seeded_client: httpx.AsyncClient, admin: dict[str, str], do_provider: ProviderStandIn
) -> None:
    first = (await _run(seeded_client, admin)).json()
    second = (await _run(seeded_client, admin)).json()
    assert first["proposals"] and second["proposals"] == []
    assert {s["size"] for s in second["skipped"] if s["reason"] == "already_planned"} >= {
        p["provider_size_slug"] for p in first["proposals"]
    }


async def test_a_slug_already_used_gets_a_suffix(
    seeded_client: httpx.AsyncClient, admin: dict[str, str], do_provider: ProviderStandIn
) -> None:
    await make_plan(seeded_client, admin, slug="digitalocean-s-1vcpu-512mb-10gb")
    report = (await _run(seeded_client, admin)).json()
    slugs = {p["provider_size_slug"]: p["slug"] for p in report["proposals"]}
    assert slugs["s-1vcpu-512mb-10gb"] == "digitalocean-s-1vcpu-512mb-10gb-2"


async def test_a_dry_run_creates_nothing(
    seeded_client: httpx.AsyncClient, admin: dict[str, str], do_provider: ProviderStandIn
) -> None:
    report = (await _run(seeded_client, admin, dry_run=True)).json()
    assert report["proposals"] and all(p["plan_id"] is None for p in report["proposals"])
    listed = (
        await seeded_client.get(
            "/api/v1/admin/catalog/plans", params={"active": "false"}, headers=admin
        )
    ).json()
    assert listed["items"] == []


@pytest.fixture
async def priced_client(
    make_settings: Callable[..., CatalogSettings], seeded_database_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(
        seeded_database_url,
        usd_idr_rate="16000",
        plan_markup_percent="25",
        plan_price_step_idr=5000,
        plan_discount_annual_percent="20",
    )
    async with running_app(create_app(settings)) as client:
        yield client


async def test_rate_markup_step_and_discounts_come_from_settings(
    priced_client: httpx.AsyncClient, admin: dict[str, str], do_provider: ProviderStandIn
) -> None:
    report = (await _run(priced_client, admin)).json()
    assert (report["usd_idr_rate"], report["markup_percent"], report["price_step_idr"]) == (
        "16000",
        "25",
        5000,
    )
    small = report["proposals"][0]
    # $4 x 16,000 x 1.25 = 80,000 exactly; annual 12 x 80,000 x 0.80 = 768,000 -> 770,000
    assert small["prices"]["monthly"] == 80_000
    assert small["prices"]["annual"] == 770_000


async def test_provider_service_failures_are_clear_problems(
    seeded_client: httpx.AsyncClient, admin: dict[str, str], provider_service: ProviderStandIn
) -> None:
    body = assert_problem(await _run(seeded_client, admin), 422, "provider_not_supported")
    assert "digitalocean" in body["detail"]
    provider_service.data["digitalocean"] = DIGITALOCEAN
    provider_service.failing = True
    body = assert_problem(await _run(seeded_client, admin), 502, "provider_service_unavailable")
    assert "503" in body["detail"]
    assert_problem(
        await seeded_client.post(IMPORT, json={"provider": "aws"}, headers=admin),
        422,
        "unknown_provider",
    )
