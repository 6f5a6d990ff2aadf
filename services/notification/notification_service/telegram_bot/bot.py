"""The Bot API client (python-telegram-bot), pointed at TELEGRAM_API_URL: the real API in
production, the devstack stand-in locally."""

from __future__ import annotations

import functools
import ssl
import warnings
from datetime import timedelta

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import RetryAfter
from telegram.request import HTTPXRequest

from notification_service.config import NotificationSettings
from notification_service.errors import TelegramNotConfigured

# Concurrent requests per process: the worker sends up to this many messages at once.
POOL_SIZE = 16


@functools.cache
def _tls() -> ssl.SSLContext:
    # Loading the CA bundle costs ~25 ms; once per process, not per client.
    return ssl.create_default_context()


def retry_after_seconds(exc: RetryAfter) -> float:
    # PTB 22.2+ warns when the int form is read unless PTB_TIMEDELTA is set; accept both forms.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramBot:
    def __init__(self, settings: NotificationSettings) -> None:
        self.username = settings.telegram_bot_username
        self._bot: Bot | None = None
        self._requests: list[HTTPXRequest] = []
        if settings.telegram_bot_token is None:
            return
        timeout = settings.telegram_timeout_seconds
        self._requests = [
            HTTPXRequest(
                connection_pool_size=POOL_SIZE,
                connect_timeout=min(timeout, 5.0),
                read_timeout=timeout,
                write_timeout=timeout,
                pool_timeout=timeout,
                httpx_kwargs={"verify": _tls()},
            ),
            HTTPXRequest(connection_pool_size=1, httpx_kwargs={"verify": _tls()}),
        ]
        self._bot = Bot(
            settings.telegram_bot_token.get_secret_value(),
            base_url=f"{settings.telegram_api_url.rstrip('/')}/bot",
            base_file_url=f"{settings.telegram_api_url.rstrip('/')}/file/bot",
            request=self._requests[0],
            get_updates_request=self._requests[1],
        )

    @property
    def enabled(self) -> bool:
        return self._bot is not None

    @property
    def bot(self) -> Bot:
        if self._bot is None:
            raise TelegramNotConfigured("Telegram is not configured (TELEGRAM_BOT_TOKEN)")
        return self._bot

    async def send_html(self, chat_id: int, text: str) -> int:
        """The message id; Telegram's errors (Forbidden, RetryAfter, ...) pass through."""
        message = await self.bot.send_message(
            chat_id=chat_id,
            text=text,
            parse_mode=ParseMode.HTML,
            disable_web_page_preview=True,
        )
        return message.message_id

    async def set_webhook(self, url: str, secret: str) -> None:
        await self.bot.set_webhook(
            url=url, secret_token=secret, allowed_updates=["message"], drop_pending_updates=False
        )

    async def delete_webhook(self) -> None:
        await self.bot.delete_webhook()

    async def close(self) -> None:
        for request in self._requests:
            await request.shutdown()
