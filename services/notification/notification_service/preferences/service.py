"""A user's notification preferences: per category x channel, a mute per channel, quiet hours."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

import asyncpg
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from notification_service.contracts import LOCKED_CATEGORIES, Category, Channel
from notification_service.deliveries.repository import Work
from notification_service.errors import PreferenceLocked
from notification_service.preferences import repository
from notification_service.preferences.models import Preference
from notification_service.preferences.quiet_hours import quiet_until
from notification_service.preferences.schemas import (
    ChannelSwitches,
    MutedChannels,
    PreferencesUpdate,
    PreferencesView,
    QuietHours,
)

# Switches that cannot be turned off: an account must always hear about its own security and
# the mails it asked for (verification, reset), and see them in-app.
LOCKED = frozenset(
    (category, channel)
    for category in LOCKED_CATEGORIES
    for channel in (Channel.EMAIL, Channel.IN_APP)
)


@dataclass(frozen=True)
class Preferences:
    channels: dict[str, dict[str, bool]] = field(default_factory=dict)
    muted_email: bool = False
    muted_telegram: bool = False
    quiet_start: time | None = None
    quiet_end: time | None = None

    @classmethod
    def of(cls, row: Preference | Row[Any] | Work | None) -> Preferences:
        if row is None:
            return cls()
        return cls(
            channels=row.channels,
            muted_email=row.muted_email,
            muted_telegram=row.muted_telegram,
            quiet_start=row.quiet_hours_start,
            quiet_end=row.quiet_hours_end,
        )

    def allows(self, category: Category, channel: Channel) -> bool:
        if (category, channel) in LOCKED:
            return True
        return bool(self.channels.get(category, {}).get(channel, True))

    def muted(self, category: Category, channel: Channel) -> bool:
        if category in LOCKED_CATEGORIES and channel == Channel.EMAIL:
            return False
        return {Channel.EMAIL: self.muted_email, Channel.TELEGRAM: self.muted_telegram}.get(
            channel, False
        )

    def quiet_until(self, now: datetime) -> datetime | None:
        if self.quiet_start is None or self.quiet_end is None:
            return None
        return quiet_until(now, self.quiet_start, self.quiet_end)


async def load(
    session: AsyncSession | AsyncConnection | asyncpg.Connection, user_id: uuid.UUID
) -> Preferences:
    return Preferences.of(await repository.get(session, user_id))


async def load_many(
    session: AsyncSession, user_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Preferences]:
    rows = await repository.get_many(session, user_ids)
    return {user_id: Preferences.of(rows.get(user_id)) for user_id in user_ids}


def view(preferences: Preferences) -> PreferencesView:
    categories = {
        category: ChannelSwitches(
            **{channel.value: preferences.allows(category, channel) for channel in Channel}
        )
        for category in Category
    }
    quiet = None
    if preferences.quiet_start is not None and preferences.quiet_end is not None:
        quiet = QuietHours(start=preferences.quiet_start, end=preferences.quiet_end)
    return PreferencesView(
        categories=categories,
        muted=MutedChannels(email=preferences.muted_email, telegram=preferences.muted_telegram),
        quiet_hours=quiet,
        locked=sorted(f"{category}.{channel}" for category, channel in LOCKED),
    )


async def save(
    session: AsyncSession, user_id: uuid.UUID, update: PreferencesUpdate
) -> PreferencesView:
    refused = [
        f"{category}.{channel}"
        for category, switches in update.categories.items()
        for channel in Channel
        if (category, channel) in LOCKED and not getattr(switches, channel.value)
    ]
    if refused:
        raise PreferenceLocked(
            f"These cannot be switched off: {', '.join(sorted(refused))}", fields=sorted(refused)
        )
    stored = Preferences(
        channels={str(c): switches.model_dump() for c, switches in update.categories.items()},
        muted_email=update.muted.email,
        muted_telegram=update.muted.telegram,
        quiet_start=update.quiet_hours.start if update.quiet_hours else None,
        quiet_end=update.quiet_hours.end if update.quiet_hours else None,
    )
    await _store(session, user_id, stored)
    return view(stored)


async def _store(session: AsyncSession, user_id: uuid.UUID, preferences: Preferences) -> None:
    await repository.upsert(
        session,
        user_id,
        {
            "channels": preferences.channels,
            "muted_email": preferences.muted_email,
            "muted_telegram": preferences.muted_telegram,
            "quiet_hours_start": preferences.quiet_start,
            "quiet_hours_end": preferences.quiet_end,
        },
    )


async def switch_off(
    session: AsyncSession, user_id: uuid.UUID, category: Category, channel: Channel
) -> None:
    """One switch off, the rest kept (the one-click unsubscribe of marketing mail)."""
    if (category, channel) in LOCKED:
        raise PreferenceLocked(f"{category}.{channel} cannot be switched off")
    current = await load(session, user_id)
    channels = {k: dict(v) for k, v in current.channels.items()}
    channels.setdefault(str(category), {})[str(channel)] = False
    await _store(session, user_id, dataclasses.replace(current, channels=channels))
