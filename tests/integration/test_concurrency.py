"""Backfill-shaped concurrency on a real server: many hours at once, and one hour twice at once."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta

from support.aggregate_helpers import stored
from themepark_devtools import sample_data
from themepark_hourly import aggregation, db
from themepark_hourly.hours import Hour

SPEC = sample_data.SampleSpec(parks=6, rides_per_park=10, first_day=date(2025, 7, 4), seed=11)
FIRST = datetime.fromisoformat("2025-07-04T10:00:00+00:00")


def _aggregate(hour: Hour) -> None:
    with db.connection() as conn:
        aggregation.aggregate_rides(conn, hour, 10)
        aggregation.aggregate_parks(conn, hour)


def _run_all(hours: list[Hour]) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(hours))

    def work(hour: Hour) -> None:
        try:
            barrier.wait(timeout=30)
            _aggregate(hour)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(h,)) for h in hours]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "an aggregation did not finish within 300 s"
    return errors


def test_ten_hours_at_once_equal_a_serial_run_and_same_hour_twice_is_one_result(migrated):
    with db.connection() as conn:
        sample_data.write(conn, sample_data.Sample(SPEC))
    hours = [Hour(FIRST + timedelta(hours=k)) for k in range(10)]
    for hour in hours:
        _aggregate(hour)
    serial = {h.start: stored(migrated, h.start.strftime("%Y-%m-%d %H:%M:%S")) for h in hours}
    assert sum(len(rides) for rides, _ in serial.values()) > 300

    migrated.execute("DELETE FROM ride_hourly_stats")
    migrated.execute("DELETE FROM park_hourly_stats")
    for _ in range(2):  # repeated: a lucky interleaving must not hide a deadlock
        assert _run_all(hours) == []
        assert {h.start: stored(migrated, h.start.strftime("%Y-%m-%d %H:%M:%S")) for h in hours} == serial

    # The same hour from four runs at once (a scheduled run and backfills): serialised by the
    # hour's lock, no error, no duplicate, one result.
    same = [hours[3]] * 4
    assert _run_all(same) == []
    assert stored(migrated, hours[3].start.strftime("%Y-%m-%d %H:%M:%S")) == serial[hours[3].start]
    counts = migrated.query(
        "SELECT COUNT(*), COUNT(DISTINCT ride_id) FROM ride_hourly_stats WHERE hour_start_utc = %s",
        (hours[3].start.strftime("%Y-%m-%d %H:%M:%S"),),
    )
    assert counts[0][0] == counts[0][1] == len(serial[hours[3].start][0])
