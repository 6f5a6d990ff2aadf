"""The gateway's own series, beside the fleet's http_* ones."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

from gateway_service.circuit_breaker import CircuitState

_STATE_VALUE = {CircuitState.CLOSED: 0, CircuitState.HALF_OPEN: 1, CircuitState.OPEN: 2}


class GatewayMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        # Labelled children, looked up once: labels() costs more than inc() itself.
        self._outcomes: dict[tuple[str, str], Counter] = {}
        self.upstream = Counter(
            "gateway_upstream_requests_total",
            "Requests forwarded to a service, by outcome "
            "(ok, connect_error, timeout, closed, bad_response, status_50x, circuit_open)",
            ["service", "outcome"],
            registry=registry,
        )
        self.circuit = Gauge(
            "gateway_circuit_state",
            "Circuit breaker per service: 0 closed, 1 half-open, 2 open",
            ["service"],
            registry=registry,
        )
        self.websockets = Gauge(
            "gateway_websocket_connections",
            "WebSocket connections being proxied",
            ["service"],
            registry=registry,
        )

    def upstream_outcome(self, service: str, outcome: str) -> None:
        child = self._outcomes.get((service, outcome))
        if child is None:
            child = self._outcomes[(service, outcome)] = self.upstream.labels(service, outcome)
        child.inc()

    def circuit_changed(self, service: str, state: CircuitState) -> None:
        self.circuit.labels(service).set(_STATE_VALUE[state])
