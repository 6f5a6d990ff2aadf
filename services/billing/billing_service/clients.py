"""Typed client of the auth service's internal API: the contact details Tripay wants with
every transaction (customer_name, customer_email, customer_phone), cached briefly in Redis."""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import asdict, dataclass

import httpx
from redis.asyncio import Redis
from redis.exceptions import RedisError

from billing_service.errors import AuthUnavailable, UserNotFound

log = logging.getLogger("billing.auth")
CACHE_PREFIX = "billing:customer:"


@dataclass(frozen=True)
class Customer:
    id: str
    email: str
    full_name: str
    phone: str | None


class AuthClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        redis: Redis | None = None,
        *,
        cache_seconds: int = 300,
    ) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.redis = redis
        self.cache_seconds = cache_seconds

    async def customer(self, user_id: uuid.UUID) -> Customer:
        cached = await self._cached(user_id)
        if cached is not None:
            return cached
        try:
            response = await self.http.get(f"{self.base_url}/internal/users/{user_id}")
        except httpx.HTTPError as exc:
            raise AuthUnavailable(f"auth: {type(exc).__name__}") from exc
        if response.status_code == 404:
            raise UserNotFound(f"auth knows no user {user_id}")
        if response.status_code != 200:
            raise AuthUnavailable(f"auth answered {response.status_code} for a user lookup")
        body = response.json()
        customer = Customer(
            id=str(body["id"]),
            email=body["email"],
            full_name=body.get("full_name") or body["email"],
            phone=body.get("phone"),
        )
        await self._remember(user_id, customer)
        return customer

    async def _cached(self, user_id: uuid.UUID) -> Customer | None:
        if self.redis is None or self.cache_seconds <= 0:
            return None
        try:
            raw = await self.redis.get(CACHE_PREFIX + str(user_id))
        except RedisError:
            log.warning("customer cache unavailable", exc_info=True)
            return None
        return Customer(**json.loads(raw)) if raw else None

    async def _remember(self, user_id: uuid.UUID, customer: Customer) -> None:
        if self.redis is None or self.cache_seconds <= 0:
            return
        try:
            await self.redis.set(
                CACHE_PREFIX + str(user_id), json.dumps(asdict(customer)), ex=self.cache_seconds
            )
        except RedisError:
            log.warning("customer cache unavailable", exc_info=True)
