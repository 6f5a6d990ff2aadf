"""Linking a Telegram chat to an account through a one-time `t.me/<bot>?start=<token>` link."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.config import AuthSettings
from auth_service.errors import UserNotFound
from auth_service.one_time_tokens import service as one_time_tokens
from auth_service.one_time_tokens.models import TokenPurpose
from auth_service.telegram.schemas import TelegramLink
from auth_service.users import repository as users
from auth_service.users.models import User
from webrana_common.db.base import utcnow


async def create_link(session: AsyncSession, settings: AuthSettings, user: User) -> TelegramLink:
    issued = await one_time_tokens.issue(
        session,
        user.id,
        TokenPurpose.TELEGRAM_LINK,
        timedelta(minutes=settings.telegram_link_ttl_minutes),
        expire_previous=True,
    )
    return TelegramLink(
        url=f"https://t.me/{settings.telegram_bot_username}?start={issued.token}",
        expires_at=issued.expires_at,
    )


async def bind(session: AsyncSession, token: str, chat_id: int) -> User:
    row = await one_time_tokens.consume(session, token, TokenPurpose.TELEGRAM_LINK)
    user = await users.get_for_update(session, row.user_id)
    assert user is not None  # the token row cascades with its user
    user.telegram_chat_id = chat_id
    user.telegram_linked_at = utcnow()
    return user


def unlink(user: User) -> None:
    user.telegram_chat_id = None
    user.telegram_linked_at = None


async def unlink_by_id(session: AsyncSession, user_id: uuid.UUID, chat_id: int | None) -> None:
    """`chat_id`, when given, must still be the linked chat: a "bot blocked" report about an
    old chat must not undo a link the user has just made to a new one."""
    user = await users.get_for_update(session, user_id)
    if user is None:
        raise UserNotFound(f"No user {user_id}")
    if chat_id is None or user.telegram_chat_id == chat_id:
        unlink(user)
