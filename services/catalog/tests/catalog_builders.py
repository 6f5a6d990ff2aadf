"""Small builders for the catalog tests, through the admin API (so each row is made by the
same rules as in production). Imported by module name; see conftest.py."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from catalog_helpers import PRICES

ADMIN = "/api/v1/admin/catalog"


async def _post(client: httpx.AsyncClient, admin: dict[str, str], path: str, body: dict) -> dict:
    response = await client.post(f"{ADMIN}/{path}", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return response.json()


async def make_provider(
    client: httpx.AsyncClient, admin: dict[str, str], slug: str = "digitalocean", **fields: Any
) -> dict[str, Any]:
    body = {"slug": slug, "name": fields.pop("name", slug.title()), **fields}
    return await _post(client, admin, "providers", body)


async def make_region(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    slug: str = "sg-sin",
    codes: dict[str, str] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    body = {
        "slug": slug,
        "name_id": fields.pop("name_id", "Singapura"),
        "name_en": fields.pop("name_en", "Singapore"),
        "country": fields.pop("country", "SG"),
        "codes": {"digitalocean": "sgp1"} if codes is None else codes,
        **fields,
    }
    return await _post(client, admin, "regions", body)


async def make_image(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    slug: str = "ubuntu-24.04",
    codes: dict[str, str] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    body = {
        "slug": slug,
        "name": fields.pop("name", "Ubuntu 24.04 LTS"),
        "distribution": fields.pop("distribution", "Ubuntu"),
        "version": fields.pop("version", "24.04"),
        "codes": {"digitalocean": "ubuntu-24-04-x64"} if codes is None else codes,
        **fields,
    }
    return await _post(client, admin, "images", body)


def plan_body(**overrides: Any) -> dict[str, Any]:
    return {
        "slug": f"plan-{uuid.uuid4().hex[:8]}",
        "name": "Basic 1 GB",
        "provider": "digitalocean",
        "provider_size_slug": "s-1vcpu-1gb",
        "vcpus": 1,
        "memory_mb": 1024,
        "disk_gb": 25,
        "transfer_gb": 1000,
        "prices": dict(PRICES),
        "regions": ["sg-sin"],
        **overrides,
    }


async def make_plan(client: httpx.AsyncClient, admin: dict[str, str], **overrides: Any) -> dict:
    return await _post(client, admin, "plans", plan_body(**overrides))


async def make_basics(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    """DigitalOcean with Singapore and Ubuntu: enough for a plan."""
    await make_provider(client, admin, "digitalocean", name="DigitalOcean")
    await make_region(client, admin)
    await make_image(client, admin)
