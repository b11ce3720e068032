"""Fallback send-time choice used until/unless polku.messaging.send_time is available (pure).

Send inside the customer's local window [start_hour, end_hour); outside it, wait
until the window opens. The answer is never more than 24 hours away, so a Wait
that uses it is bounded.
"""

from __future__ import annotations

import datetime as _dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MAX_DELAY_SECONDS = 24 * 3600


def next_send_time(now: _dt.datetime, time_zone: str | None, start_hour: int = 9, end_hour: int = 20) -> _dt.datetime:
    try:
        tz = ZoneInfo(time_zone) if time_zone else _dt.timezone.utc
    except (ZoneInfoNotFoundError, ValueError):
        tz = _dt.timezone.utc
    local = now.astimezone(tz)
    if start_hour <= local.hour < end_hour:
        return now
    day = local.date() if local.hour < start_hour else local.date() + _dt.timedelta(days=1)
    opens = _dt.datetime(day.year, day.month, day.day, start_hour, tzinfo=tz)
    return opens.astimezone(_dt.timezone.utc)
