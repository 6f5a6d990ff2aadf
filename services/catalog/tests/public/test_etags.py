"""ETags from the catalog version, 304s, and the in-memory cache's invalidation."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event

from catalog_service.app import create_app
from catalog_service.config import CatalogSettings
from catalog_service.public.cache import PublicCatalogFastPath
from catalog_service.versioning.repository import bump
from webrana_common.testing.client import running_app

PUBLIC = [
    "/api/v1/catalog/plans",
    "/api/v1/catalog/plans?provider=linode&sort=-price",
    "/api/v1/catalog/plans/do-1c-1gb",
    "/api/v1/catalog/regions",
    "/api/v1/catalog/images",
    "/api/v1/catalog/providers",
]


async def _reprice(
    client: httpx.AsyncClient, admin: dict[str, str], slug: str, monthly: int
) -> None:
    plan_id = (await client.get(f"/api/v1/catalog/plans/{slug}")).json()["id"]
    response = await client.patch(
        f"/api/v1/admin/catalog/plans/{plan_id}",
        json={"prices": {"monthly": monthly}},
        headers=admin,
    )
    assert response.status_code == 200, response.text


async def test_public_reads_carry_etag_and_cache_control_and_answer_304(
    seeded_client: httpx.AsyncClient,
) -> None:
    for path in PUBLIC:
        first = await seeded_client.get(path)
        assert first.status_code == 200, path
        etag = first.headers["etag"]
        assert etag.startswith('"') and first.headers["cache-control"] == "public, max-age=60"

        again = await seeded_client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304, path
        assert again.content == b""
        assert again.headers["etag"] == etag
        assert again.headers["cache-control"] == "public, max-age=60"


async def test_weak_lists_and_star_match_too(seeded_client: httpx.AsyncClient) -> None:
    etag = (await seeded_client.get("/api/v1/catalog/plans")).headers["etag"]
    for header in (f"W/{etag}", f'"other", {etag}', "*"):
        response = await seeded_client.get(
            "/api/v1/catalog/plans", headers={"If-None-Match": header}
        )
        assert response.status_code == 304, header
    stale = await seeded_client.get("/api/v1/catalog/plans", headers={"If-None-Match": '"c1-0"'})
    assert stale.status_code == 200


async def test_an_admin_change_moves_the_etag_and_the_old_one_gets_the_new_body(
    seeded_client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    before = await seeded_client.get("/api/v1/catalog/plans/do-1c-1gb")
    await _reprice(seeded_client, admin, "do-1c-1gb", 135_000)
    after = await seeded_client.get(
        "/api/v1/catalog/plans/do-1c-1gb", headers={"If-None-Match": before.headers["etag"]}
    )
    assert after.status_code == 200
    assert after.headers["etag"] != before.headers["etag"]
    assert after.json()["prices"]["monthly"]["amount_idr"] == 135_000
    listed = await seeded_client.get("/api/v1/catalog/plans", params={"provider": "digitalocean"})
    assert listed.json()["items"][0]["prices"]["monthly"]["amount_idr"] == 135_000


async def test_another_instance_sees_the_change_within_the_check_interval(
    make_settings: Callable[..., CatalogSettings],
    seeded_database_url: str,
    admin: dict[str, str],
) -> None:
    def instance() -> FastAPI:
        return create_app(make_settings(seeded_database_url, catalog_version_check_seconds=0.05))

    async with running_app(instance()) as one, running_app(instance()) as two:
        etag = (await two.get("/api/v1/catalog/plans/vultr-1c-1gb")).headers["etag"]
        await _reprice(one, admin, "vultr-1c-1gb", 120_000)
        await asyncio.sleep(0.1)
        seen = await two.get("/api/v1/catalog/plans/vultr-1c-1gb", headers={"If-None-Match": etag})
        assert seen.status_code == 200
        assert seen.json()["prices"]["monthly"]["amount_idr"] == 120_000


async def test_cached_reads_and_304s_do_not_touch_the_database(
    make_settings: Callable[..., CatalogSettings], seeded_database_url: str
) -> None:
    app = create_app(make_settings(seeded_database_url, catalog_version_check_seconds=60))
    async with running_app(app) as client:
        etag = (await client.get("/api/v1/catalog/plans?sort=price")).headers["etag"]
        statements: list[Any] = []
        engine = app.state.db.engine.sync_engine
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            for _ in range(20):
                assert (await client.get("/api/v1/catalog/plans?sort=price")).status_code == 200
                response = await client.get(
                    "/api/v1/catalog/plans?sort=price", headers={"If-None-Match": etag}
                )
                assert response.status_code == 304
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        assert statements == []


async def test_a_version_bump_from_outside_reloads_the_snapshot_once(
    make_settings: Callable[..., CatalogSettings], seeded_database_url: str
) -> None:
    """Redis says the catalog moved (another instance committed): concurrent requests share
    one snapshot load, and all answer from the new snapshot."""
    app = create_app(make_settings(seeded_database_url, catalog_version_check_seconds=0.01))
    async with running_app(app) as client:
        old = (await client.get("/api/v1/catalog/regions")).headers["etag"]
        async with app.state.db.session() as session:
            version = await bump(session)
        await app.state.redis.set("catalog:version", version)
        await asyncio.sleep(0.02)
        assert await app.state.versions.current() == version
        loads: list[str] = []
        engine = app.state.db.engine.sync_engine

        def listener(*args: Any) -> None:
            if "FROM plan_prices" in args[2]:
                loads.append(args[2])

        event.listen(engine, "before_cursor_execute", listener)
        try:
            responses = await asyncio.gather(
                *(client.get("/api/v1/catalog/regions") for _ in range(10))
            )
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        assert {r.headers["etag"] for r in responses} == {f'"c1-{version}"'} != {old}
        assert len(loads) == 1


async def test_answers_from_memory_keep_request_ids_and_route_metrics(
    seeded_client: httpx.AsyncClient,
) -> None:
    first = await seeded_client.get("/api/v1/catalog/plans/do-1c-1gb")
    cached = await seeded_client.get(
        "/api/v1/catalog/plans/do-1c-1gb", headers={"X-Request-ID": "from-memory"}
    )
    not_modified = await seeded_client.get(
        "/api/v1/catalog/plans/do-1c-1gb", headers={"If-None-Match": first.headers["etag"]}
    )
    assert cached.headers["x-request-id"] == "from-memory"
    assert not_modified.status_code == 304 and not_modified.headers["x-request-id"]
    metrics = (await seeded_client.get("/metrics")).text
    assert (
        'http_requests_total{method="GET",route="/api/v1/catalog/plans/{plan}",'
        'service="catalog",status="200"} 2.0' in metrics
    )
    assert 'route="/api/v1/catalog/plans/{plan}",service="catalog",status="304"} 1.0' in metrics
    assert "do-1c-1gb" not in metrics


async def test_the_fast_path_answers_urls_already_rendered_and_only_those(
    make_settings: Callable[..., CatalogSettings], seeded_database_url: str
) -> None:
    app = create_app(make_settings(seeded_database_url))
    assert [m.cls for m in app.user_middleware][-1] is PublicCatalogFastPath  # innermost
    async with running_app(app) as client:
        rendered = await client.get("/api/v1/catalog/regions", params={"provider": "vultr"})
        catalog = app.state.public_catalog
        sent: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        def scope(query: bytes, *headers: tuple[bytes, bytes]) -> dict[str, Any]:
            return {
                "path": "/api/v1/catalog/regions",
                "query_string": query,
                "headers": list(headers),
            }

        assert await catalog.serve_from_memory(scope(b"provider=vultr"), send)
        assert sent[0]["status"] == 200 and sent[1]["body"] == rendered.content
        etag = rendered.headers["etag"].encode()
        assert await catalog.serve_from_memory(
            scope(b"provider=vultr", (b"if-none-match", etag)), send
        )
        assert sent[2]["status"] == 304 and sent[3]["body"] == b""
        assert not await catalog.serve_from_memory(scope(b"provider=linode"), send)
