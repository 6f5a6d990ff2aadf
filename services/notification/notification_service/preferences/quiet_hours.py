"""Quiet hours: wall-clock windows in Asia/Jakarta (WIB has no daylight saving time)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

JAKARTA = ZoneInfo("Asia/Jakarta")


def quiet_until(now: datetime, start: time, end: time) -> datetime | None:
    """When the window holding `now` ends (UTC), or None outside the window. A window may wrap
    midnight (22:00-07:00); `start == end` is no window."""
    if start == end:
        return None
    local = now.astimezone(JAKARTA)
    moment = local.time().replace(tzinfo=None)
    if start < end:
        inside = start <= moment < end
        end_day = local.date()
    else:
        inside = moment >= start or moment < end
        end_day = local.date() + timedelta(days=1) if moment >= start else local.date()
    if not inside:
        return None
    return datetime.combine(end_day, end, tzinfo=JAKARTA).astimezone(now.tzinfo)
