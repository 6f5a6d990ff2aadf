"""Admin search of the delivery log."""

from __future__ import annotations

from typing import Any

import httpx
from notification_helpers import assert_problem, send

LOG = "/api/v1/admin/notifications/deliveries"


async def test_search_by_user_channel_status_reason_and_notification(
    client: httpx.AsyncClient, admin_headers: dict[str, str], make_user: Any
) -> None:
    linked, unlinked = await make_user(chat_id=31), await make_user()
    first = await send(client, linked, "VPS_ACTIVE")
    await send(client, unlinked, "VPS_ACTIVE")

    async def search(**params: Any) -> list[dict[str, Any]]:
        response = await client.get(LOG, params=params, headers=admin_headers)
        assert response.status_code == 200, response.text
        return response.json()["items"]

    mine = await search(user_id=str(linked.id))
    assert {d["channel"] for d in mine} == {"in_app", "email", "telegram"}
    skipped = await search(channel="telegram", status="SKIPPED")
    assert [(d["user_id"], d["reason"]) for d in skipped] == [(str(unlinked.id), "no_chat_linked")]
    assert len(await search(reason="no_chat_linked")) == 1
    by_notification = await search(notification_id=first["notification_id"])
    assert len(by_notification) == 3
    assert all(d["event"] == "VPS_ACTIVE" for d in by_notification)
    page = (await client.get(LOG, params={"limit": 4}, headers=admin_headers)).json()
    rest = (
        await client.get(
            LOG, params={"limit": 4, "cursor": page["next_cursor"]}, headers=admin_headers
        )
    ).json()
    assert len(page["items"]) == 4 and len(rest["items"]) == 2 and rest["next_cursor"] is None
    assert await search(since="2999-01-01T00:00:00Z") == []


async def test_admins_only(client: httpx.AsyncClient, make_user: Any, bearer: Any) -> None:
    assert_problem(await client.get(LOG, headers=bearer(await make_user())), 403, "admin_required")
