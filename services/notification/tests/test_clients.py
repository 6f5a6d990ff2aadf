"""The auth client's user cache: what it keeps, and what it must not keep."""

from __future__ import annotations

from typing import Any

from notification_helpers import send
from redis.asyncio import Redis
from sqlalchemy import update

from auth_service.users.models import User
from notification_service.app import create_app
from notification_service.clients import CACHE_PREFIX
from webrana_common.db.base import utcnow
from webrana_common.db.session import Database
from webrana_common.testing.client import running_app


async def test_a_verification_mails_lookup_does_not_hide_the_verification_that_follows(
    make_settings: Any, make_user: Any, auth_db: Database, redis_url: str
) -> None:
    """An unverified user is not cached: the customer who clicks the link in the mail and
    orders straight away gets the order's mail (auth does not tell us about the click)."""
    user = await make_user(verified=False)
    redis = Redis.from_url(redis_url)
    async with running_app(create_app(make_settings(user_cache_seconds=30))) as client:
        await send(client, user, "EMAIL_VERIFY", channels=["email"])
        assert await redis.get(CACHE_PREFIX + str(user.id)) is None
        async with auth_db.session() as session:
            await session.execute(
                update(User).where(User.id == user.id).values(email_verified_at=utcnow())
            )
        body = await send(client, user, "PAYMENT_CONFIRMED", channels=["email"])
        assert [(d["status"], d["reason"]) for d in body["deliveries"]] == [("QUEUED", None)]
        assert await redis.ttl(CACHE_PREFIX + str(user.id)) > 0  # verified: cached as before
    await redis.aclose()
