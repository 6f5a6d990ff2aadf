"""A circuit breaker per service: N consecutive failures open it (503 + Retry-After at once,
without trying the service), then one probe decides whether it closes again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from conftest import RunningGateway, closed_port
from gateway_tokens import TokenMint
from gateway_upstreams import Upstream

from gateway_service.circuit_breaker import CircuitBreaker, CircuitState


async def test_failures_open_the_circuit_and_a_probe_closes_it(
    start_gateway: Callable[..., RunningGateway], mint: TokenMint
) -> None:
    port = closed_port()
    gateway = start_gateway(
        order_url=f"http://127.0.0.1:{port}",
        circuit_failure_threshold=2,
        circuit_open_seconds=0.5,
        upstream_retries=0,
    )
    user = mint.bearer()
    async with gateway.client() as client:
        first = await client.get("/api/v1/orders", headers=user)
        second = await client.get("/api/v1/orders", headers=user)
        started = time.monotonic()
        fast = await client.get("/api/v1/orders", headers=user)
        assert time.monotonic() - started < 0.2
        assert [first.json()["code"], second.json()["code"]] == ["upstream_unavailable"] * 2
        assert fast.status_code == 503
        assert fast.json()["code"] == "circuit_open"
        assert fast.json()["service"] == "order"
        assert fast.headers["retry-after"] == "1"
        assert 'gateway_circuit_state{service="order"} 2.0' in (await client.get("/metrics")).text
        # Other services are not affected.
        assert (await client.get("/api/v1/catalog/plans")).status_code == 200

        upstream = Upstream("order").start(port=port)
        try:
            await asyncio.sleep(0.6)
            probe = await client.get("/api/v1/orders", headers=user)
            after = await client.get("/api/v1/orders", headers=user)
            metrics = (await client.get("/metrics")).text
        finally:
            upstream.stop()
    assert probe.status_code == 200
    assert after.status_code == 200
    assert 'gateway_circuit_state{service="order"} 0.0' in metrics
    assert len(upstream.requests) == 2


async def test_gateway_errors_from_the_service_count_as_failures_and_500s_do_not(
    start_gateway: Callable[..., RunningGateway], upstreams: dict[str, Upstream]
) -> None:
    gateway = start_gateway(circuit_failure_threshold=3, circuit_open_seconds=30)
    async with gateway.client() as client:
        bugs = [await client.get("/api/v1/catalog/p?echo_status=500") for _ in range(4)]
        assert [r.status_code for r in bugs] == [500] * 4
        outage = [await client.get("/api/v1/catalog/p?echo_status=503") for _ in range(3)]
        assert [r.status_code for r in outage] == [503] * 3
        refused = await client.get("/api/v1/catalog/p")
    assert refused.status_code == 503
    assert refused.json()["code"] == "circuit_open"
    assert len(upstreams["catalog"].requests) == 7


def test_half_open_lets_exactly_one_probe_through() -> None:
    now = [0.0]
    breaker = CircuitBreaker("order", failure_threshold=2, open_seconds=10, clock=lambda: now[0])
    breaker.record_failure()
    assert breaker.state is CircuitState.CLOSED and breaker.allow()
    breaker.record_failure()
    assert breaker.state is CircuitState.OPEN
    assert not breaker.allow()
    assert breaker.retry_after() == 10
    now[0] = 10.0
    assert breaker.allow()  # the probe
    assert breaker.state is CircuitState.HALF_OPEN
    assert not breaker.allow()  # everyone else still fails fast
    breaker.record_failure()
    assert breaker.state is CircuitState.OPEN  # a failed probe re-opens for a full period
    now[0] = 15.0
    assert not breaker.allow()
    now[0] = 20.0
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is CircuitState.CLOSED
    assert breaker.allow() and breaker.allow()


def test_a_success_resets_the_count_of_consecutive_failures() -> None:
    breaker = CircuitBreaker("order", failure_threshold=2, open_seconds=10)
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state is CircuitState.CLOSED
