"""Opening hours from the catalogue: is a channel open now, and how to say its hours."""

import os
from datetime import datetime, timezone
from typing import Optional
from zoneinfo import ZoneInfo

from core.catalogue import Hours

# Tests and demos pin the clock with an ISO time, e.g. ASSISTANT_FIXED_TIME=2026-11-27T14:00:00+00:00
FIXED_TIME_VARIABLE = "ASSISTANT_FIXED_TIME"


def current_time() -> datetime:
    fixed = os.environ.get(FIXED_TIME_VARIABLE)
    if fixed:
        return datetime.fromisoformat(fixed)
    return datetime.now(timezone.utc)


def is_open(hours: Optional[Hours], now: datetime) -> bool:
    if hours is None:
        return True
    local = now.astimezone(ZoneInfo(hours.timezone)).strftime("%H:%M")
    return hours.opens <= local < hours.closes


def _say_time(hhmm: str) -> str:
    hour, minute = int(hhmm[:2]), int(hhmm[3:])
    if hour in (0, 24) and minute == 0:
        return "midnight"
    if hour == 12 and minute == 0:
        return "midday"
    suffix = "am" if hour < 12 else "pm"
    hour12 = hour % 12 or 12
    return f"{hour12}{suffix}" if minute == 0 else f"{hour12}:{minute:02d}{suffix}"


def describe(hours: Hours) -> str:
    """'8am to midnight'."""
    return f"{_say_time(hours.opens)} to {_say_time(hours.closes)}"
