"""Rolling-window request counts behind the rate-limit headers a provider sends.

The stand-ins report the numbers but never refuse on them (a long devstack session would hit
DigitalOcean's 5,000/hour); a 429 comes only from a `rate_limit` fault.
"""

from __future__ import annotations

import math
from collections import deque


class RateWindow:
    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self._hits: deque[float] = deque()

    def hit(self, now: float) -> tuple[int, int]:
        """Count a request; returns (remaining, reset) with reset the epoch second at which the
        oldest counted request leaves the window."""
        while self._hits and self._hits[0] <= now - self.seconds:
            self._hits.popleft()
        self._hits.append(now)
        remaining = max(0, self.limit - len(self._hits))
        return remaining, math.ceil(self._hits[0] + self.seconds)

    def clear(self) -> None:
        self._hits.clear()
