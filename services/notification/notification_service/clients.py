"""Typed client of the auth service's internal API (X-API-Key over the lifespan's client)."""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import asdict, dataclass
from typing import Any

import httpx
from redis.asyncio import Redis
from redis.exceptions import RedisError

from notification_service.errors import AuthUnavailable, UserNotFound

log = logging.getLogger("notification.auth")
CACHE_PREFIX = "notification:user:"


@dataclass(frozen=True)
class AuthUser:
    id: uuid.UUID
    email: str
    full_name: str
    locale: str
    role: str
    status: str
    email_verified: bool
    telegram_chat_id: int | None

    @classmethod
    def of(cls, body: dict[str, Any]) -> AuthUser:
        return cls(
            id=uuid.UUID(str(body["id"])),
            email=body["email"],
            full_name=body["full_name"],
            locale=body.get("locale") or "id",
            role=body.get("role") or "customer",
            status=body.get("status") or "active",
            email_verified=bool(body.get("email_verified")),
            telegram_chat_id=body.get("telegram_chat_id"),
        )

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "id": str(self.id)})


class TelegramLinkRefused(Exception):
    """auth refused a `/start` token; `code` is its problem code (invalid, expired, used)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _problem_code(response: httpx.Response) -> str:
    try:
        return str(response.json().get("code") or "")
    except ValueError:
        return ""


class AuthClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        redis: Redis | None = None,
        *,
        cache_seconds: int = 30,
    ) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.redis = redis
        self.cache_seconds = cache_seconds

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        # A kept-alive connection auth closed while idle fails the next request at once;
        # a read or a delete is safe to send again on a fresh one.
        tries = 2 if method in ("GET", "DELETE") else 1
        for attempt in range(1, tries + 1):
            try:
                response = await self.http.request(method, self.base_url + path, **kwargs)
                break
            except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
                if attempt == tries:
                    raise AuthUnavailable(f"auth: {type(exc).__name__}") from exc
            except httpx.HTTPError as exc:
                raise AuthUnavailable(f"auth: {type(exc).__name__}") from exc
        if response.status_code >= 500:
            raise AuthUnavailable(f"auth answered {response.status_code}")
        return response

    async def get_user(self, user_id: uuid.UUID) -> AuthUser:
        """Contact details, cached briefly in Redis (a burst of sends costs auth one call)."""
        cached = await self._cached(user_id)
        if cached is not None:
            return cached
        response = await self._request("GET", f"/internal/users/{user_id}")
        if response.status_code == 404:
            raise UserNotFound(f"auth knows no user {user_id}")
        if response.status_code != 200:
            raise AuthUnavailable(f"auth answered {response.status_code} for a user lookup")
        user = AuthUser.of(response.json())
        await self._remember(user)
        return user

    async def _cached(self, user_id: uuid.UUID) -> AuthUser | None:
        if self.redis is None or self.cache_seconds <= 0:
            return None
        try:
            raw = await self.redis.get(CACHE_PREFIX + str(user_id))
        except RedisError:
            log.warning("user cache unavailable", exc_info=True)
            return None
        return AuthUser.of(json.loads(raw)) if raw else None

    async def _remember(self, user: AuthUser) -> None:
        if self.redis is None or self.cache_seconds <= 0:
            return
        if not user.email_verified:
            # A state the user leaves within seconds: the lookup of their verification mail
            # would otherwise serve "unverified" for the cache's lifetime, and a customer who
            # clicks the link and orders at once would miss the order's mails (auth does not
            # tell this service when an address is verified). Such users get few messages.
            return
        try:
            await self.redis.set(CACHE_PREFIX + str(user.id), user.to_json(), ex=self.cache_seconds)
        except RedisError:
            log.warning("user cache unavailable", exc_info=True)

    async def forget(self, user_id: uuid.UUID) -> None:
        if self.redis is None:
            return
        try:
            await self.redis.delete(CACHE_PREFIX + str(user_id))
        except RedisError:
            log.warning("user cache unavailable", exc_info=True)

    async def link_telegram(self, token: str, chat_id: int) -> AuthUser:
        response = await self._request(
            "POST", "/internal/telegram/link", json={"token": token, "chat_id": chat_id}
        )
        if response.status_code == 422:
            # Not even shaped like one of auth's tokens.
            raise TelegramLinkRefused("telegram_link_token_invalid")
        if response.status_code != 200:
            raise TelegramLinkRefused(_problem_code(response) or "telegram_link_token_invalid")
        user = AuthUser.of(response.json())
        await self.forget(user.id)
        return user

    async def unlink_telegram(self, user_id: uuid.UUID, chat_id: int) -> None:
        """Only while `chat_id` is still the linked chat (auth checks); a user auth no longer
        knows has nothing to unlink."""
        response = await self._request(
            "DELETE", f"/internal/users/{user_id}/telegram", params={"chat_id": chat_id}
        )
        if response.status_code not in (204, 404):
            raise AuthUnavailable(f"auth answered {response.status_code} to an unlink")
        await self.forget(user_id)

    async def list_users(
        self, *, cursor: str | None, limit: int, filters: dict[str, Any]
    ) -> tuple[list[AuthUser], str | None]:
        """One page of `GET /internal/users` (newest first; see README, "Needs from auth")."""
        params = {k: str(v).lower() if isinstance(v, bool) else v for k, v in filters.items()}
        params |= {"limit": limit, "status": "active"}
        if cursor:
            params["cursor"] = cursor
        response = await self._request("GET", "/internal/users", params=params)
        if response.status_code != 200:
            raise AuthUnavailable(f"auth answered {response.status_code} to a user listing")
        body = response.json()
        return [AuthUser.of(item) for item in body["items"]], body.get("next_cursor")
