"""The import end to end against the real provider service, itself talking to the devstack
DigitalOcean stand-in: proves the catalog's client and the provider's contract agree."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from catalog_builders import make_provider, make_region

from catalog_service.app import create_app
from catalog_service.config import CatalogSettings
from webrana_common.testing.client import running_app
from webrana_common.testing.live_server import LiveServer

CLOUD_TOKEN = "dop_v1_catalog-import-test"


@pytest.fixture(scope="session")
def real_provider_service() -> Iterator[str]:
    sandbox = pytest.importorskip("devstack.sandbox.digitalocean")
    settings_module = pytest.importorskip("devstack.sandbox.cloud.settings")
    provider_app = pytest.importorskip("provider_service.app")
    provider_config = pytest.importorskip("provider_service.config")
    cloud = sandbox.create_app(settings_module.DigitalOceanSandboxSettings(token=CLOUD_TOKEN))
    with LiveServer(cloud) as do:
        settings = provider_config.ProviderSettings(
            environment="test",
            internal_api_keys="catalog:catalog-test-key",
            digitalocean_api_url=f"{do.url}/v2",
            digitalocean_token=CLOUD_TOKEN,
            vultr_enabled=False,
            linode_enabled=False,
        )
        with LiveServer(provider_app.create_app(settings)) as provider:
            yield provider.url


async def test_import_through_the_real_provider_service(
    make_settings: Callable[..., CatalogSettings],
    database_url: str,
    admin: dict[str, str],
    real_provider_service: str,
) -> None:
    app = create_app(make_settings(database_url, provider_url=real_provider_service))
    async with running_app(app) as client:
        await make_provider(client, admin, "digitalocean", name="DigitalOcean")
        await make_region(client, admin, "sg-sin", codes={"digitalocean": "sgp1"})
        await make_region(client, admin, "in-blr", codes={"digitalocean": "blr1"}, name_en="B")
        response = await client.post(
            "/api/v1/admin/catalog/import", json={"provider": "digitalocean"}, headers=admin
        )
        assert response.status_code == 200, response.text
        report = response.json()
        monthly = {p["provider_size_slug"]: p["prices"]["monthly"] for p in report["proposals"]}
        # the stand-in's list prices: $6 ... $96, at Rp 16,500 + 30 %, rounded up to Rp 1,000
        assert monthly == {
            "s-1vcpu-1gb": 129_000,
            "s-1vcpu-2gb": 258_000,
            "s-2vcpu-2gb": 387_000,
            "s-2vcpu-4gb": 515_000,
            "s-4vcpu-8gb": 1_030_000,
            "s-8vcpu-16gb": 2_060_000,
        }
        assert all(p["regions"] == ["in-blr", "sg-sin"] for p in report["proposals"])
        assert {"syd1", "nyc3"} <= {r["code"] for r in report["unmapped_regions"]}
        assert "ubuntu-24-04-x64" in {i["code"] for i in report["unmapped_images"]}
        plans = (await client.get("/api/v1/admin/catalog/plans", headers=admin)).json()["items"]
        assert len(plans) == 6 and not any(p["active"] for p in plans)
        assert (await client.get("/api/v1/catalog/plans")).json()["items"] == []
