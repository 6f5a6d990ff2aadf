"""A circuit breaker per service: after N consecutive failures calls fail fast for a while,
then one probe request decides whether the service is back.

Failures are what say "the service is not there": no connection, a timeout, a reset, or a
502/503/504 from the service itself. A 500 from one endpoint is a bug, not an outage.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from enum import StrEnum


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    def __init__(
        self,
        service: str,
        *,
        failure_threshold: int,
        open_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[str, CircuitState], None] | None = None,
    ) -> None:
        self.service = service
        self.failure_threshold = failure_threshold
        self.open_seconds = open_seconds
        self._clock = clock
        self._on_change = on_change
        self.state = CircuitState.CLOSED
        self.failures = 0
        self._opened_at = 0.0
        self._probe_in_flight = False

    def allow(self) -> bool:
        """Whether a request may go to the service now. In half-open, only one may."""
        state = self.state
        if state is CircuitState.CLOSED:
            return True
        if state is CircuitState.OPEN:
            if self._clock() - self._opened_at < self.open_seconds:
                return False
            self._set(CircuitState.HALF_OPEN)
        if self._probe_in_flight:
            return False
        self._probe_in_flight = True
        return True

    def retry_after(self) -> int:
        """Seconds until a probe will be let through (at least 1)."""
        if self.state is CircuitState.OPEN:
            left = self.open_seconds - (self._clock() - self._opened_at)
            return max(1, math.ceil(left))
        return 1

    def record_success(self) -> None:
        self.failures = 0
        self._probe_in_flight = False
        if self.state is not CircuitState.CLOSED:
            self._set(CircuitState.CLOSED)

    def record_failure(self) -> None:
        self.failures += 1
        self._probe_in_flight = False
        if self.state is CircuitState.HALF_OPEN or self.failures >= self.failure_threshold:
            self._opened_at = self._clock()
            self._set(CircuitState.OPEN)

    def release_probe(self) -> None:
        """The probe ended without a verdict (the client went away): let another one try."""
        self._probe_in_flight = False

    def _set(self, state: CircuitState) -> None:
        self.state = state
        if self._on_change is not None:
            self._on_change(self.service, state)
