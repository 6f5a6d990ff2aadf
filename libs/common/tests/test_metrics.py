"""Prometheus metrics labelled by route template, so the number of series stays bounded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from webrana_common.metrics import BUCKETS, UNMATCHED
from webrana_common.testing.client import running_app

Labels = dict[str, str]


@dataclass
class Service:
    app: FastAPI
    client: httpx.AsyncClient
    gate: asyncio.Event
    entered: asyncio.Event

    async def hit(self, path: str, method: str = "GET") -> int:
        """One request through the full middleware stack, without an HTTP client's overhead:
        10,000 of these take about 1.5 s."""
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"test")],
            "client": ("127.0.0.1", 50000),
            "server": ("test", 80),
        }
        statuses: list[int] = []

        async def receive() -> dict[str, object]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(int(message["status"]))  # type: ignore[call-overload]

        await self.app(scope, receive, send)  # type: ignore[arg-type]
        return statuses[0]

    async def series(self, name: str) -> list[tuple[Labels, float]]:
        response = await self.client.get("/metrics")
        assert response.status_code == 200
        return [
            (sample.labels, sample.value)
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples
            if sample.name == name
        ]


@pytest.fixture
async def service(make_app: Callable[..., FastAPI]) -> AsyncIterator[Service]:
    app = make_app(service_name="catalog")
    gate, entered = asyncio.Event(), asyncio.Event()

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    @app.get("/slow")
    async def slow() -> dict[str, bool]:
        entered.set()
        await gate.wait()
        return {"done": True}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("bug")

    async with running_app(app) as client:
        yield Service(app, client, gate, entered)


async def test_distinct_ids_share_one_series_per_route_template(service: Service) -> None:
    for item_id in range(10_000):
        assert await service.hit(f"/items/{item_id}") == 200

    series = await service.series("http_requests_total")

    assert series == [
        (
            {"service": "catalog", "method": "GET", "route": "/items/{item_id}", "status": "200"},
            10_000,
        )
    ]


async def test_unknown_paths_collapse_into_one_unmatched_series(service: Service) -> None:
    for n in range(10_000):
        assert await service.hit(f"/scan/{n}/wp-admin.php") == 404

    series = await service.series("http_requests_total")

    assert series == [
        ({"service": "catalog", "method": "GET", "route": UNMATCHED, "status": "404"}, 10_000)
    ]


async def test_unknown_methods_collapse_into_one_series(service: Service) -> None:
    for n in range(200):
        assert await service.hit("/items/1", method=f"PROBE{n}") == 405

    series = await service.series("http_requests_total")
    gauges = await service.series("http_requests_in_progress")

    assert series == [
        (
            {"service": "catalog", "method": "OTHER", "route": "/items/{item_id}", "status": "405"},
            200,
        )
    ]
    assert [labels["method"] for labels, _ in gauges] == ["OTHER"]


async def test_request_duration_is_a_histogram_per_route(service: Service) -> None:
    for item_id in range(3):
        await service.hit(f"/items/{item_id}")

    buckets = await service.series("http_request_duration_seconds_bucket")
    counts = await service.series("http_request_duration_seconds_count")

    route_buckets = [(labels["le"], value) for labels, value in buckets]
    assert len(route_buckets) == len(BUCKETS) + 1
    assert route_buckets[-1] == ("+Inf", 3)
    assert counts == [({"service": "catalog", "method": "GET", "route": "/items/{item_id}"}, 3)]


async def test_in_progress_gauge_counts_requests_being_handled(service: Service) -> None:
    pending = asyncio.create_task(service.client.get("/slow"))
    await service.entered.wait()

    during = await service.series("http_requests_in_progress")
    service.gate.set()
    assert (await pending).status_code == 200
    after = await service.series("http_requests_in_progress")

    assert during == [({"service": "catalog", "method": "GET"}, 1)]
    assert after == [({"service": "catalog", "method": "GET"}, 0)]


async def test_unhandled_error_is_counted_as_500(service: Service) -> None:
    with pytest.raises(RuntimeError, match="bug"):
        await service.hit("/boom")

    series = await service.series("http_requests_total")
    gauges = await service.series("http_requests_in_progress")

    assert series == [
        ({"service": "catalog", "method": "GET", "route": "/boom", "status": "500"}, 1)
    ]
    assert gauges == [({"service": "catalog", "method": "GET"}, 0)]


async def test_each_app_has_its_own_registry(
    service: Service, make_app: Callable[..., FastAPI]
) -> None:
    await service.hit("/items/1")
    other = make_app(service_name="order")

    async with running_app(other) as client:
        response = await client.get("/metrics")

    assert "catalog" not in response.text
