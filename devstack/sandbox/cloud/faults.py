"""Queued faults: the next N matching provider API calls fail in a chosen way.

- `error`: answer `status` (default 500) in the provider's error shape;
- `rate_limit`: answer 429 with `Retry-After` and the provider's rate-limit headers;
- `timeout`: hold the call for `seconds` (longer than the client waits). With `process` the
  call is carried out first and only its answer is held back, so the client times out on work
  that did happen (the case idempotency keys exist for); without it, nothing happens and a 504
  comes at the end.

A fault matches every call unless narrowed by `method`, `path` (a glob over the request path,
`/v2/droplets*`) or `operation` (the spec's operationId, `droplets_create`).
"""

from __future__ import annotations

import asyncio
import fnmatch
import itertools
from dataclasses import asdict, dataclass
from typing import Any, Literal

FaultKind = Literal["error", "rate_limit", "timeout"]


@dataclass
class Fault:
    id: int
    kind: FaultKind
    remaining: int
    status: int = 500
    retry_after: int = 1
    seconds: float = 30.0
    process: bool = False
    message: str | None = None
    method: str | None = None
    path: str | None = None
    operation: str | None = None

    def matches(self, method: str, path: str, operation: str | None) -> bool:
        return (
            (self.method is None or self.method.upper() == method.upper())
            and (self.path is None or fnmatch.fnmatchcase(path, self.path))
            and (self.operation is None or self.operation == operation)
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class FaultQueue:
    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)
        self._release: asyncio.Event | None = None

    def add(self, kind: FaultKind, count: int = 1, **options: Any) -> Fault:
        fault = Fault(id=next(self._ids), kind=kind, remaining=count, **options)
        self._faults.append(fault)
        return fault

    def take(self, method: str, path: str, operation: str | None) -> Fault | None:
        """The first pending fault for this call, counted as used."""
        for fault in self._faults:
            if fault.matches(method, path, operation):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def pending(self) -> list[Fault]:
        return list(self._faults)

    def clear(self) -> None:
        """Forget pending faults and let every held call go at once."""
        self._faults.clear()
        if self._release is not None:
            self._release.set()
            self._release = None

    async def hold(self, seconds: float) -> None:
        if self._release is None:
            self._release = asyncio.Event()
        try:
            await asyncio.wait_for(self._release.wait(), timeout=seconds)
        except TimeoutError:
            pass
