from __future__ import annotations

import uuid

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from notification_service.telegram_bot.models import TelegramChat
from webrana_common.db.base import utcnow


async def remember(session: AsyncSession, chat_id: int, user_id: uuid.UUID) -> None:
    values = {"user_id": user_id, "linked_at": utcnow()}
    await session.execute(
        insert(TelegramChat)
        .values(chat_id=chat_id, **values)
        .on_conflict_do_update(index_elements=[TelegramChat.chat_id], set_=values)
    )


async def user_for_chat(session: AsyncSession, chat_id: int) -> uuid.UUID | None:
    return await session.scalar(select(TelegramChat.user_id).where(TelegramChat.chat_id == chat_id))


async def forget(session: AsyncSession, chat_id: int) -> None:
    await session.execute(delete(TelegramChat).where(TelegramChat.chat_id == chat_id))
