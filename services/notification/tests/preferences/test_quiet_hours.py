"""Quiet hours in Asia/Jakarta (UTC+7, no daylight saving)."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from notification_service.preferences.quiet_hours import quiet_until

NIGHT = (time(22, 0), time(7, 0))
NOON = (time(12, 0), time(13, 30))


@pytest.mark.parametrize(
    ("utc", "window", "expected"),
    [
        # 23:00 WIB: inside 22-07, ends 07:00 WIB tomorrow = 00:00 UTC.
        (datetime(2025, 1, 15, 16, 0, tzinfo=UTC), NIGHT, datetime(2025, 1, 16, 0, 0, tzinfo=UTC)),
        # 03:00 WIB: inside, ends 07:00 WIB the same day.
        (datetime(2025, 1, 14, 20, 0, tzinfo=UTC), NIGHT, datetime(2025, 1, 15, 0, 0, tzinfo=UTC)),
        # 07:00 WIB sharp: outside (the end is exclusive).
        (datetime(2025, 1, 15, 0, 0, tzinfo=UTC), NIGHT, None),
        # 21:59 WIB: outside.
        (datetime(2025, 1, 15, 14, 59, tzinfo=UTC), NIGHT, None),
        # 12:30 WIB in a daytime window: ends 13:30 WIB = 06:30 UTC.
        (datetime(2025, 1, 15, 5, 30, tzinfo=UTC), NOON, datetime(2025, 1, 15, 6, 30, tzinfo=UTC)),
        (datetime(2025, 1, 15, 7, 0, tzinfo=UTC), NOON, None),
    ],
)
def test_window_end_in_jakarta(
    utc: datetime, window: tuple[time, time], expected: datetime | None
) -> None:
    assert quiet_until(utc, *window) == expected


def test_no_window_when_start_equals_end() -> None:
    assert quiet_until(datetime(2025, 1, 15, 16, 0, tzinfo=UTC), time(1), time(1)) is None
