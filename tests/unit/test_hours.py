"""Which hour a run aggregates, for every shape of run Airflow makes, and when an hour has settled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pendulum
import pytest

from themepark_hourly.hours import Hour, HourNotSettled, IntervalError, check_settled, last_settled_hour, resolve

SETTLE = timedelta(minutes=5)


def at(h: int, m: int = 0, s: int = 0, day: int = 8) -> datetime:
    return datetime(2025, 12, day, h, m, s, tzinfo=UTC)


def test_logical_date_on_the_hour_is_the_hour_starting_then():
    # Scheduled and backfill runs: logical date 14:00, interval [14:00, 15:00).
    r = resolve(at(14), at(15, 5), SETTLE, at(14), at(15))
    assert r.hour == Hour(at(14))
    assert "logical date 2025-12-08 14:00 UTC" in r.reason and "ignored" not in r.reason


def test_airflow_dags_test_of_an_hour_aggregates_that_hour_not_the_one_before():
    # `airflow dags test DAG 2025-12-08T14:00:00+00:00` run a year later.
    r = resolve(pendulum.datetime(2025, 12, 8, 14, tz="UTC"), pendulum.datetime(2026, 11, 29, 1, tz="UTC"), SETTLE)
    assert r.hour == Hour(at(14))


def test_logical_date_in_another_time_zone_is_the_same_instant():
    r = resolve(pendulum.datetime(2025, 12, 8, 9, tz="America/New_York"), None, SETTLE)
    assert r.hour == Hour(at(14))


def test_logical_date_off_the_hour_means_the_last_hour_settled_by_then():
    assert resolve(at(15, 20), None, SETTLE).hour == Hour(at(14))
    # At 15:03 the 14:00 hour settles only at 15:05: the last settled one is 13:00.
    r = resolve(at(15, 3), None, SETTLE)
    assert r.hour == Hour(at(13))
    assert "off the hour" in r.reason and "5 min settle" in r.reason


def test_no_logical_date_means_the_last_hour_settled_when_triggered():
    r = resolve(None, at(15, 5), SETTLE)
    assert r.hour == Hour(at(14))
    assert "no logical date" in r.reason and "15:05:00" in r.reason
    assert resolve(None, at(15, 4, 59), SETTLE).hour == Hour(at(13))
    assert resolve(None, at(15, 0), timedelta(0)).hour == Hour(at(14))


def test_a_disagreeing_data_interval_is_named_and_the_logical_date_decides():
    # `airflow dags trigger -l T` infers the interval from the time of the call.
    r = resolve(at(14), at(15), SETTLE, at(22, day=9), at(23, day=9))
    assert r.hour == Hour(at(14))
    assert "2025-12-09T22:00:00+00:00 to 2025-12-09T23:00:00+00:00 is not that hour and is ignored" in r.reason


def test_no_dates_at_all_or_naive_dates_are_refused():
    with pytest.raises(IntervalError, match="no logical date and no run_after"):
        resolve(None, None, SETTLE)
    with pytest.raises(IntervalError, match="naive"):
        resolve(datetime(2025, 12, 8, 14), None, SETTLE)


def test_last_settled_hour_at_the_boundaries():
    assert last_settled_hour(at(15, 5), SETTLE) == Hour(at(14))
    assert last_settled_hour(at(15, 4, 59), SETTLE) == Hour(at(13))
    assert last_settled_hour(at(0, 2, day=9), SETTLE) == Hour(at(22))


def test_an_hour_is_refused_until_it_settled_and_the_message_says_when():
    check_settled(Hour(at(14)), SETTLE, at(15, 5))  # settled exactly now: accepted
    with pytest.raises(HourNotSettled) as refused:
        check_settled(Hour(at(14)), SETTLE, at(15, 4, 59))
    message = str(refused.value)
    assert "2025-12-08 14:00-15:00 UTC" in message and "until 2025-12-08 15:05:00 UTC" in message
    assert "THEMEPARK_SETTLE_MINUTES" in message


def test_hour_must_be_aligned_and_aware():
    with pytest.raises(ValueError, match="not on the hour"):
        Hour(at(14, 30))
    with pytest.raises(ValueError, match="aware UTC"):
        Hour(datetime(2025, 12, 8, 14))
    assert str(Hour.parse("2025-12-08T14:00")) == "2025-12-08 14:00-15:00 UTC"
    assert Hour(at(14)).db_params() == {"hour_start": "2025-12-08 14:00:00", "hour_end": "2025-12-08 15:00:00"}
