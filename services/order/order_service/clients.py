"""Typed clients of the services the order service calls synchronously (catalog, billing,
provider), over the lifespan's (or worker's) internal HTTP client, which carries our API key."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from order_service.errors import (
    DependencyFailed,
    DependencyUnavailable,
    InsufficientBalance,
    OrderRejected,
)

CATALOG_REFUSALS = {
    "plan_inactive",
    "region_not_offered",
    "image_not_offered",
    "unknown_region",
    "unknown_image",
    "validation_error",
}


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _detail(response: httpx.Response, fallback: str) -> str:
    return str(_problem(response).get("detail") or fallback)


@dataclass
class CatalogClient:
    http: httpx.AsyncClient
    base_url: str
    referenced: set[uuid.UUID] = field(default_factory=set)

    async def quote(
        self, plan_id: uuid.UUID, cycle: str, region: str, image: str
    ) -> dict[str, Any]:
        try:
            response = await self.http.get(
                f"{self.base_url}/internal/plans/{plan_id}/quote",
                params={"cycle": cycle, "region": region, "image": image},
            )
        except httpx.HTTPError as exc:
            raise DependencyUnavailable("The catalog cannot be reached, try again") from exc
        if response.status_code == 200:
            return response.json()
        code = _problem(response).get("code")
        if response.status_code == 404:
            raise OrderRejected(f"plan_id: no plan {plan_id} is on sale", code="unknown_plan")
        if response.status_code == 422 and code in CATALOG_REFUSALS:
            raise OrderRejected(_detail(response, "The catalog refused this order"), code=code)
        raise DependencyFailed(f"catalog answered HTTP {response.status_code}")

    async def mark_referenced(self, plan_id: uuid.UUID) -> None:
        """Idempotent: the plan is used by an order, so the catalog freezes its provider/size.
        Once acknowledged it is not asked again by this process (the marker stays for good)."""
        if plan_id in self.referenced:
            return
        try:
            response = await self.http.post(f"{self.base_url}/internal/plans/{plan_id}/referenced")
        except httpx.HTTPError as exc:
            raise DependencyUnavailable("The catalog cannot be reached, try again") from exc
        if not response.is_success:
            raise DependencyFailed(f"catalog answered HTTP {response.status_code}")
        self.referenced.add(plan_id)


@dataclass
class BillingClient:
    http: httpx.AsyncClient
    base_url: str

    async def invoice_of(self, order_id: uuid.UUID) -> dict[str, Any] | None:
        """The order's invoice, None when billing has none (yet)."""
        try:
            response = await self.http.get(f"{self.base_url}/internal/orders/{order_id}/invoice")
        except httpx.HTTPError as exc:
            raise DependencyUnavailable("Billing cannot be reached, try again") from exc
        if response.status_code == 404:
            return None
        if not response.is_success:
            raise DependencyFailed(f"billing answered HTTP {response.status_code} to a lookup")
        return response.json()

    async def _post(self, path: str, body: dict[str, Any], key: str) -> httpx.Response:
        try:
            return await self.http.post(
                f"{self.base_url}{path}", json=body, headers={"Idempotency-Key": key}
            )
        except httpx.HTTPError as exc:
            raise DependencyUnavailable("Billing cannot be reached, try again") from exc

    async def redeem_promo(
        self, code: str, *, user_id: uuid.UUID, order_id: uuid.UUID, amount: int
    ) -> int:
        """The discount in rupiah; holds one use of the code for this order (idempotent per
        order) until it is released."""
        response = await self._post(
            "/internal/promos/redeem",
            {"code": code, "user_id": str(user_id), "order_id": str(order_id), "amount": amount},
            f"order:promo-redeem:{order_id}",
        )
        if response.is_success:
            return int(response.json()["discount"])
        problem = _problem(response)
        if response.status_code in (404, 422) and str(problem.get("code", "")).startswith("promo"):
            raise OrderRejected(_detail(response, "Promo refused"), code=problem["code"])
        raise DependencyFailed(f"billing answered HTTP {response.status_code} to a promo")

    async def debit_wallet(
        self, *, user_id: uuid.UUID, order_id: uuid.UUID, amount: int, description: str
    ) -> dict[str, Any]:
        key = f"order:wallet-debit:{order_id}"
        response = await self._post(
            "/internal/wallet/debit",
            {
                "user_id": str(user_id),
                "order_id": str(order_id),
                "amount": amount,
                "idempotency_key": key,
                "description": description[:300],
            },
            key,
        )
        if response.is_success:
            return response.json()
        if response.status_code == 409 and _problem(response).get("code") == "insufficient_balance":
            raise InsufficientBalance(_detail(response, "Saldo tidak cukup"))
        raise DependencyFailed(f"billing answered HTTP {response.status_code} to a wallet debit")


class ProviderTransient(Exception):
    """Worth another try: the provider service or the cloud is briefly unable."""


class ProviderPermanent(Exception):
    """The provider refused for good (bad request, rejected create, server in ERROR)."""

    def __init__(self, reason: str, code: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


@dataclass
class ProviderClient:
    http: httpx.AsyncClient
    base_url: str

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = await self.http.request(method, f"{self.base_url}{path}", **kwargs)
        except httpx.HTTPError as exc:
            raise ProviderTransient(f"{type(exc).__name__}: {exc}") from exc
        if response.is_success:
            return response.json()
        problem = _problem(response)
        reason = f"HTTP {response.status_code} {problem.get('code', '')}: {problem.get('detail')}"
        # 409 provision_in_progress: a concurrent duplicate still holds the key. 429: slow down.
        if response.status_code >= 500 or response.status_code in (408, 409, 429):
            raise ProviderTransient(reason)
        raise ProviderPermanent(str(problem.get("detail") or reason), problem.get("code"))

    async def provision(self, body: dict[str, Any], *, wait_seconds: float) -> dict[str, Any]:
        return await self._call("POST", "/internal/provision", json=body, timeout=wait_seconds)

    async def instance(self, provider: str, instance_id: str) -> dict[str, Any]:
        return await self._call("GET", f"/internal/instances/{provider}/{instance_id}")
