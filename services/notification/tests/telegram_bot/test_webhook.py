"""The bot: Telegram (the stand-in, playing the user) posts updates to the webhook; `/start
<token>` links the chat through the real auth, `/stop` unlinks, the bot answers in the chat."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from notification_helpers import WEBHOOK_SECRET, assert_problem

from auth_service.users.models import User
from notification_service.telegram_bot.models import TelegramChat
from webrana_common.db.session import Database
from webrana_common.testing.live_server import LiveServer

HOOK = "/api/v1/notifications/telegram/webhook"


@pytest.fixture
async def bot_server(
    serve: Any, telegram: httpx.AsyncClient, admin_headers: dict[str, str]
) -> LiveServer:
    """The app under uvicorn, registered with the stand-in through the admin route."""
    server = serve()
    async with httpx.AsyncClient(base_url=server.url, trust_env=False) as http:
        registered = await http.put(
            "/api/v1/admin/notifications/telegram/webhook",
            json={"url": server.url + HOOK},
            headers=admin_headers,
        )
    assert registered.status_code == 200, registered.text
    assert (await telegram.get("/sandbox/webhook")).json() == {
        "url": server.url + HOOK,
        "has_secret": True,
    }
    return server


async def _link_token(auth_service: Any, headers: dict[str, str]) -> str:
    async with httpx.AsyncClient(base_url=auth_service.url, trust_env=False) as auth:
        response = await auth.post("/api/v1/auth/telegram/link", headers=headers)
    assert response.status_code == 200, response.text
    return parse_qs(urlsplit(response.json()["url"]).query)["start"][0]


async def _say(telegram: httpx.AsyncClient, chat_id: int, text: str, **extra: Any) -> dict:
    response = await telegram.post(
        "/sandbox/updates", json={"chat_id": chat_id, "text": text, **extra}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["delivered"] is True, body
    return body


async def _replies(telegram: httpx.AsyncClient, chat_id: int) -> list[str]:
    messages = (await telegram.get("/sandbox/messages", params={"chat_id": chat_id})).json()
    return [m["visible_text"] for m in messages["messages"]]


async def _chat_of(auth_db: Database, user_id: uuid.UUID) -> int | None:
    async with auth_db.session() as session:
        user = await session.get(User, user_id)
        assert user is not None
        return user.telegram_chat_id


async def test_start_with_a_link_token_links_the_chat_and_answers(
    bot_server: LiveServer,
    telegram: httpx.AsyncClient,
    auth_service: Any,
    make_user: Any,
    bearer: Any,
    auth_db: Database,
    db: Database,
) -> None:
    user = await make_user(email="budi.santoso@example.co.id")
    token = await _link_token(auth_service, bearer(user))

    answer = await _say(telegram, 880001, f"/start {token}")

    assert answer["response"]["outcome"] == "linked"
    assert await _chat_of(auth_db, user.id) == 880001
    [reply] = await _replies(telegram, 880001)
    assert "b***@example.co.id" in reply and "terhubung" in reply
    async with db.session() as session:
        assert (await session.get(TelegramChat, 880001)).user_id == user.id  # type: ignore[union-attr]

    again = await _say(telegram, 880001, f"/start {token}")
    assert again["response"]["outcome"] == "telegram_link_token_used"
    assert "sudah dipakai" in (await _replies(telegram, 880001))[-1]


async def test_bad_tokens_and_bare_start_get_an_explanation(
    bot_server: LiveServer, telegram: httpx.AsyncClient
) -> None:
    invalid = await _say(telegram, 880002, "/start " + "x" * 32, language_code="en")
    assert invalid["response"]["outcome"] == "telegram_link_token_invalid"
    short = await _say(telegram, 880002, "/start abc", language_code="en")
    assert short["response"]["outcome"] == "telegram_link_token_invalid"
    bare = await _say(telegram, 880002, "/start", language_code="en")
    assert bare["response"]["outcome"] == "help"
    replies = await _replies(telegram, 880002)
    assert replies[0].startswith("❌ This link is not valid")  # English: language_code en
    assert "Connect Telegram" in replies[2]


async def test_stop_unlinks_through_auth(
    bot_server: LiveServer,
    telegram: httpx.AsyncClient,
    auth_service: Any,
    make_user: Any,
    bearer: Any,
    auth_db: Database,
) -> None:
    user = await make_user()
    await _say(telegram, 880003, f"/start {await _link_token(auth_service, bearer(user))}")
    assert await _chat_of(auth_db, user.id) == 880003

    stopped = await _say(telegram, 880003, "/stop")
    assert stopped["response"]["outcome"] == "unlinked"
    assert await _chat_of(auth_db, user.id) is None
    assert "diputuskan" in (await _replies(telegram, 880003))[-1]
    again = await _say(telegram, 880003, "/stop")
    assert again["response"]["outcome"] == "not_linked"


async def test_anything_else_gets_a_short_help(
    bot_server: LiveServer, telegram: httpx.AsyncClient
) -> None:
    answer = await _say(telegram, 880004, "halo bot, server saya mati")
    assert answer["response"]["outcome"] == "help"
    [reply] = await _replies(telegram, 880004)
    assert "/start" in reply and "/stop" in reply


async def test_blocking_the_bot_unlinks_the_chat(
    bot_server: LiveServer,
    telegram: httpx.AsyncClient,
    auth_service: Any,
    make_user: Any,
    bearer: Any,
    auth_db: Database,
) -> None:
    user = await make_user()
    await _say(telegram, 880005, f"/start {await _link_token(auth_service, bearer(user))}")
    blocked = await telegram.post("/sandbox/updates", json={"chat_id": 880005, "block": True})
    assert blocked.json()["response"]["outcome"] == "blocked"
    assert await _chat_of(auth_db, user.id) is None


async def test_the_secret_header_is_required(client: httpx.AsyncClient, make_settings: Any) -> None:
    update = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": 1, "type": "private"},
            "text": "/stop",
        },
    }
    for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
        assert_problem(
            await client.post(HOOK, json=update, headers=headers), 403, "webhook_secret_invalid"
        )
    ok = await client.post(
        HOOK, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
    )
    assert ok.status_code == 200


async def test_a_redelivered_update_is_handled_once(
    client: httpx.AsyncClient, telegram: httpx.AsyncClient
) -> None:
    update = {
        "update_id": 424242,
        "message": {
            "message_id": 9,
            "date": 1700000000,
            "chat": {"id": 880006, "type": "private"},
            "from": {"id": 880006, "is_bot": False, "first_name": "Budi"},
            "text": "hai",
        },
    }
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
    first = await client.post(HOOK, json=update, headers=headers)
    second = await client.post(HOOK, json=update, headers=headers)
    assert first.json()["outcome"] == "help" and second.json()["outcome"] == "duplicate"
    assert len(await _replies(telegram, 880006)) == 1


async def test_no_secret_configured_refuses_every_update(make_settings: Any) -> None:
    from notification_service.app import create_app
    from webrana_common.testing.client import running_app

    async with running_app(create_app(make_settings(telegram_webhook_secret=None))) as client:
        response = await client.post(
            HOOK, json={"update_id": 1}, headers={"X-Telegram-Bot-Api-Secret-Token": ""}
        )
    assert_problem(response, 403, "webhook_secret_invalid")
