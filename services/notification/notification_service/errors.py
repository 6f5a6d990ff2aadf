"""The notification service's domain errors, each with a stable problem `code`."""

from __future__ import annotations

from webrana_common.errors import (
    BadRequest,
    Forbidden,
    NotFound,
    ServiceUnavailable,
    ValidationFailed,
)


class NotificationNotFound(NotFound):
    code = "notification_not_found"
    title = "Notification not found"


class UserNotFound(NotFound):
    code = "user_not_found"
    title = "User not found"


class AuthUnavailable(ServiceUnavailable):
    code = "auth_unavailable"
    title = "The auth service did not answer"


class IdempotencyKeyMissing(BadRequest):
    code = "idempotency_key_missing"
    title = "An idempotency key is required"


class IdempotencyKeyMismatch(BadRequest):
    code = "idempotency_key_mismatch"
    title = "The Idempotency-Key header and the body's idempotency_key differ"


class InvalidEventData(ValidationFailed):
    code = "invalid_event_data"
    title = "The data does not match the event's contract"


class PreferenceLocked(ValidationFailed):
    code = "preference_locked"
    title = "Security and transactional notifications cannot be switched off"


class WebhookSecretInvalid(Forbidden):
    code = "webhook_secret_invalid"
    title = "Telegram webhook secret missing or wrong"


class TelegramNotConfigured(ServiceUnavailable):
    code = "telegram_not_configured"
    title = "TELEGRAM_BOT_TOKEN is not set"


class BroadcastNotFound(NotFound):
    code = "broadcast_not_found"
    title = "Broadcast not found"


class TemplateNotFound(NotFound):
    code = "template_not_found"
    title = "No template for this event"


class UnsubscribeTokenInvalid(BadRequest):
    code = "unsubscribe_token_invalid"
    title = "Unsubscribe link invalid"
