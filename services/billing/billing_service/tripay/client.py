"""The Tripay merchant API over httpx: its own client (never the internal one, whose
X-API-Key must not leave the fleet), `Authorization: Bearer <api key>`, JSON bodies. Every
answer's envelope is checked: anything but `success: true` raises a typed error."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from pydantic import SecretStr, ValidationError

from billing_service.tripay.errors import TripayError, TripayRejected, TripayUnavailable
from billing_service.tripay.schemas import (
    CalculatedFee,
    Pagination,
    PaymentChannel,
    Transaction,
    TransactionPage,
)
from billing_service.tripay.signatures import transaction_signature
from webrana_common.aiohttp_transport import AiohttpTransport
from webrana_common.http import RetryingTransport

log = logging.getLogger("billing.tripay")


@dataclass(frozen=True)
class OrderItem:
    name: str
    price: int
    quantity: int = 1
    sku: str | None = None

    def as_json(self) -> dict[str, Any]:
        item: dict[str, Any] = {"name": self.name, "price": self.price, "quantity": self.quantity}
        if self.sku:
            item["sku"] = self.sku
        return item


@dataclass(frozen=True)
class NewTransaction:
    method: str
    merchant_ref: str
    amount: int
    customer_name: str
    customer_email: str
    order_items: list[OrderItem]
    expires_at: datetime
    customer_phone: str | None = None
    callback_url: str | None = None
    return_url: str | None = None

    def __post_init__(self) -> None:
        # Tripay derives the amount from the items (official SDK); a mismatch is refused.
        if sum(i.price * i.quantity for i in self.order_items) != self.amount:
            raise ValueError("order items must add up to the amount")


class TripayClient:
    def __init__(
        self,
        *,
        base_url: str,
        merchant_code: str,
        api_key: SecretStr,
        private_key: SecretStr,
        timeout: float = 15.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.merchant_code = merchant_code
        self._private_key = private_key
        self.http = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/",
            headers={
                "Authorization": f"Bearer {api_key.get_secret_value()}",
                "Accept": "application/json",
                "User-Agent": "webrana-billing/1",
            },
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            # Retries connections that never opened (nothing reached Tripay) once; a GET also
            # after a 502-504 or a read timeout. A POST that may have arrived is not repeated.
            transport=transport or RetryingTransport(AiohttpTransport(), attempts=2),
            trust_env=False,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        try:
            response = await self.http.request(method, path, params=params, json=json)
        except httpx.HTTPError as exc:
            raise TripayUnavailable(f"Tripay {path}: {type(exc).__name__}") from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or "success" not in body:
            if response.status_code >= 500:
                raise TripayUnavailable(f"Tripay {path} answered HTTP {response.status_code}")
            raise TripayError(f"Tripay {path} answered without an envelope")
        if body.get("success") is not True:
            message = str(body.get("message") or "no message")
            log.warning(
                "tripay refused a request",
                extra={"path": path, "status": response.status_code, "tripay_message": message},
            )
            raise TripayRejected(message, status_code=response.status_code)
        return body

    @staticmethod
    def _parse(model: Any, value: Any, path: str) -> Any:
        try:
            return model.model_validate(value)
        except ValidationError as exc:
            raise TripayError(f"Tripay {path} answered an unexpected shape: {exc}") from exc

    async def payment_channels(self, code: str | None = None) -> list[PaymentChannel]:
        path = "merchant/payment-channel"
        body = await self._call("GET", path, params={"code": code} if code else None)
        return [self._parse(PaymentChannel, item, path) for item in body.get("data") or []]

    async def fee_calculator(self, amount: int, code: str | None = None) -> list[CalculatedFee]:
        path = "merchant/fee-calculator"
        params: dict[str, Any] = {"amount": amount}
        if code:
            params["code"] = code
        body = await self._call("GET", path, params=params)
        return [self._parse(CalculatedFee, item, path) for item in body.get("data") or []]

    async def create_transaction(self, new: NewTransaction) -> Transaction:
        path = "transaction/create"
        payload: dict[str, Any] = {
            "method": new.method,
            "merchant_ref": new.merchant_ref,
            "amount": new.amount,
            "customer_name": new.customer_name,
            "customer_email": new.customer_email,
            "order_items": [item.as_json() for item in new.order_items],
            "expired_time": int(new.expires_at.timestamp()),
            "signature": transaction_signature(
                self._private_key.get_secret_value(),
                self.merchant_code,
                new.merchant_ref,
                new.amount,
            ),
        }
        for name in ("customer_phone", "callback_url", "return_url"):
            value = getattr(new, name)
            if value:
                payload[name] = value
        body = await self._call("POST", path, json=payload)
        return self._parse(Transaction, body.get("data"), path)

    async def transaction_detail(self, reference: str) -> Transaction:
        path = "transaction/detail"
        body = await self._call("GET", path, params={"reference": reference})
        return self._parse(Transaction, body.get("data"), path)

    async def merchant_transactions(
        self, *, page: int = 1, per_page: int = 50, sort: str = "desc", **filters: str | None
    ) -> TransactionPage:
        """Filters: reference, merchant_ref, method, status."""
        path = "merchant/transactions"
        params: dict[str, Any] = {"page": page, "per_page": min(per_page, 50), "sort": sort}
        params |= {k: v for k, v in filters.items() if v}
        body = await self._call("GET", path, params=params)
        items = [self._parse(Transaction, item, path) for item in body.get("data") or []]
        pagination = self._parse(Pagination, body.get("pagination") or {}, path)
        return TransactionPage(items=items, pagination=pagination)
