"""Helpers shared by the catalog tests (imported by module name; see conftest.py)."""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

API_KEY = "order-test-key"
ISSUER = "https://auth.webrana.cloud"
AUDIENCE = "webrana-api"


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class TokenIssuer:
    """Signs access tokens the way auth does (RS256, `kid`), and publishes the JWKS the
    catalog fetches over HTTP, as in production."""

    def __init__(self) -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        numbers = key.public_key().public_numbers()
        self.kid = "catalog-test-key"
        self.jwks = {
            "keys": [
                {
                    "kty": "RSA",
                    "use": "sig",
                    "alg": "RS256",
                    "kid": self.kid,
                    "n": _b64(numbers.n),
                    "e": _b64(numbers.e),
                }
            ]
        }

    def token(self, role: str = "customer", user_id: uuid.UUID | None = None) -> str:
        now = int(time.time())
        claims = {
            "sub": str(user_id or uuid.uuid4()),
            "role": role,
            "jti": uuid.uuid4().hex,
            "iss": ISSUER,
            "aud": AUDIENCE,
            "iat": now,
            "nbf": now,
            "exp": now + 900,
        }
        return jwt.encode(claims, self._pem, algorithm="RS256", headers={"kid": self.kid})

    def headers(self, role: str = "customer", user_id: uuid.UUID | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, user_id)}"}

    def app(self) -> Starlette:
        async def jwks(_: Request) -> JSONResponse:
            return JSONResponse(self.jwks)

        return Starlette(routes=[Route("/.well-known/jwks.json", jwks)])


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
