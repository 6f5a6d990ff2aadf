"""Helpers shared by the catalog tests (imported by module name; see conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from webrana_common.testing.tokens import TokenIssuer as TokenIssuer  # re-exported for the tests

API_KEY = "order-test-key"


@dataclass
class ProviderStandIn:
    """The provider service's `GET /internal/providers/{provider}/{kind}` as its README and
    `provider_metadata.py` define it: `{provider, kind, fetched_at, cached, items}`, items named
    by `id`. Tests set `data[provider][kind]`; `failing` makes every answer a 503 problem."""

    data: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    failing: bool = False
    calls: list[tuple[str, str, str | None]] = field(default_factory=list)

    def reset(self) -> None:
        self.data.clear()
        self.failing = False
        self.calls.clear()

    def app(self) -> Starlette:
        async def metadata(request: Request) -> Response:
            provider = request.path_params["provider"]
            kind = request.path_params["kind"]
            self.calls.append((provider, kind, request.headers.get("x-api-key")))
            if request.headers.get("x-api-key") != "catalog-test-key":
                return _problem(401, "api_key_invalid", "A valid X-API-Key is required")
            if self.failing:
                return _problem(503, "provider_unavailable", f"{provider} is down")
            if provider not in self.data:
                return _problem(404, "unknown_provider", f"No provider {provider!r}")
            return JSONResponse(
                {
                    "provider": provider,
                    "kind": kind,
                    "fetched_at": "2025-01-01T00:00:00Z",
                    "cached": False,
                    "items": self.data[provider].get(kind, []),
                }
            )

        return Starlette(routes=[Route("/internal/providers/{provider}/{kind}", metadata)])


def _problem(status: int, code: str, detail: str) -> JSONResponse:
    return JSONResponse(
        {"type": "about:blank", "title": code, "status": status, "detail": detail, "code": code},
        status_code=status,
        media_type="application/problem+json",
    )


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code, body
    return body


PRICES = {"monthly": 100_000, "quarterly": 285_000, "semiannual": 540_000, "annual": 1_020_000}
