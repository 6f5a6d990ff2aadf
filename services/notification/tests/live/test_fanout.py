"""Two replicas of the service behind one Redis: a user's tabs on either get every push."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from notification_helpers import nothing_more, receive, send
from redis.asyncio import Redis

INBOX = "/api/v1/notifications"


async def test_pushes_and_reads_reach_tabs_on_the_other_replica(
    serve: Any, make_user: Any, ws_connect: Any, bearer: Any
) -> None:
    one, two = serve(), serve()
    user = await make_user()
    async with (
        httpx.AsyncClient(base_url=one.url, trust_env=False) as http_one,
        httpx.AsyncClient(base_url=two.url, trust_env=False) as http_two,
        ws_connect(one, user) as (tab_one, _),
        ws_connect(two, user) as (tab_two, _),
    ):
        sent = (await send(http_one, user, "VPS_ACTIVE"))["notification_id"]
        for tab in (tab_one, tab_two):
            assert (await receive(tab, "notification:new"))["notification"]["id"] == sent

        await http_two.post(f"{INBOX}/{sent}/read", headers=bearer(user))
        for tab in (tab_one, tab_two):
            assert (await receive(tab, "notification:read"))["ids"] == [sent]
        # One copy each, not one per replica.
        assert await nothing_more(tab_one) == [] and await nothing_more(tab_two) == []


async def test_a_lost_subscription_is_resynced_from_the_database(
    serve: Any, make_user: Any, ws_connect: Any, redis_url: str
) -> None:
    server = serve()
    hub = server.app.state.hub  # type: ignore[attr-defined]
    hub.reconnect_delay = 3.0  # a gap during which a publish reaches nobody here
    user = await make_user()
    async with (
        httpx.AsyncClient(base_url=server.url, trust_env=False) as http,
        ws_connect(server, user) as (tab, _),
    ):
        redis = Redis.from_url(redis_url)
        try:
            await redis.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
            await asyncio.sleep(0.1)
            assert await redis.pubsub_numsub("notification:live") == [(b"notification:live", 0)]
            missed = (await send(http, user, "VPS_ACTIVE"))["notification_id"]
            # Published while nobody listened: only the resync can bring it.
            assert await redis.pubsub_numsub("notification:live") == [(b"notification:live", 0)]
        finally:
            await redis.aclose()
        pushed = await receive(tab, "notification:new", timeout=15)
        assert pushed["notification"]["id"] == missed
        assert (await receive(tab, "resumed"))["count"] == 1
