"""The in-app inbox over HTTP: newest first with cursors and filters, the unread count,
reading one or all (up to a point), deleting; nobody sees another user's notifications."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from notification_helpers import assert_problem, send

INBOX = "/api/v1/notifications"


async def _fill(client: httpx.AsyncClient, user: Any, events: list[str]) -> list[str]:
    return [(await send(client, user, event))["notification_id"] for event in events]


async def test_list_is_newest_first_with_cursor_pages(
    client: httpx.AsyncClient, make_user: Any, bearer: Any
) -> None:
    user = await make_user()
    ids = await _fill(client, user, ["ORDER_CREATED", "PAYMENT_CONFIRMED", "VPS_ACTIVE"])
    headers = bearer(user)
    first = (await client.get(INBOX, params={"limit": 2}, headers=headers)).json()
    assert [n["id"] for n in first["items"]] == [ids[2], ids[1]]
    assert first["items"][0]["title"] == "Server web-1 sudah aktif"
    assert first["items"][0]["category"] == "server" and first["items"][0]["read"] is False
    assert first["items"][0]["data"]["ip_address"] == "203.0.113.10"
    second = (
        await client.get(
            INBOX, params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers
        )
    ).json()
    assert [n["id"] for n in second["items"]] == [ids[0]] and second["next_cursor"] is None
    assert_problem(
        await client.get(INBOX, headers=headers, params={"cursor": "x!"}), 400, "invalid_cursor"
    )


async def test_filters_by_unread_and_category(
    client: httpx.AsyncClient, make_user: Any, bearer: Any
) -> None:
    user = await make_user()
    order, paid, active = await _fill(
        client, user, ["ORDER_CREATED", "PAYMENT_CONFIRMED", "VPS_ACTIVE"]
    )
    headers = bearer(user)
    await client.post(f"{INBOX}/{paid}/read", headers=headers)

    async def ids(**params: Any) -> list[str]:
        body = (await client.get(INBOX, params=params, headers=headers)).json()
        return [n["id"] for n in body["items"]]

    assert await ids(unread="true") == [active, order]
    assert await ids(unread="false") == [paid]
    assert await ids(category="billing") == [paid, order]
    assert await ids(category="billing", unread="true") == [order]
    assert_problem(
        await client.get(INBOX, params={"category": "nope"}, headers=headers),
        422,
        "validation_error",
    )


async def test_unread_count_read_one_and_idempotent(
    client: httpx.AsyncClient, make_user: Any, bearer: Any
) -> None:
    user = await make_user()
    first, _ = await _fill(client, user, ["ORDER_CREATED", "VPS_ACTIVE"])
    headers = bearer(user)
    assert (await client.get(f"{INBOX}/unread-count", headers=headers)).json() == {
        "unread_count": 2
    }
    read = await client.post(f"{INBOX}/{first}/read", headers=headers)
    assert read.status_code == 200 and read.json()["unread_count"] == 1
    again = await client.post(f"{INBOX}/{first}/read", headers=headers)
    assert again.json()["read_at"] == read.json()["read_at"]
    assert (await client.get(f"{INBOX}/unread-count", headers=headers)).json() == {
        "unread_count": 1
    }


async def test_read_all_stops_at_before_id(
    client: httpx.AsyncClient, make_user: Any, bearer: Any
) -> None:
    user = await make_user()
    seen = await _fill(client, user, ["ORDER_CREATED", "PAYMENT_CONFIRMED"])
    # Arrives after the client rendered its list, before the click on "read all".
    [late] = await _fill(client, user, ["VPS_ACTIVE"])
    headers = bearer(user)
    result = await client.post(f"{INBOX}/read-all", json={"before_id": seen[-1]}, headers=headers)
    assert result.json() == {"marked": 2, "unread_count": 1}
    unread = (await client.get(INBOX, params={"unread": "true"}, headers=headers)).json()
    assert [n["id"] for n in unread["items"]] == [late]
    everything = await client.post(f"{INBOX}/read-all", headers=headers)
    assert everything.json() == {"marked": 1, "unread_count": 0}


async def test_delete_hides_it(client: httpx.AsyncClient, make_user: Any, bearer: Any) -> None:
    user = await make_user()
    [gone, kept] = await _fill(client, user, ["ORDER_CREATED", "VPS_ACTIVE"])
    headers = bearer(user)
    assert (await client.delete(f"{INBOX}/{gone}", headers=headers)).status_code == 204
    listed = (await client.get(INBOX, headers=headers)).json()["items"]
    assert [n["id"] for n in listed] == [kept]
    assert (await client.get(f"{INBOX}/unread-count", headers=headers)).json()["unread_count"] == 1
    assert_problem(
        await client.delete(f"{INBOX}/{gone}", headers=headers), 404, "notification_not_found"
    )


async def test_another_users_notification_is_404(
    client: httpx.AsyncClient, make_user: Any, bearer: Any
) -> None:
    owner, other = await make_user(), await make_user()
    [notification] = await _fill(client, owner, ["VPS_ACTIVE"])
    headers = bearer(other)
    assert_problem(
        await client.post(f"{INBOX}/{notification}/read", headers=headers),
        404,
        "notification_not_found",
    )
    assert_problem(
        await client.delete(f"{INBOX}/{notification}", headers=headers),
        404,
        "notification_not_found",
    )
    assert_problem(
        await client.post(f"{INBOX}/read-all", json={"before_id": notification}, headers=headers),
        404,
        "notification_not_found",
    )
    assert (await client.get(INBOX, headers=headers)).json()["items"] == []
    assert_problem(
        await client.post(f"{INBOX}/{uuid.uuid4()}/read", headers=headers),
        404,
        "notification_not_found",
    )


async def test_needs_a_valid_token(client: httpx.AsyncClient, make_user: Any, bearer: Any) -> None:
    assert_problem(await client.get(INBOX), 401, "token_missing")
    expired = bearer(await make_user(), ttl=-60)
    assert_problem(await client.get(INBOX, headers=expired), 401, "token_invalid")
