"""What a stand-in was asked, and whether each request was valid against the provider's spec,
so the provider service's tests can assert that their adapter speaks the official API."""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

# Request headers worth keeping; Authorization is reduced to whether it passed.
KEPT_HEADERS = ("content-type", "x-filter", "user-agent", "x-request-id", "idempotency-key")


@dataclass
class LoggedRequest:
    id: int
    at: str
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    operation: str | None
    valid: bool
    issues: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    auth: str | None = None  # "ok" | "missing" | "invalid" | None (public operation)
    fault: str | None = None
    status: int | None = None
    response_issues: list[dict[str, Any]] = field(default_factory=list)
    duration_ms: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class RequestLog:
    """The last `limit` requests, oldest first."""

    def __init__(self, limit: int) -> None:
        self._entries: deque[LoggedRequest] = deque(maxlen=limit)
        self._ids = itertools.count(1)

    def new(self, **fields: Any) -> LoggedRequest:
        entry = LoggedRequest(id=next(self._ids), **fields)
        self._entries.append(entry)
        return entry

    def entries(
        self,
        *,
        operation: str | None = None,
        valid: bool | None = None,
        method: str | None = None,
        path_prefix: str | None = None,
    ) -> list[LoggedRequest]:
        return [
            e
            for e in self._entries
            if (operation is None or e.operation == operation)
            and (valid is None or e.valid == valid)
            and (method is None or e.method == method.upper())
            and (path_prefix is None or e.path.startswith(path_prefix))
        ]

    def clear(self) -> None:
        self._entries.clear()
