"""Which of the two look-up paths the ride aggregation takes (tests/integration/test_lookup_paths.py
proves they give the same rows)."""

from __future__ import annotations

from datetime import datetime, timedelta

from themepark_hourly import aggregation
from themepark_hourly.hours import Hour


def test_path_follows_how_much_data_lies_after_the_hour():
    hour = Hour.parse("2025-12-08T14:00")
    assert aggregation.last_open_statements(hour, None) == aggregation.LAST_OPEN_RECENT
    just_after = datetime(2025, 12, 8, 15, 59, 59)  # as the server returns it: naive UTC
    assert aggregation.last_open_statements(hour, just_after) == aggregation.LAST_OPEN_RECENT
    assert aggregation.last_open_statements(hour, just_after + timedelta(seconds=1)) == aggregation.LAST_OPEN_ANY_HOUR
