"""Builders of the billing tests: one object holding the app, the Tripay stand-in and the
fleet's stand-ins, with the few steps every scenario is made of."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from billing_helpers import API_KEY, Fleet, TokenIssuer
from fastapi import FastAPI
from sqlalchemy import func, select

from billing_service.invoices.models import Invoice
from billing_service.payments.models import Payment
from billing_service.promos.models import Promo
from webrana_common.db.session import Database
from webrana_common.outbox.models import OutboxMessage

INTERNAL = {"X-API-Key": API_KEY}


@dataclass
class BillingEnv:
    client: httpx.AsyncClient
    app: FastAPI
    tripay_app: FastAPI
    tripay: httpx.AsyncClient  # the stand-in, for its control API
    tokens: TokenIssuer
    fleet: Fleet
    db: Database

    @property
    def sandbox(self) -> Any:
        return self.tripay_app.state.sandbox

    def headers(self, user_id: uuid.UUID, role: str = "customer") -> dict[str, str]:
        return self.tokens.headers(user_id, role)

    def admin(self) -> dict[str, str]:
        return self.tokens.headers(uuid.uuid4(), "admin")

    async def order_invoice(
        self, user_id: uuid.UUID | None = None, amount: int = 150_000, **fields: Any
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "order_id": str(uuid.uuid4()),
            "order_number": "ORD-20250115-AB12C",
            "user_id": str(user_id or uuid.uuid4()),
            "amount": amount,
            "description": "Cloud VPS 2 GB, monthly (web-1)",
            "kind": "order",
            **fields,
        }
        response = await self.client.post("/internal/invoices", json=body, headers=INTERNAL)
        assert response.status_code == 201, response.text
        return response.json()

    async def pay(
        self, invoice: dict[str, Any], channel: str = "BRIVA", *, expect: int = 201
    ) -> dict[str, Any]:
        response = await self.client.post(
            f"/api/v1/billing/invoices/{invoice['id']}/pay",
            json={"channel": channel},
            headers=self.headers(uuid.UUID(invoice["user_id"])),
        )
        assert response.status_code == expect, response.text
        return response.json()

    async def act(self, ref: str, action: str = "pay", **options: Any) -> dict[str, Any]:
        """Play the customer at Tripay; the stand-in then calls billing back."""
        response = await self.tripay.post(f"/_sandbox/transactions/{ref}/{action}", json=options)
        assert response.status_code == 200, response.text
        await self.settle()
        return response.json()

    async def settle(self) -> None:
        """Wait for callbacks under way and the outbox deliveries they caused."""
        async with asyncio.timeout(15):
            for _ in range(3):
                await self.sandbox.sender.settle()
                await self.app.state.db.wait_for_background()

    async def invoice(self, invoice_id: str | uuid.UUID) -> Invoice:
        async with self.db.session() as session:
            found = await session.get(Invoice, uuid.UUID(str(invoice_id)))
            assert found is not None
            return found

    async def payments(self, invoice_id: str | uuid.UUID) -> list[Payment]:
        async with self.db.session() as session:
            rows = await session.scalars(
                select(Payment)
                .where(Payment.invoice_id == uuid.UUID(str(invoice_id)))
                .order_by(Payment.created_at)
            )
            return list(rows)

    async def outbox(self, target_prefix: str = "") -> list[OutboxMessage]:
        async with self.db.session() as session:
            rows = await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.target.startswith(target_prefix))
                .order_by(OutboxMessage.created_at)
            )
            return list(rows)

    async def count(self, model: Any, *where: Any) -> int:
        async with self.db.session() as session:
            stmt = select(func.count()).select_from(model)
            for clause in where:
                stmt = stmt.where(clause)
            return int(await session.scalar(stmt) or 0)

    async def promo(self, **fields: Any) -> dict[str, Any]:
        body = {
            "code": f"HEMAT{uuid.uuid4().hex[:6]}".upper(),
            "discount_type": "percent",
            "value": 10,
            **fields,
        }
        response = await self.client.post(
            "/api/v1/admin/billing/promos", json=body, headers=self.admin()
        )
        assert response.status_code == 201, response.text
        return response.json()

    async def promo_row(self, code: str) -> Promo:
        async with self.db.session() as session:
            found = (await session.scalars(select(Promo).where(Promo.code == code))).one()
            return found

    async def top_up_wallet(self, user_id: uuid.UUID, amount: int) -> None:
        """Credit a wallet the way customers do: a paid top-up invoice."""
        response = await self.client.post(
            "/api/v1/billing/wallet/topups", json={"amount": amount}, headers=self.headers(user_id)
        )
        assert response.status_code == 201, response.text
        invoice = {**response.json(), "user_id": str(user_id)}
        await self.pay(invoice, "BRIVA")
        await self.act(invoice["number"], "pay")
