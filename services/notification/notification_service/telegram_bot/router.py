from __future__ import annotations

import hmac
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header

from notification_service.dependencies import AuthDep, BotDep, RedisDep, SettingsDep
from notification_service.errors import TelegramNotConfigured, WebhookSecretInvalid
from notification_service.telegram_bot import service
from webrana_common.db.session import SessionDep
from webrana_common.openapi import problems

router = APIRouter(prefix="/api/v1/notifications/telegram", tags=["telegram"])
log = logging.getLogger("notification.telegram")


@router.post(
    "/webhook",
    summary="Telegram Bot API webhook",
    description="Called by Telegram with an Update; `X-Telegram-Bot-Api-Secret-Token` must "
    "equal TELEGRAM_WEBHOOK_SECRET. `/start <token>` links the chat, `/stop` unlinks it.",
    responses=problems(s403="webhook_secret_invalid", s503="telegram_not_configured"),
)
async def webhook(
    session: SessionDep,
    settings: SettingsDep,
    bot: BotDep,
    auth: AuthDep,
    redis: RedisDep,
    update: Annotated[dict[str, Any], Body()],
    secret_header: Annotated[
        str | None, Header(alias="X-Telegram-Bot-Api-Secret-Token", include_in_schema=False)
    ] = None,
) -> dict[str, Any]:
    expected = settings.telegram_webhook_secret
    # Constant-time; no secret configured refuses everything rather than accepting anyone.
    if expected is None or not hmac.compare_digest(
        (secret_header or "").encode(), expected.get_secret_value().encode()
    ):
        raise WebhookSecretInvalid("X-Telegram-Bot-Api-Secret-Token missing or wrong")
    if not bot.enabled:
        raise TelegramNotConfigured("TELEGRAM_BOT_TOKEN is not set")
    outcome = await service.handle_update(
        session, service.BotContext(bot=bot, auth=auth, redis=redis), update
    )
    log.info("telegram update handled", extra={"outcome": outcome})
    return {"ok": True, "outcome": outcome}
