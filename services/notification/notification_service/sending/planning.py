"""Which channels a notification goes to, and why not: pure rules over the user, their
preferences and the event, shared by single sends and broadcasts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from notification_service.clients import AuthUser
from notification_service.contracts import Channel, EventSpec, Priority
from notification_service.deliveries.models import DeliveryReason, DeliveryStatus
from notification_service.preferences.service import Preferences


@dataclass(frozen=True)
class ChannelPlan:
    channel: Channel
    status: DeliveryStatus
    reason: DeliveryReason | None = None
    # When a QUEUED delivery is due (the end of quiet hours); None: now.
    scheduled_for: datetime | None = None
    recipient: str | None = None

    @property
    def queued(self) -> bool:
        return self.status == DeliveryStatus.QUEUED


def _skip(channel: Channel, reason: DeliveryReason) -> ChannelPlan:
    return ChannelPlan(channel, DeliveryStatus.SKIPPED, reason)


def plan_channels(
    spec: EventSpec,
    requested: Sequence[Channel] | None,
    user: AuthUser,
    preferences: Preferences,
    *,
    now: datetime,
    telegram_enabled: bool,
) -> list[ChannelPlan]:
    channels = [c for c in spec.channels if requested is None or c in requested]
    if requested is not None:
        # A producer may ask for a channel the event does not use by default (an in-app copy
        # of a mail); never for one outside the three.
        channels += [c for c in requested if c not in channels]
    quiet_until = None if spec.priority == Priority.URGENT else preferences.quiet_until(now)
    plans = []
    for channel in channels:
        plans.append(_plan_one(spec, channel, user, preferences, quiet_until, telegram_enabled))
    return plans


def _plan_one(
    spec: EventSpec,
    channel: Channel,
    user: AuthUser,
    preferences: Preferences,
    quiet_until: datetime | None,
    telegram_enabled: bool,
) -> ChannelPlan:
    category = spec.category
    if channel == Channel.IN_APP:
        if not preferences.allows(category, channel):
            return _skip(channel, DeliveryReason.PREFERENCE_OFF)
        # Stored whatever the hour: quiet hours only hold back what makes a phone buzz.
        return ChannelPlan(channel, DeliveryStatus.SENT)
    if channel == Channel.TELEGRAM and not telegram_enabled:
        return _skip(channel, DeliveryReason.TELEGRAM_DISABLED)
    if not preferences.allows(category, channel):
        return _skip(channel, DeliveryReason.PREFERENCE_OFF)
    if preferences.muted(category, channel):
        return _skip(channel, DeliveryReason.CHANNEL_MUTED)
    if channel == Channel.EMAIL:
        if not user.email_verified and not spec.to_unverified_email:
            return _skip(channel, DeliveryReason.EMAIL_UNVERIFIED)
        recipient = user.email
    else:
        if user.telegram_chat_id is None:
            return _skip(channel, DeliveryReason.NO_CHAT_LINKED)
        recipient = str(user.telegram_chat_id)
    if quiet_until is not None:
        return ChannelPlan(
            channel,
            DeliveryStatus.QUEUED,
            DeliveryReason.QUIET_HOURS,
            scheduled_for=quiet_until,
            recipient=recipient,
        )
    return ChannelPlan(channel, DeliveryStatus.QUEUED, recipient=recipient)
