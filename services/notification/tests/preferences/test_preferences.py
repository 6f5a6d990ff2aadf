"""GET/PUT /api/v1/notifications/preferences: per category x channel, mutes, quiet hours."""

from __future__ import annotations

from typing import Any

import httpx
from notification_helpers import assert_problem, send

PREFS = "/api/v1/notifications/preferences"


async def test_defaults_are_everything_on_no_quiet_hours(
    client: httpx.AsyncClient, make_user: Any, bearer: Any
) -> None:
    body = (await client.get(PREFS, headers=bearer(await make_user()))).json()
    assert set(body["categories"]) == {
        "transactional",
        "security",
        "billing",
        "server",
        "marketing",
    }
    assert all(all(switches.values()) for switches in body["categories"].values())
    assert body["muted"] == {"email": False, "telegram": False}
    assert body["quiet_hours"] is None
    assert "security.email" in body["locked"] and "transactional.email" in body["locked"]


async def test_put_replaces_and_get_reads_back(
    client: httpx.AsyncClient, make_user: Any, bearer: Any
) -> None:
    headers = bearer(await make_user())
    wanted = {
        "categories": {"marketing": {"in_app": True, "email": False, "telegram": False}},
        "muted": {"email": False, "telegram": True},
        "quiet_hours": {"start": "22:00", "end": "07:00"},
    }
    saved = await client.put(PREFS, json=wanted, headers=headers)
    assert saved.status_code == 200, saved.text
    body = (await client.get(PREFS, headers=headers)).json()
    assert body == saved.json()
    assert body["categories"]["marketing"] == {"in_app": True, "email": False, "telegram": False}
    assert body["categories"]["server"] == {"in_app": True, "email": True, "telegram": True}
    assert body["muted"]["telegram"] is True
    assert body["quiet_hours"] == {
        "start": "22:00:00",
        "end": "07:00:00",
        "timezone": "Asia/Jakarta",
    }
    # A PUT is the whole document: what it leaves out returns to the defaults.
    await client.put(PREFS, json={}, headers=headers)
    assert (await client.get(PREFS, headers=headers)).json()["quiet_hours"] is None


async def test_security_and_transactional_email_cannot_be_switched_off(
    client: httpx.AsyncClient, make_user: Any, bearer: Any
) -> None:
    headers = bearer(await make_user())
    for category in ("security", "transactional"):
        response = await client.put(
            PREFS, json={"categories": {category: {"email": False}}}, headers=headers
        )
        body = assert_problem(response, 422, "preference_locked")
        assert body["fields"] == [f"{category}.email"]
    allowed = await client.put(
        PREFS, json={"categories": {"security": {"telegram": False}}}, headers=headers
    )
    assert allowed.status_code == 200


async def test_invalid_documents_are_refused(
    client: httpx.AsyncClient, make_user: Any, bearer: Any
) -> None:
    headers = bearer(await make_user())
    for bad in (
        {"categories": {"newsletter": {"email": False}}},
        {"quiet_hours": {"start": "22:00", "end": "22:00"}},
        {"quiet_hours": {"start": "22:00", "end": "07:00", "timezone": "Asia/Tokyo"}},
        {"muted": {"sms": True}},
    ):
        assert_problem(await client.put(PREFS, json=bad, headers=headers), 422, "validation_error")
    assert_problem(await client.get(PREFS), 401, "token_missing")


async def test_saved_preferences_steer_the_next_send(
    client: httpx.AsyncClient, make_user: Any, bearer: Any
) -> None:
    user = await make_user(chat_id=77)
    await client.put(
        PREFS,
        json={"categories": {"server": {"telegram": False}}, "muted": {"email": True}},
        headers=bearer(user),
    )
    outcome = {d["channel"]: d for d in (await send(client, user, "VPS_ACTIVE"))["deliveries"]}
    assert outcome["telegram"]["reason"] == "preference_off"
    assert outcome["email"]["reason"] == "channel_muted"
    assert outcome["in_app"]["status"] == "SENT"
