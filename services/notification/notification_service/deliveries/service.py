"""Sending one queued delivery (email or Telegram) and recording what happened.

The delivery is read in one short transaction, sent outside any transaction, and its outcome
recorded in another, so no database connection waits on an SMTP server or on Telegram.
Transient failures are retried with exponential backoff (Telegram's 429 waits exactly its
`retry_after`); permanent ones fail at once; a blocked bot unlinks the chat through auth.
"""

from __future__ import annotations

import logging
import random
import uuid
from dataclasses import dataclass
from datetime import timedelta

from jinja2 import TemplateError
from pydantic import ValidationError
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError

from notification_service.clients import AuthClient, AuthUser
from notification_service.config import NotificationSettings
from notification_service.contracts import EVENTS, Category, Channel, NotificationEvent
from notification_service.deliveries import repository
from notification_service.deliveries.mailer import Mailer, is_permanent
from notification_service.deliveries.models import Delivery, DeliveryReason, DeliveryStatus
from notification_service.errors import AuthUnavailable, UserNotFound
from notification_service.preferences import service as preferences
from notification_service.rendering.renderer import Renderer
from notification_service.telegram_bot import repository as chats
from notification_service.telegram_bot.bot import TelegramBot, retry_after_seconds
from notification_service.unsubscribe import UNSUBSCRIBE_PATH, make_token
from webrana_common.db.base import utcnow
from webrana_common.db.session import Database

log = logging.getLogger("notification.deliveries")


@dataclass(frozen=True)
class Channels:
    settings: NotificationSettings
    db: Database
    auth: AuthClient
    renderer: Renderer
    mailer: Mailer
    bot: TelegramBot


@dataclass(frozen=True)
class Outcome:
    status: DeliveryStatus
    reason: DeliveryReason | None = None
    error: str | None = None
    recipient: str | None = None
    subject: str | None = None
    # Transient: try again after this many seconds (None: the backoff decides).
    retry: bool = False
    retry_after: float | None = None


def _sent(recipient: str, subject: str) -> Outcome:
    return Outcome(DeliveryStatus.SENT, recipient=recipient, subject=subject)


def _skipped(reason: DeliveryReason) -> Outcome:
    return Outcome(DeliveryStatus.SKIPPED, reason)


def _failed(reason: DeliveryReason, error: str) -> Outcome:
    return Outcome(DeliveryStatus.FAILED, reason, error=error[:1000])


def _transient(error: str, retry_after: float | None = None) -> Outcome:
    return Outcome(DeliveryStatus.QUEUED, error=error[:1000], retry=True, retry_after=retry_after)


@dataclass(frozen=True)
class _Work:
    delivery_id: uuid.UUID
    channel: Channel
    user_id: uuid.UUID
    event: NotificationEvent
    data: dict[str, object]
    title: str
    allowed: bool


async def send_delivery(channels: Channels, delivery_id: uuid.UUID) -> float | None:
    """Send it; returns seconds to wait before the next try, or None when it is settled."""
    work = await _load(channels.db, delivery_id)
    if work is None:
        return None
    outcome = work if isinstance(work, Outcome) else await _attempt(channels, work)
    return await _record(channels, delivery_id, outcome)


async def _load(db: Database, delivery_id: uuid.UUID) -> _Work | Outcome | None:
    """The job's work, read in one statement outside any transaction (`_record` settles it
    only if it is still QUEUED then); an Outcome when it can only fail."""
    async with db.driver() as connection:
        row = await repository.work(connection, delivery_id)
    if row is None or row.status != DeliveryStatus.QUEUED:
        return None  # settled already: a duplicate job, or a requeue racing the first
    if row.notification_id is None:
        return _failed(DeliveryReason.REJECTED, "notification no longer exists")
    # Preferences as they are now, not at the send (a delivery waiting out quiet hours).
    current = preferences.Preferences.of(row if row.preferences_user_id is not None else None)
    category, channel = Category(row.category), Channel(row.channel)
    return _Work(
        delivery_id=row.id,
        channel=channel,
        user_id=row.user_id,
        event=NotificationEvent(row.event),
        data=row.data or {},
        title=row.title or "",
        allowed=current.allows(category, channel) and not current.muted(category, channel),
    )


async def _attempt(channels: Channels, work: _Work) -> Outcome:
    if not work.allowed:
        return _skipped(DeliveryReason.PREFERENCE_OFF)
    try:
        user = await channels.auth.get_user(work.user_id)
    except UserNotFound:
        return _failed(DeliveryReason.USER_NOT_FOUND, "auth knows no such user")
    except AuthUnavailable as exc:
        return _transient(f"user lookup: {exc.detail}")
    try:
        data = EVENTS[work.event].data.model_validate(work.data)
    except ValidationError as exc:
        return _failed(DeliveryReason.REJECTED, f"stored data breaks the contract: {exc}")
    try:
        if work.channel == Channel.EMAIL:
            return await _email(channels, work, user, data)
        return await _telegram(channels, work, user, data)
    except TemplateError:
        log.exception("template failed", extra={"event": work.event})
        return _failed(DeliveryReason.REJECTED, "template error (reported)")


async def _email(channels: Channels, work: _Work, user: AuthUser, data: object) -> Outcome:
    spec = EVENTS[work.event]
    if not user.email_verified and not spec.to_unverified_email:
        return _skipped(DeliveryReason.EMAIL_UNVERIFIED)
    settings = channels.settings
    unsubscribe_url = None
    if spec.category == Category.MARKETING:
        token = make_token(settings.unsubscribe_secret.get_secret_value(), user.id, spec.category)
        unsubscribe_url = settings.link(f"{UNSUBSCRIBE_PATH}?token={token}")
    email = channels.renderer.email(
        work.event,
        user.locale,
        data,  # type: ignore[arg-type]
        recipient_name=user.full_name,
        unsubscribe_url=unsubscribe_url,
    )
    mail = channels.mailer.build(user.email, email, unsubscribe_url=unsubscribe_url)
    try:
        await channels.mailer.send(mail)
    except Exception as exc:  # aiosmtplib's errors, OSError, timeouts: sorted just below
        error = f"{type(exc).__name__}: {exc}"
        if is_permanent(exc):
            return _failed(DeliveryReason.REJECTED, error)
        return _transient(error)
    return _sent(user.email, email.subject)


async def _telegram(channels: Channels, work: _Work, user: AuthUser, data: object) -> Outcome:
    chat_id = user.telegram_chat_id
    if chat_id is None:
        return _skipped(DeliveryReason.NO_CHAT_LINKED)
    if not channels.bot.enabled:
        return _skipped(DeliveryReason.TELEGRAM_DISABLED)
    text = channels.renderer.telegram(work.event, user.locale, data)  # type: ignore[arg-type]
    try:
        await channels.bot.send_html(chat_id, text)
    except RetryAfter as exc:
        return _transient(f"Telegram 429: {exc}", retry_after_seconds(exc))
    except Forbidden as exc:
        await _unlink_blocked(channels, user.id, chat_id)
        return _failed(DeliveryReason.BOT_BLOCKED, f"Telegram 403: {exc.message}")
    except (BadRequest, ChatMigrated) as exc:
        return _failed(DeliveryReason.REJECTED, f"Telegram refused: {exc.message}")
    except TelegramError as exc:  # NetworkError, TimedOut, InvalidToken (a misconfiguration)
        return _transient(f"{type(exc).__name__}: {exc.message}")
    return _sent(str(chat_id), work.title)


async def _unlink_blocked(channels: Channels, user_id: uuid.UUID, chat_id: int) -> None:
    """The user blocked the bot: stop trying that chat, here and at auth."""
    try:
        await channels.auth.unlink_telegram(user_id, chat_id)
    except AuthUnavailable:
        # The next send to this chat hits the same 403 and tries again.
        log.warning("could not unlink a blocked chat at auth", extra={"user": str(user_id)})
    async with channels.db.session() as session:
        await chats.forget(session, chat_id)


def backoff(settings: NotificationSettings, attempts: int) -> float:
    delay = settings.delivery_retry_base_seconds * 2 ** max(0, attempts - 1)
    return min(settings.delivery_retry_max_seconds, delay) * random.uniform(0.8, 1.2)


def _settle(delivery: Delivery, outcome: Outcome) -> None:
    for column, value in _settled_values(outcome).items():
        setattr(delivery, column, value)


def _settled_values(outcome: Outcome) -> dict[str, object]:
    """The columns a settled delivery gets: one UPDATE, or `_settle` on a loaded row."""
    values: dict[str, object] = {"status": outcome.status, "reason": outcome.reason}
    if outcome.status == DeliveryStatus.SENT:
        values |= {
            "sent_at": utcnow(),
            "recipient": outcome.recipient,
            "subject": outcome.subject,
            "last_error": None,
        }
    else:
        if outcome.error:
            values["last_error"] = outcome.error
        if outcome.status == DeliveryStatus.FAILED:
            values["failed_at"] = utcnow()
    return values


async def _record(channels: Channels, delivery_id: uuid.UUID, outcome: Outcome) -> float | None:
    settings = channels.settings
    if not outcome.retry:
        # The common case (sent, skipped, failed for good): one atomic statement, guarded by
        # the QUEUED status like the locked read below.
        async with channels.db.driver() as connection:
            await repository.settle(
                connection,
                delivery_id,
                _settled_values(outcome),
                attempted=outcome.status != DeliveryStatus.SKIPPED,
            )
        return None
    async with channels.db.session() as session:
        delivery = await repository.get(session, delivery_id, for_update=True)
        if delivery is None or delivery.status != DeliveryStatus.QUEUED:
            return None
        # A transient outcome, so something was tried: it counts against the limit.
        delivery.attempts += 1
        if delivery.attempts >= settings.delivery_max_attempts:
            _settle(delivery, _failed(DeliveryReason.RETRIES_EXHAUSTED, outcome.error or ""))
            return None
        delay = outcome.retry_after
        if delay is None:
            delay = backoff(settings, delivery.attempts)
        delivery.last_error = outcome.error
        delivery.scheduled_for = utcnow() + timedelta(seconds=delay)
        return delay
