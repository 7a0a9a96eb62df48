"""The sample day the end-to-end suites aggregate (the fixture ``sample_day`` in tests/e2e/conftest.py
writes it), and its hours as the REST API and the tracker database spell them."""

from __future__ import annotations

from datetime import date

DAY = date(2025, 7, 4)


def at(hour: int, day: date = DAY) -> str:
    """The hour as an ISO date-time in UTC, for the REST API (backfill bounds, logical dates)."""
    return f"{day.isoformat()}T{hour:02d}:00:00Z"


def db_hour(hour: int, day: date = DAY) -> str:
    """The hour as the database compares it (hour_start_utc, aggregated_from_ts)."""
    return f"{day.isoformat()} {hour:02d}:00:00"
