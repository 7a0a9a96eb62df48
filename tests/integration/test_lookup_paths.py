"""The two ways of finding each ride's latest OPERATING snapshot before the hour give one answer.

aggregate_rides picks per-ride index dives when little data lies after the hour (the scheduler's
run) and one loose index scan of all rides otherwise (a backfill): see RIDE_SQL. Each test runs
the same hours both ways, forced, and holds both to the reference and to each other.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from support.aggregate_helpers import aggregate, assert_matches_reference, stored
from support.tracker import Tracker
from themepark_devtools import sample_data
from themepark_hourly import aggregation, db
from themepark_hourly.hours import Hour

PATHS = {"dives": aggregation.LAST_OPEN_RECENT, "scan": aggregation.LAST_OPEN_ANY_HOUR}


def _both_ways(monkeypatch, database, hour: str) -> dict[str, tuple]:
    rows = {}
    for name, statements in PATHS.items():
        monkeypatch.setattr(aggregation, "last_open_statements", lambda _hour, _newest, s=statements: s)
        aggregate(database, hour)
        rows[name] = assert_matches_reference(database, hour)
    return rows


@pytest.mark.parametrize("hour", ["2025-07-05 13:00:00", "2025-07-06 02:00:00", "2025-07-05 20:00:00"])
def test_generated_days_give_the_same_rows_either_way(migrated, monkeypatch, hour):
    # Two days polled around the clock: Disney/Universal parks, a legacy park without status, a
    # ride that never opens, one under refurbishment, and a day of data after the hour.
    spec = sample_data.SampleSpec(
        parks=10, rides_per_park=12, first_day=date(2025, 7, 4), days=3, seed=11, all_day_polls=True
    )
    with db.connection() as conn:
        sample_data.write(conn, sample_data.Sample(spec))
    rows = _both_ways(monkeypatch, migrated, hour)
    assert rows["dives"] == rows["scan"]
    assert sum(r["ride_operated"] for r in rows["scan"][0].values()) > 0


def test_a_superseded_row_before_the_hour_does_not_count_either_way(migrated, monkeypatch):
    # docs/decisions/0002-duplicate-snapshots-last-written-wins.md: before the hour too, of the rows of one ride and
    # second only the last written counts. Each look-up that can land on a superseded row
    # (settle_last_open, last_legacy_open, last_down) has a ride here whose row changes with it.
    H = "2025-12-08 14:00:00"
    t = Tracker().park(1, disney=True).park(2)
    for ride in (10, 11, 12, 13, 20, 21, 22, 23):
        t.ride(ride, 1 if ride < 20 else 2)
    # Ride 10: the latest OPERATING before H was rewritten as CLOSED in the same second (the
    # higher snapshot_id wins); an earlier OPERATING today still makes it operated today.
    t.snap(10, "2025-12-08 09:00:00", "OPERATING", 5)
    t.snap(10, "2025-12-08 12:00:00", "OPERATING", 5).snap(10, "2025-12-08 12:00:00", "CLOSED")
    # Ride 11: its only OPERATING of the day is superseded; it ran yesterday (known to operate),
    # so its DOWN this morning still counts as operating today.
    t.snap(11, "2025-12-07 15:00:00", "OPERATING", 5)
    t.snap(11, "2025-12-08 10:00:00", "DOWN")
    t.snap(11, "2025-12-08 11:00:00", "OPERATING", 5).snap(11, "2025-12-08 11:00:00", "DOWN")
    # Ride 12: never really open: its one OPERATING ever is superseded, so its DOWNs are not down.
    t.snap(12, "2025-12-08 11:00:00", "OPERATING", 5).snap(12, "2025-12-08 11:00:00", "CLOSED")
    # Ride 13: ran yesterday; today's one DOWN was rewritten as CLOSED and it is CLOSED all of H:
    # not operated today (counted as written, that DOWN would make it operated).
    t.snap(13, "2025-12-07 15:00:00", "OPERATING", 5)
    t.snap(13, "2025-12-08 10:00:00", "DOWN").snap(13, "2025-12-08 10:00:00", "CLOSED")
    # Ride 20: a duplicate that repeats the same OPERATING poll (both rows open).
    t.snap(20, "2025-12-08 12:00:00", "OPERATING", 5).snap(20, "2025-12-08 12:00:00", "OPERATING", 5)
    # Ride 21: its only OPERATING of the day superseded; not a down-reporting park.
    t.snap(21, "2025-12-08 12:00:00", "OPERATING", 5).snap(21, "2025-12-08 12:00:00", "CLOSED")
    # Ride 22: the other way round (CLOSED rewritten as OPERATING): operated today.
    t.snap(22, "2025-12-08 12:00:00", "CLOSED").snap(22, "2025-12-08 12:00:00", "OPERATING", 5)
    # Ride 23: a collector without status; its only open row today was rewritten as closed.
    t.snap(23, "2025-12-08 12:00:00", None, 5, computed_is_open=1).snap(23, "2025-12-08 12:00:00", None)
    for ride in (10, 11, 12):
        for k in range(6):
            t.snap(ride, f"2025-12-08 14:{k * 10:02d}:00", "DOWN")
    for ride in (13, 20, 21, 22):
        for k in range(6):
            t.snap(ride, f"2025-12-08 14:{k * 10:02d}:00", "CLOSED")
    for k in range(6):
        t.snap(23, f"2025-12-08 14:{k * 10:02d}:00", None)
    t.park_open_all_hour(1, H).park_open_all_hour(2, H)
    # A day of later data, so that the dives step back over rows after the hour.
    for ride in (10, 11, 12, 13, 20, 21, 22, 23):
        t.snap(ride, "2025-12-08 18:00:00", "OPERATING", 5)
    t.write(migrated)
    rows = _both_ways(monkeypatch, migrated, H)
    assert rows["dives"] == rows["scan"]
    rides = rows["scan"][0]
    assert {r: rides[r]["ride_operated"] for r in rides} == {
        10: 1, 11: 1, 12: 0, 13: 0, 20: 1, 21: 0, 22: 1, 23: 0
    }
    assert {r: rides[r]["down_snapshots"] for r in rides} == {
        10: 6, 11: 6, 12: 0, 13: 0, 20: 6, 21: 0, 22: 6, 23: 0
    }


@pytest.mark.parametrize("seed", [3, 17])
def test_generated_days_rewritten_at_random_give_the_reference_either_way(migrated, monkeypatch, seed):
    # Generated days with one ride poll in ten and one park poll in eight written a second time,
    # at the same second, with a status or open flag drawn at random (and a third time for some):
    # duplicates that disagree before the hour and in it, in every kind of park.
    import random

    rng = random.Random(seed)
    spec = sample_data.SampleSpec(
        parks=8, rides_per_park=6, first_day=date(2025, 7, 4), days=2, seed=seed, all_day_polls=True
    )
    with db.connection() as conn:
        sample_data.write(conn, sample_data.Sample(spec))
    rides = migrated.query("SELECT ride_id, recorded_at, status IS NULL FROM ride_status_snapshots ORDER BY snapshot_id")
    parks = migrated.query("SELECT park_id, recorded_at FROM park_activity_snapshots ORDER BY snapshot_id")
    rewrites = []
    for ride_id, at, legacy in rng.sample(rides, len(rides) // 10):
        for _ in range(rng.choice((1, 1, 2))):
            if legacy:
                rewrites.append((ride_id, at, None, rng.choice((0, 1))))
            else:
                status = rng.choice(("OPERATING", "DOWN", "CLOSED", "REFURBISHMENT"))
                rewrites.append((ride_id, at, status, int(status == "OPERATING")))
    migrated.executemany(
        "INSERT INTO ride_status_snapshots (ride_id, recorded_at, status, computed_is_open, wait_time) "
        "VALUES (%s, %s, %s, %s, 7)",
        rewrites,
    )
    migrated.executemany(
        "INSERT INTO park_activity_snapshots (park_id, recorded_at, park_appears_open, rides_open) VALUES (%s, %s, %s, 1)",
        [(park_id, at, rng.choice((0, 1))) for park_id, at in rng.sample(parks, len(parks) // 8)],
    )
    for hour in ("2025-07-05 13:00:00", "2025-07-05 20:00:00", "2025-07-06 02:00:00"):
        rows = _both_ways(monkeypatch, migrated, hour)
        assert rows["dives"] == rows["scan"]


def test_a_backfill_weeks_later_gives_the_rows_of_the_scheduled_run(migrated):
    # The scheduled run of an hour sees nothing after it; a backfill of the same hour weeks later
    # sees weeks of rows after it and takes the other path: same rows.
    spec = sample_data.SampleSpec(parks=10, rides_per_park=8, first_day=date(2025, 7, 4), days=2, seed=4)
    sample = sample_data.Sample(spec)
    hour = "2025-07-05 02:00:00"
    end = datetime(2025, 7, 5, 3, tzinfo=UTC)
    with db.connection() as conn:
        sample_data.write(conn, sample)
        with db.transaction(conn) as cur:
            cur.execute("CREATE TABLE later_rows AS SELECT * FROM ride_status_snapshots WHERE recorded_at >= %s",
                        (end.strftime("%Y-%m-%d %H:%M:%S"),))
            cur.execute("DELETE FROM ride_status_snapshots WHERE recorded_at >= %s",
                        (end.strftime("%Y-%m-%d %H:%M:%S"),))
        newest = db.query_one(conn, "SELECT MAX(recorded_at) FROM ride_status_snapshots")[0]
        assert aggregation.last_open_statements(Hour.parse(hour), newest) == aggregation.LAST_OPEN_RECENT
    aggregate(migrated, hour)
    scheduled = assert_matches_reference(migrated, hour)
    with db.connection() as conn, db.transaction(conn) as cur:
        cur.execute("INSERT INTO ride_status_snapshots SELECT * FROM later_rows")
        # Weeks later: the same day's polls again, shifted three weeks on.
        cur.execute(
            "INSERT INTO ride_status_snapshots (ride_id, recorded_at, is_open, wait_time, computed_is_open, status) "
            "SELECT ride_id, recorded_at + INTERVAL 21 DAY, is_open, wait_time, computed_is_open, status "
            "FROM ride_status_snapshots"
        )
    with db.connection() as conn:
        newest = db.query_one(conn, "SELECT MAX(recorded_at) FROM ride_status_snapshots")[0]
    assert aggregation.last_open_statements(Hour.parse(hour), newest) == aggregation.LAST_OPEN_ANY_HOUR
    aggregate(migrated, hour)
    assert stored(migrated, hour) == scheduled == assert_matches_reference(migrated, hour)
