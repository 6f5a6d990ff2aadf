"""The bot's conversation: `/start <token>` links the chat through auth, `/stop` unlinks it,
anything else gets a short help. A user blocking the bot unlinks the chat too."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Message, Update
from telegram.error import TelegramError

from notification_service.clients import AuthClient, TelegramLinkRefused
from notification_service.errors import AuthUnavailable
from notification_service.telegram_bot import repository
from notification_service.telegram_bot.bot import TelegramBot
from notification_service.telegram_bot.replies import locale_of_language, reply

log = logging.getLogger("notification.telegram")
# Telegram re-sends an update it thinks was not received; each is handled once.
SEEN_UPDATE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class BotContext:
    bot: TelegramBot
    auth: AuthClient
    redis: Redis


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


async def handle_update(session: AsyncSession, context: BotContext, body: dict[str, Any]) -> str:
    """What was done, for the log and the tests: linked, unlinked, help, duplicate, ..."""
    update = Update.de_json(body, context.bot.bot)
    if not await _first_time(context.redis, update.update_id):
        return "duplicate"
    try:
        if update.my_chat_member is not None:
            return await _membership(session, context, update)
        message = update.message
        if message is None or message.text is None:
            return "ignored"
        return await _command(session, context, message)
    except BaseException:
        await _forget_update(context.redis, update.update_id)  # let Telegram's retry in
        raise


async def _first_time(redis: Redis, update_id: int) -> bool:
    try:
        return bool(
            await redis.set(
                f"notification:tg-update:{update_id}", 1, nx=True, ex=SEEN_UPDATE_SECONDS
            )
        )
    except RedisError:
        return True  # rather answer twice than not at all


async def _forget_update(redis: Redis, update_id: int) -> None:
    try:
        await redis.delete(f"notification:tg-update:{update_id}")
    except RedisError:
        pass


def _command_of(text: str) -> tuple[str, list[str]]:
    head, *args = text.strip().split()
    return head.split("@", 1)[0].lower(), args


async def _command(session: AsyncSession, context: BotContext, message: Message) -> str:
    chat_id = message.chat.id
    locale = locale_of_language(message.from_user.language_code if message.from_user else None)
    command, args = _command_of(message.text or "") if (message.text or "").strip() else ("", [])
    if command == "/start":
        if message.chat.type != "private":
            await _answer(context, chat_id, reply(locale, "private_only"))
            return "refused_group"
        if not args:
            await _answer(context, chat_id, reply(locale, "start_without_token"))
            return "help"
        return await _link(session, context, chat_id, args[0], locale)
    if command == "/stop":
        return await _unlink(session, context, chat_id, locale)
    await _answer(context, chat_id, reply(locale, "help"))
    return "help"


async def _link(
    session: AsyncSession, context: BotContext, chat_id: int, token: str, locale: str
) -> str:
    try:
        user = await context.auth.link_telegram(token, chat_id)
    except TelegramLinkRefused as refused:
        await _answer(context, chat_id, reply(locale, refused.code))
        return refused.code
    except AuthUnavailable:
        await _answer(context, chat_id, reply(locale, "unavailable"))
        return "unavailable"
    await repository.remember(session, chat_id, user.id)
    await _answer(context, chat_id, reply(user.locale, "linked", email=mask_email(user.email)))
    return "linked"


async def _unlink(session: AsyncSession, context: BotContext, chat_id: int, locale: str) -> str:
    user_id = await repository.user_for_chat(session, chat_id)
    if user_id is None:
        await _answer(context, chat_id, reply(locale, "not_linked"))
        return "not_linked"
    try:
        await context.auth.unlink_telegram(user_id, chat_id)
    except AuthUnavailable:
        await _answer(context, chat_id, reply(locale, "unavailable"))
        return "unavailable"
    await repository.forget(session, chat_id)
    await _answer(context, chat_id, reply(locale, "unlinked"))
    return "unlinked"


async def _membership(session: AsyncSession, context: BotContext, update: Update) -> str:
    member = update.my_chat_member
    assert member is not None
    if member.new_chat_member.status != "kicked":
        return "ignored"
    chat_id = member.chat.id
    user_id: uuid.UUID | None = await repository.user_for_chat(session, chat_id)
    if user_id is not None:
        await context.auth.unlink_telegram(user_id, chat_id)
        await repository.forget(session, chat_id)
    return "blocked"


async def _answer(context: BotContext, chat_id: int, text: str) -> None:
    try:
        await context.bot.send_html(chat_id, text)
    except TelegramError as exc:
        # The link (or unlink) stands; only the confirmation is lost.
        log.warning("bot reply failed: %s", exc, extra={"chat_id": chat_id})
