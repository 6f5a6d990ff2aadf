"""What the rules need from the process they run in (API or worker): settings, the internal
HTTP client, the database (for compensating units of work) and the arq pool."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any

import httpx
from fastapi import Depends
from starlette.requests import HTTPConnection

from order_service.clients import BillingClient, CatalogClient, ProviderClient
from order_service.config import OrderSettings
from webrana_common.db.session import Database


@dataclass
class OrderContext:
    settings: OrderSettings
    http: httpx.AsyncClient
    db: Database
    arq: Any | None  # arq.ArqRedis; None when Redis is not configured
    # Plans this process has had the catalog mark as referenced (a marker never removed):
    # the next order of the same plan skips that call.
    referenced_plans: set[uuid.UUID] = field(default_factory=set)

    @property
    def catalog(self) -> CatalogClient:
        return CatalogClient(
            self.http, self.settings.catalog_url.rstrip("/"), self.referenced_plans
        )

    @property
    def billing(self) -> BillingClient:
        return BillingClient(self.http, self.settings.billing_url.rstrip("/"))

    @property
    def provider(self) -> ProviderClient:
        return ProviderClient(self.http, self.settings.provider_url.rstrip("/"))


async def _context(conn: HTTPConnection) -> OrderContext:
    state = conn.app.state
    return OrderContext(
        state.settings,
        state.http,
        state.db,
        getattr(state, "arq", None),
        state.referenced_plans,
    )


ContextDep = Annotated[OrderContext, Depends(_context)]
