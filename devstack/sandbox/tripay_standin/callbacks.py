"""Signed `payment_status` callbacks, sent and retried the way Tripay does: the raw body is
PHP's `json_encode` output (compact, `/` escaped as `\\/`), signed with HMAC-SHA256 of the
private key; anything but HTTP 200 with `{"success": true}` is a failed delivery, retried every
`callback_retry_seconds`, at most `callback_retries` more times."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from devstack.sandbox.tripay_standin.settings import TripaySandboxSettings
from devstack.sandbox.tripay_standin.transactions import Transaction, sign
from webrana_common.aiohttp_transport import AiohttpTransport

log = logging.getLogger("sandbox.tripay")


def php_json(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).replace("/", "\\/").encode()


def callback_body(transaction: Transaction, total_amount: int | None = None) -> dict[str, Any]:
    total = transaction.amount if total_amount is None else total_amount
    return {
        "reference": transaction.reference,
        "merchant_ref": transaction.merchant_ref,
        "payment_method": transaction.channel.name,
        "payment_method_code": transaction.channel.code,
        "total_amount": total,
        "fee_merchant": transaction.fee_merchant,
        "fee_customer": transaction.fee_customer,
        "total_fee": transaction.total_fee,
        "amount_received": total - transaction.total_fee,
        "is_closed_payment": 1,
        "status": transaction.status,
        "paid_at": transaction.paid_at,
        "note": transaction.note,
    }


@dataclass
class Delivery:
    id: int
    reference: str
    merchant_ref: str
    status: str
    url: str | None
    body: bytes
    signature: str
    attempts: list[dict[str, Any]] = field(default_factory=list)
    state: str = "pending"  # pending | delivered | failed | missed

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reference": self.reference,
            "merchant_ref": self.merchant_ref,
            "status": self.status,
            "url": self.url,
            "body": self.body.decode(),
            "signature": self.signature,
            "attempts": self.attempts,
            "state": self.state,
        }


class CallbackSender:
    def __init__(
        self,
        settings: TripaySandboxSettings,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        # Tests route callbacks into an in-process app; uvicorn runs use the network.
        self.transport = transport
        self.deliveries: list[Delivery] = []
        self._ids = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        # One client for every callback: building one (its TLS context) cost ~10 ms of CPU,
        # most of the stand-in's work per payment under load.
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                transport=self.transport or AiohttpTransport(),
                timeout=self.settings.callback_timeout_seconds,
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def reset(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()
        self.deliveries.clear()

    def send(
        self,
        transaction: Transaction,
        *,
        total_amount: int | None = None,
        forge_signature: bool = False,
        miss: bool = False,
    ) -> Delivery:
        body = php_json(callback_body(transaction, total_amount))
        key = self.settings.private_key
        signature = sign("forged-" + key if forge_signature else key, body)
        delivery = Delivery(
            id=next(self._ids),
            reference=transaction.reference,
            merchant_ref=transaction.merchant_ref,
            status=transaction.status,
            url=transaction.callback_url or self.settings.callback_url,
            body=body,
            signature=signature,
        )
        self.deliveries.append(delivery)
        if miss:
            delivery.state = "missed"
        elif delivery.url is None:
            delivery.state = "failed"
            delivery.attempts.append({"at": time.time(), "error": "no callback URL configured"})
        else:
            task = asyncio.get_running_loop().create_task(self._deliver(delivery))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return delivery

    def resend(self, delivery: Delivery) -> None:
        delivery.state = "pending"
        task = asyncio.get_running_loop().create_task(self._deliver(delivery))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, delivery: Delivery) -> None:
        assert delivery.url is not None
        client = self._http()
        for attempt in range(self.settings.callback_retries + 1):
            if attempt:
                await asyncio.sleep(self.settings.callback_retry_seconds)
            if await self._attempt(client, delivery):
                delivery.state = "delivered"
                return
        delivery.state = "failed"
        log.warning("callback not acknowledged", extra={"reference": delivery.reference})

    async def _attempt(self, client: httpx.AsyncClient, delivery: Delivery) -> bool:
        record: dict[str, Any] = {"at": time.time()}
        delivery.attempts.append(record)
        try:
            response = await client.post(
                delivery.url or "",
                content=delivery.body,
                headers={
                    "Content-Type": "application/json",
                    "X-Callback-Signature": delivery.signature,
                    "X-Callback-Event": "payment_status",
                    "User-Agent": "TriPay Callback",
                },
            )
        except Exception as exc:  # any failure to deliver is Tripay's "not acknowledged"
            record["error"] = f"{type(exc).__name__}: {exc}"[:300]
            return False
        record["status_code"] = response.status_code
        record["response"] = response.text[:300]
        acknowledged = False
        with contextlib.suppress(ValueError):
            body = response.json()
            acknowledged = isinstance(body, dict) and body.get("success") is True
        record["acknowledged"] = response.status_code == 200 and acknowledged
        return bool(record["acknowledged"])

    async def settle(self) -> None:
        """Wait until every delivery under way has finished (tests; wrap in a timeout)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
