"""The local day of each park that contains an hour, expressed in UTC.

Done in Python because MySQL's named time zones are often not loaded (CONVERT_TZ then returns
NULL) and because DST makes a local midnight's UTC offset differ from the hour's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@dataclass(frozen=True)
class BadTimezone:
    park_id: int
    value: object
    reason: str


def day_start_utc(hour_start: datetime, tz_name: str) -> datetime:
    """UTC instant of the local midnight that starts the park's day containing ``hour_start``.

    Where a DST change skips midnight (some zones shift at 00:00), the day starts at the first
    local instant that exists, which is what the fold-0 conversion below gives.
    """
    zone = ZoneInfo(tz_name)
    local = hour_start.astimezone(zone)
    midnight = datetime(local.year, local.month, local.day, tzinfo=zone)
    return midnight.astimezone(UTC)


def compute(hour_start: datetime, parks: list[tuple[int, object]]) -> tuple[list[list], list[BadTimezone]]:
    """``[[park_id, 'YYYY-MM-DD HH:MM:SS' UTC or None], ...]`` and the parks whose zone is invalid."""
    rows: list[list] = []
    bad: list[BadTimezone] = []
    for park_id, tz_name in parks:
        reason = None
        if not isinstance(tz_name, str) or not tz_name.strip():
            reason = "empty"
        elif tz_name != tz_name.strip():
            reason = "has surrounding spaces"
        else:
            try:
                start = day_start_utc(hour_start, tz_name)
            except (ZoneInfoNotFoundError, ValueError):
                reason = "not an IANA time zone name"
        if reason:
            bad.append(BadTimezone(int(park_id), tz_name, reason))
            rows.append([int(park_id), None])
        else:
            rows.append([int(park_id), start.strftime("%Y-%m-%d %H:%M:%S")])
    return rows, bad
