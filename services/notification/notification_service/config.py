"""Settings of the notification service; every name is documented in the README."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator

from webrana_common.settings import ServiceSettings

DEV_UNSUBSCRIBE_SECRET = "dev-unsubscribe-secret"


class NotificationSettings(ServiceSettings):
    service_name: str = "notification"
    port: int = 3005

    # Telegram Bot API. The URL is the server root; the bot calls <url>/bot<token>/<method>.
    telegram_api_url: str = "https://api.telegram.org"
    telegram_bot_token: SecretStr | None = None
    telegram_bot_username: str = "WeBranaCloudBot"
    telegram_webhook_secret: SecretStr | None = None
    # Call setWebhook at startup (URL: PUBLIC_BASE_URL + the webhook path).
    telegram_register_webhook: bool = False
    telegram_timeout_seconds: float = Field(default=10.0, gt=0)

    smtp_host: str = "127.0.0.1"
    smtp_port: int | None = Field(default=None, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    smtp_use_tls: bool = False
    smtp_from: str = "WeBrana Cloud <no-reply@webrana.cloud>"
    # A PEM bundle trusted for the relay's certificate (a private CA); empty: the system's.
    smtp_ca_bundle: Path | None = None
    smtp_timeout_seconds: float = Field(default=15.0, gt=0)

    # Signs the one-click unsubscribe links of marketing mail (RFC 8058).
    unsubscribe_secret: SecretStr = SecretStr(DEV_UNSUBSCRIBE_SECRET)

    user_cache_seconds: int = Field(default=30, ge=0)

    ws_auth_timeout_seconds: float = Field(default=5.0, gt=0)
    ws_heartbeat_seconds: float = Field(default=25.0, gt=0)
    ws_send_queue_size: int = Field(default=256, ge=8)
    ws_resume_limit: int = Field(default=200, ge=1, le=1000)
    live_channel: str = "notification:live"

    delivery_max_attempts: int = Field(default=6, ge=1)
    delivery_retry_base_seconds: float = Field(default=10.0, gt=0)
    delivery_retry_max_seconds: float = Field(default=3600.0, gt=0)

    broadcast_batch_size: int = Field(default=500, ge=1, le=1000)

    notification_retention_days: int = Field(default=90, ge=1)
    delivery_log_retention_days: int = Field(default=180, ge=1)

    @field_validator("telegram_bot_username")
    @classmethod
    def _bot_username(cls, value: str) -> str:
        value = value.removeprefix("@")
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{3,31}", value):
            raise ValueError("TELEGRAM_BOT_USERNAME must be a Telegram bot username")
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _api_root(cls, value: str) -> str:
        # Accept the root and python-telegram-bot's own base_url form alike: <root>/bot.
        return value.rstrip("/").removesuffix("/bot")

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram's own rule for secret_token.
        if value is not None and not re.fullmatch(
            r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()
        ):
            raise ValueError("TELEGRAM_WEBHOOK_SECRET: 1-256 characters of A-Z a-z 0-9 _ -")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> NotificationSettings:
        if self.smtp_use_tls and self.smtp_starttls:
            raise ValueError("SMTP_USE_TLS (implicit TLS) and SMTP_STARTTLS exclude each other")
        if self.environment == "production":
            if self.unsubscribe_secret.get_secret_value() == DEV_UNSUBSCRIBE_SECRET:
                raise ValueError("production needs UNSUBSCRIBE_SECRET")
            if self.telegram_bot_token is not None and self.telegram_webhook_secret is None:
                raise ValueError("production needs TELEGRAM_WEBHOOK_SECRET with a bot token")
        return self

    @property
    def telegram_enabled(self) -> bool:
        return self.telegram_bot_token is not None

    @property
    def arq_queue_name(self) -> str:
        # The queue `webrana_common.worker.worker_settings` gives this service's worker.
        return f"arq:{self.service_name}"

    def link(self, path: str) -> str:
        return f"{self.public_base_url.rstrip('/')}{path}"
