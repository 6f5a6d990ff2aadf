"""One retrying request helper for the three clouds.

Every call runs inside a deadline. Within it:
- a connection that never opened is retried for any method (nothing reached the provider);
- 429 is retried after the provider's own wait (Retry-After, or its rate-limit reset header)
  when that wait fits in the deadline, else raised with `retry_after`;
- 5xx and read timeouts are retried with exponential backoff for idempotent calls only. A
  create or an action that failed that way may have happened, so it is raised at once with
  `outcome_unknown` and the caller decides (provisioning looks the server up by tag).

Authorization headers are added per request and never logged; neither are bodies.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import SecretStr

from provider_service.clouds.errors import (
    ProviderAuthFailed,
    ProviderRateLimited,
    ProviderRejected,
    ProviderResourceNotFound,
    ProviderUnavailable,
)

log = logging.getLogger("provider.http")

IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE"})
MESSAGE_LIMIT = 500


@dataclass(frozen=True)
class RetryPolicy:
    timeout: float
    deadline: float
    backoff: float
    backoff_max: float


@dataclass(frozen=True)
class ProviderMessage:
    """What the provider said in an error body: its words, and per-field reasons if any."""

    message: str
    errors: list[dict[str, Any]] | None = None


ErrorParser = Callable[[httpx.Response], ProviderMessage]
RateLimitWait = Callable[[httpx.Response], float | None]


def retry_after_seconds(response: httpx.Response) -> float | None:
    """`Retry-After` as seconds (delta or HTTP date)."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def reset_epoch_wait(response: httpx.Response, header: str) -> float | None:
    """Seconds until a rate-limit reset given as a Unix epoch (DigitalOcean, Linode)."""
    try:
        reset = float(response.headers[header])
    except (KeyError, ValueError):
        return None
    return max(0.0, reset - time.time())


def body_text(response: httpx.Response) -> str:
    text = response.text.strip()
    return (
        text[:MESSAGE_LIMIT] if text else response.reason_phrase or f"HTTP {response.status_code}"
    )


class ProviderHttp:
    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        provider: str,
        base_url: str,
        token: SecretStr,
        policy: RetryPolicy,
        parse_error: ErrorParser,
        rate_limit_wait: RateLimitWait,
    ) -> None:
        self.client = client
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.policy = policy
        self._parse_error = parse_error
        self._rate_limit_wait = rate_limit_wait

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        not_found: type[ProviderResourceNotFound] = ProviderResourceNotFound,
    ) -> httpx.Response:
        idempotent = method in IDEMPOTENT
        deadline = time.monotonic() + self.policy.deadline
        all_headers = {
            "Authorization": f"Bearer {self._token.get_secret_value()}",
            "Accept": "application/json",
            **(headers or {}),
        }
        attempt = 0
        while True:
            attempt += 1
            remaining = deadline - time.monotonic()
            timeout = max(0.05, min(self.policy.timeout, remaining))
            try:
                response = await self.client.request(
                    method,
                    self.base_url + path,
                    params=params,
                    json=json,
                    headers=all_headers,
                    timeout=timeout,
                )
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                # No connection was made: whatever the method, nothing happened yet.
                reason, reached = f"cannot connect ({type(exc).__name__})", False
            except httpx.TransportError as exc:
                reason, reached = f"no answer ({type(exc).__name__})", True
            else:
                if response.status_code < 400:
                    return response
                if response.status_code == 429:
                    await self._wait_for_rate_limit(response, deadline, method, path)
                    continue
                if response.status_code < 500:
                    raise self._client_error(response, not_found)
                reason = f"HTTP {response.status_code}: {self._parse_error(response).message}"
                reached = True
            if reached and not idempotent:
                raise ProviderUnavailable(
                    f"{self.provider} {method} {path} failed: {reason}; it may have been "
                    "carried out",
                    outcome_unknown=True,
                    provider=self.provider,
                )
            delay = self._backoff(attempt)
            if time.monotonic() + delay >= deadline:
                raise ProviderUnavailable(
                    f"{self.provider} did not answer {method} {path} within "
                    f"{self.policy.deadline:g} s ({attempt} attempts; last: {reason})",
                    provider=self.provider,
                )
            log.warning(
                "provider call failed, retrying",
                extra={
                    "provider": self.provider,
                    "method": method,
                    "path": path,
                    "attempt": attempt,
                    "reason": reason,
                    "retry_in": round(delay, 3),
                },
            )
            await asyncio.sleep(delay)

    def _backoff(self, attempt: int) -> float:
        base = min(self.policy.backoff_max, self.policy.backoff * (2 ** (attempt - 1)))
        return base + random.uniform(0, base / 4)

    async def _wait_for_rate_limit(
        self, response: httpx.Response, deadline: float, method: str, path: str
    ) -> None:
        wait = self._rate_limit_wait(response)
        known = wait is not None
        if wait is None:
            wait = self.policy.backoff
        if time.monotonic() + wait >= deadline:
            message = self._parse_error(response).message
            raise ProviderRateLimited(
                f"{self.provider} rate limit reached: {message}",
                retry_after=int(wait + 0.999) if known else None,
                provider=self.provider,
                provider_message=message,
            )
        log.warning(
            "provider rate limit, waiting",
            extra={"provider": self.provider, "method": method, "path": path, "wait": wait},
        )
        await asyncio.sleep(wait)

    def _client_error(
        self, response: httpx.Response, not_found: type[ProviderResourceNotFound]
    ) -> Exception:
        said = self._parse_error(response)
        status = response.status_code
        details: dict[str, Any] = {
            "provider": self.provider,
            "provider_status": status,
            "provider_message": said.message,
        }
        if status in (401, 403):
            return ProviderAuthFailed(
                f"{self.provider} refused our credentials ({status}): {said.message}", **details
            )
        if status == 404:
            return not_found(f"{self.provider}: {said.message}", **details)
        if said.errors:
            details["provider_errors"] = said.errors
        return ProviderRejected(f"{self.provider} rejected the request: {said.message}", **details)
