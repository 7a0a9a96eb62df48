"""Each park's local day start (park_days.py) against the reference's, across DST changes."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "zone, day",
    [
        ("America/Santiago", "2025-09-07"),  # midnight skipped (spring forward at 00:00)
        ("America/Santiago", "2025-04-06"),  # falls back at 24:00: 23:00 of the 5th repeats
        ("America/Havana", "2025-03-09"),  # midnight skipped
        ("Asia/Beirut", "2025-03-30"),  # midnight skipped
        ("Europe/Amsterdam", "2025-03-30"),
        ("America/New_York", "2025-11-02"),
        ("Australia/Lord_Howe", "2025-10-05"),  # a 30-minute change
        ("Asia/Kathmandu", "2025-07-04"),  # +05:45
    ],
)
def test_park_day_start_agrees_with_the_reference_on_dst_days(zone, day):
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from support import reference
    from themepark_hourly import park_days

    first = datetime.fromisoformat(f"{day}T00:00:00+00:00") - timedelta(hours=14)
    for k in range(48):
        hour = first + timedelta(hours=k)
        assert park_days.day_start_utc(hour, zone) == reference.day_start(hour, ZoneInfo(zone)), (zone, hour)
