"""Which hour a run aggregates, for every shape of run Airflow makes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pendulum
import pytest

from themepark_hourly.hours import Hour, IntervalError, resolve

UTC = UTC


def at(h: int, m: int = 0, s: int = 0, day: int = 8) -> datetime:
    return datetime(2025, 12, day, h, m, s, tzinfo=UTC)


def test_scheduled_or_backfill_run_uses_its_interval():
    r = resolve(at(14), at(15), at(14), at(15))
    assert r.hour == Hour(at(14))
    assert "data interval" in r.reason


def test_interval_in_another_time_zone_is_the_same_instant():
    start = pendulum.datetime(2025, 12, 8, 9, tz="America/New_York")  # 14:00 UTC
    r = resolve(start, start.add(hours=1))
    assert r.hour.start == at(14)


def test_zero_width_interval_takes_the_hour_ending_at_the_logical_date():
    assert resolve(at(15), at(15), at(15)).hour == Hour(at(14))
    assert resolve(at(15, 20), at(15, 20), at(15, 20)).hour == Hour(at(14))


def test_trigger_with_logical_date_but_interval_from_now():
    r = resolve(at(18, 3), at(18, 3), logical_date=at(15), run_after=at(18, 3))
    assert r.hour == Hour(at(14))
    assert "logical date" in r.reason


def test_manual_run_without_interval_or_logical_date_uses_run_after():
    r = resolve(None, None, None, at(0, 7, day=9))
    assert r.hour == Hour(at(23, day=8))
    assert "run_after" in r.reason and "no data interval" in r.reason


@pytest.mark.parametrize(
    "start,end",
    [
        (at(14), at(16)),  # two hours
        (at(14, 30), at(15, 30)),  # one hour, not aligned
        (at(14), at(14, 30)),  # half an hour
        (at(0), at(0, day=9)),  # a day
    ],
)
def test_other_intervals_are_refused_and_named(start, end):
    with pytest.raises(IntervalError) as err:
        resolve(start, end, start, end)
    assert start.isoformat() in str(err.value) and end.isoformat() in str(err.value)


def test_nothing_to_go_by_is_refused():
    with pytest.raises(IntervalError):
        resolve(None, None, None, None)


def test_hour_rejects_unaligned_or_naive_starts():
    with pytest.raises(ValueError):
        Hour(at(14, 1))
    with pytest.raises(ValueError):
        Hour(datetime(2025, 12, 8, 14))
    assert Hour.parse("2025-12-08T14:00").end - Hour.parse("2025-12-08T14:00").start == timedelta(hours=1)
    assert str(Hour(at(14))) == "2025-12-08 14:00-15:00 UTC"
