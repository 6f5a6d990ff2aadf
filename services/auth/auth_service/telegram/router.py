from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from auth_service.dependencies import ActiveUser, SettingsDep
from auth_service.telegram import service
from auth_service.telegram.schemas import BindTelegramRequest, TelegramLink
from auth_service.users.schemas import InternalUserView
from webrana_common.auth.api_keys import Internal
from webrana_common.db.session import SessionDep
from webrana_common.openapi import problems

router = APIRouter(prefix="/api/v1/auth/telegram", tags=["telegram"])
internal_router = APIRouter(prefix="/internal", tags=["internal"])


@router.post(
    "/link",
    summary="Get a one-time link that connects Telegram notifications",
    description="Valid 15 minutes; a newer link voids the previous one.",
    responses=problems(s401="token_missing token_invalid"),
)
async def create_link(session: SessionDep, settings: SettingsDep, user: ActiveUser) -> TelegramLink:
    return await service.create_link(session, settings, user)


@router.delete(
    "",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Disconnect Telegram",
    description="Idempotent: 204 also when nothing was linked.",
    responses=problems(s401="token_missing token_invalid"),
)
async def unlink(user: ActiveUser) -> Response:
    service.unlink(user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@internal_router.post(
    "/telegram/link",
    summary="Bind the chat that pressed Start to the link's account (called by the bot)",
    responses=problems(
        s400="telegram_link_token_invalid",
        s401="api_key_invalid",
        s410="telegram_link_token_expired telegram_link_token_used",
    ),
)
async def bind(
    body: BindTelegramRequest, session: SessionDep, _caller: Internal
) -> InternalUserView:
    return InternalUserView.of(await service.bind(session, body.token, body.chat_id))


@internal_router.delete(
    "/users/{user_id}/telegram",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Unlink a user's chat (e.g. the bot was blocked)",
    description="With `chat_id`, only if that chat is still the linked one.",
    responses=problems(s401="api_key_invalid", s404="user_not_found"),
)
async def internal_unlink(
    user_id: uuid.UUID,
    session: SessionDep,
    _caller: Internal,
    chat_id: Annotated[int | None, Query(ge=-(2**52), le=2**52)] = None,
) -> Response:
    await service.unlink_by_id(session, user_id, chat_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
