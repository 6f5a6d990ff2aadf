"""Redis counters against password guessing and mail flooding.

Attempts are counted *before* the password is checked, atomically: fifty concurrent guesses
cannot all slip past a check-then-increment race, only the first few reach argon2. A success
clears the account's counter and gives the address its attempt back, so only failures remain.
Keys for accounts use the hash of the normalised email, so unknown and known addresses are
counted (and locked) alike and nothing reveals whether an account exists.
"""

from __future__ import annotations

import hashlib

from redis.asyncio import Redis

from auth_service.config import AuthSettings
from auth_service.errors import LoginLocked, LoginRateLimited

# INCR every key; the window starts at the first attempt. Returns [count, ttl] per key.
_COUNT = """
local out = {}
for _, key in ipairs(KEYS) do
  local n = redis.call('INCR', key)
  local ttl = redis.call('TTL', key)
  if n == 1 or ttl < 0 then
    redis.call('EXPIRE', key, ARGV[1])
    ttl = tonumber(ARGV[1])
  end
  table.insert(out, n)
  table.insert(out, ttl)
end
return out
"""
_GIVE_BACK = """
if redis.call('DECR', KEYS[1]) <= 0 then redis.call('DEL', KEYS[1]) end
return 0
"""


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


class LoginThrottle:
    def __init__(self, redis: Redis, settings: AuthSettings) -> None:
        self.redis = redis
        self.window = settings.login_failure_window_seconds
        self.account_limit = settings.login_max_failures_per_account
        self.ip_limit = settings.login_max_failures_per_ip

    @staticmethod
    def account_key(email: str) -> str:
        return f"auth:login:account:{_digest(email)}"

    @staticmethod
    def ip_key(ip: str | None) -> str:
        return f"auth:login:ip:{ip or 'unknown'}"

    async def attempt(self, email: str, ip: str | None) -> None:
        """Count one attempt; raises 429 once the account's or the address's budget is spent."""
        keys = [self.account_key(email), self.ip_key(ip)]
        account_n, account_ttl, ip_n, ip_ttl = await self.redis.eval(  # type: ignore[misc]
            _COUNT, len(keys), *keys, self.window
        )
        if int(account_n) > self.account_limit:
            raise LoginLocked(
                "Too many failed logins for this account; try again later or reset the password",
                retry_after=int(account_ttl),
            )
        if int(ip_n) > self.ip_limit:
            raise LoginRateLimited(
                "Too many failed logins from your network; try again later",
                retry_after=int(ip_ttl),
            )

    async def succeeded(self, email: str, ip: str | None) -> None:
        await self.redis.delete(self.account_key(email))
        await self.redis.eval(_GIVE_BACK, 1, self.ip_key(ip))  # type: ignore[misc]

    async def clear_account(self, email: str) -> None:
        await self.redis.delete(self.account_key(email))


async def within_budget(redis: Redis, kind: str, subject: str, limit: int, window: int) -> bool:
    """Count one use of `kind` for `subject`; False once `limit` uses fell in the window."""
    key = f"auth:budget:{kind}:{_digest(subject)}"
    count, _ = await redis.eval(_COUNT, 1, key, window)  # type: ignore[misc]
    return int(count) <= limit
