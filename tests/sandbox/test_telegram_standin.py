"""The Telegram Bot API stand-in, driven by python-telegram-bot as the service drives it (and
by plain HTTP for the other encodings): recorded messages, Telegram's real errors on command,
HTML parse-mode checks, webhooks with the secret header, getUpdates."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from telegram import Bot, Update
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)

from devstack.sandbox.telegram import create_app
from webrana_common.testing.live_server import LiveServer

TOKEN = "4242:sandbox-TOKEN_x"


@pytest.fixture(scope="module")
def standin() -> Iterator[LiveServer]:
    with LiveServer(create_app()) as server:
        yield server


@pytest.fixture
async def control(standin: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=standin.url, trust_env=False) as client:
        await client.post(f"/bot{TOKEN}/deleteWebhook")
        await client.post("/sandbox/reset")
        yield client


@pytest.fixture
async def bot(standin: LiveServer, control: httpx.AsyncClient) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=f"{standin.url}/bot") as bot:  # initialize() calls getMe
        yield bot


class Receiver:
    """A webhook endpoint that records what Telegram posts to it."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], dict[str, Any]]] = []

        async def hook(request: Request) -> JSONResponse:
            self.received.append((dict(request.headers), await request.json()))
            return JSONResponse({"ok": True})

        self.server = LiveServer(Starlette(routes=[Route("/hook", hook, methods=["POST"])]))


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    with receiver.server:
        yield receiver


async def _messages(control: httpx.AsyncClient, chat_id: int | None = None) -> list[dict]:
    params = {"chat_id": chat_id} if chat_id is not None else {}
    return (await control.get("/sandbox/messages", params=params)).json()["messages"]


async def test_get_me_and_send_message_are_recorded_oldest_first(
    bot: Bot, control: httpx.AsyncClient
) -> None:
    assert bot.username == "WeBranaCloudBot" and bot.id == 4242
    first = await bot.send_message(42, "<b>Halo</b> &amp; selamat", parse_mode=ParseMode.HTML)
    second = await bot.send_message(42, "kedua", disable_web_page_preview=True)
    await bot.send_message(43, "lain")

    assert first.chat.id == 42 and first.text == "Halo & selamat"
    assert second.message_id == first.message_id + 1
    recorded = await _messages(control, 42)
    assert [m["visible_text"] for m in recorded] == ["Halo & selamat", "kedua"]
    assert recorded[0]["text"] == "<b>Halo</b> &amp; selamat"
    assert recorded[0]["parse_mode"] == "HTML"
    assert recorded[1]["link_preview_options"] == {"is_disabled": True}
    calls = (await control.get("/sandbox/calls")).json()["calls"]
    assert [c["method"] for c in calls][:2] == ["getMe", "sendMessage"]


async def test_json_query_and_multipart_bodies_work_too(
    standin: LiveServer, control: httpx.AsyncClient
) -> None:
    base = f"/bot{TOKEN}/sendMessage"
    as_json = await control.post(base, json={"chat_id": 7, "text": "json"})
    as_query = await control.get(base, params={"chat_id": "7", "text": "query"})
    as_multipart = await control.post(base, files={"chat_id": (None, "7"), "text": (None, "multi")})
    for response in (as_json, as_query, as_multipart):
        assert response.status_code == 200 and response.json()["ok"] is True, response.text
    assert [m["text"] for m in await _messages(control, 7)] == ["json", "query", "multi"]


async def test_tokens_and_methods_are_checked(
    standin: LiveServer, control: httpx.AsyncClient
) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("not-a-token", base_url=f"{standin.url}/bot"):
            pass
    unknown = await control.post(f"/bot{TOKEN}/sendDice", json={"chat_id": 1})
    assert unknown.status_code == 404
    assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    standin.app.state.sandbox.token = TOKEN  # type: ignore[attr-defined]
    try:
        other = await control.post("/bot1:other/getMe")
        assert other.status_code == 401 and other.json()["description"] == "Unauthorized"
    finally:
        standin.app.state.sandbox.token = None  # type: ignore[attr-defined]


async def test_html_parse_mode_is_checked_like_telegram(bot: Bot) -> None:
    with pytest.raises(BadRequest, match='Can\'t parse entities: unsupported start tag "br"'):
        await bot.send_message(1, "a<br>b", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="Can't parse entities"):
        await bot.send_message(1, "<b>open", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="Can't parse entities"):
        await bot.send_message(1, "&nbsp;", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(1, "x" * 4097)
    # 4096 characters after parsing is fine even when the markup is longer.
    await bot.send_message(1, "<b>" + "&amp;" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(1, "<b></b>", parse_mode=ParseMode.HTML)


async def test_chats_fail_on_command_with_telegrams_errors(
    bot: Bot, control: httpx.AsyncClient
) -> None:
    await control.put("/sandbox/chats/501", json={"fail": "blocked"})
    with pytest.raises(Forbidden, match="Forbidden: bot was blocked by the user"):
        await bot.send_message(501, "hai")
    raw = await control.post(f"/bot{TOKEN}/sendMessage", json={"chat_id": 501, "text": "x"})
    assert raw.status_code == 403 and raw.json()["error_code"] == 403

    await control.put(
        "/sandbox/chats/502", json={"fail": "rate_limited", "retry_after": 7, "times": 1}
    )
    with pytest.raises(RetryAfter) as limited:
        await bot.send_message(502, "hai")
    assert limited.value.retry_after in (7, timedelta(seconds=7))
    assert (await bot.send_message(502, "lagi")).text == "lagi"  # `times` used up

    await control.put("/sandbox/chats/503", json={"fail": "not_found"})
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(503, "hai")
    await control.put("/sandbox/chats/504", json={"fail": "server_error"})
    with pytest.raises(NetworkError):
        await bot.send_message(504, "hai")
    await control.delete("/sandbox/chats/501")
    assert (await bot.send_message(501, "unblocked")).chat.id == 501
    assert [m["text"] for m in await _messages(control)] == ["lagi", "unblocked"]


async def test_a_users_start_goes_to_the_webhook_with_the_secret(
    bot: Bot, control: httpx.AsyncClient, receiver: Receiver
) -> None:
    receiver.received.clear()
    url = f"{receiver.server.url}/hook"
    assert await bot.set_webhook(url, secret_token="s3cret_-x") is True
    assert (await bot.get_webhook_info()).url == url

    posted = await control.post(
        "/sandbox/updates",
        json={"chat_id": 555, "text": "/start tok_ABC-123", "first_name": "Budi"},
    )
    assert posted.json()["delivered"] is True and posted.json()["status"] == 200
    [(headers, body)] = receiver.received
    assert headers["x-telegram-bot-api-secret-token"] == "s3cret_-x"
    update = Update.de_json(body, bot)
    assert update.message.text == "/start tok_ABC-123"
    assert update.message.chat.id == 555 and update.message.from_user.first_name == "Budi"
    assert (
        update.message.entities[0].type == "bot_command" and update.message.entities[0].length == 6
    )

    blocked = await control.post("/sandbox/updates", json={"chat_id": 555, "block": True})
    assert (
        Update.de_json(blocked.json()["update"], bot).my_chat_member.new_chat_member.status
        == "kicked"
    )
    with pytest.raises(Forbidden):
        await bot.send_message(555, "still there?")

    with pytest.raises(BadRequest, match="Secret token contains unallowed characters"):
        await bot.set_webhook(url, secret_token="bad secret!")


async def test_without_a_webhook_updates_wait_for_get_updates(
    bot: Bot, control: httpx.AsyncClient, receiver: Receiver
) -> None:
    queued = await control.post("/sandbox/updates", json={"chat_id": 9, "text": "halo"})
    assert queued.status_code == 202 and queued.json()["queued"] is True
    [update] = await bot.get_updates()
    assert update.message.text == "halo" and not update.message.entities
    assert await bot.get_updates(offset=update.update_id + 1) == ()  # confirmed
    await bot.set_webhook(f"{receiver.server.url}/hook")
    with pytest.raises(Conflict):
        await bot.get_updates()
    assert await bot.delete_webhook() is True
    assert (await control.get("/sandbox/webhook")).json() == {"url": None, "has_secret": False}


def test_webhook_can_be_configured_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "TELEGRAM_WEBHOOK_URL", "http://127.0.0.1:3005/api/v1/notifications/telegram/webhook"
    )
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "abc")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    sandbox = create_app().state.sandbox
    assert sandbox.webhook_url.endswith("/telegram/webhook") and sandbox.webhook_secret == "abc"
    assert sandbox.token == TOKEN
    json.dumps(sandbox.bot_user())
