"""One hand-checked scenario per rule of docs/DOMAIN.md, run on a real server.

Expected numbers are worked out by hand in the comments; every scenario is also compared with the
independent row-by-row reference (tests/support/reference.py).
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from support.aggregate_helpers import aggregate, assert_matches_reference, stored
from support.tracker import Tracker
from themepark_hourly.aggregation import AggregationError

H = "2025-12-08 14:00:00"


def every_10(ride: int, t: Tracker, statuses: list, hour: str = "2025-12-08 14", second: int = 0, wait=None):
    for k, status in enumerate(statuses):
        if status is not None:
            t.snap(ride, f"{hour}:{k * 10:02d}:{second:02d}", status, wait)


def test_closed_park_ignores_every_ride_status(migrated):
    t = Tracker().park(1).park(2)
    t.ride(10, 1).ride(20, 2)
    for ride in (10, 20):
        t.snap(ride, "2025-12-08 13:00:00", "OPERATING", 15)  # operated earlier today
        every_10(ride, t, ["CLOSED"] * 6)
    t.park_open_all_hour(1, H, open_=False)  # park 1 closed for the night
    t.park_open_all_hour(2, H, open_=True)
    t.write(migrated)
    aggregate(migrated, H)
    rides, parks = assert_matches_reference(migrated, H)
    assert rides[10]["down_snapshots"] == 0 and rides[10]["downtime_hours"] == D("0.00")
    assert rides[20]["down_snapshots"] == 6 and rides[20]["downtime_hours"] == D("1.00")
    assert parks[1]["park_was_open"] == 0
    assert parks[1]["avg_wait_time_minutes"] is None and parks[1]["rides_operating"] is None
    assert parks[1]["shame_score"] == D("0.0")
    assert parks[2]["shame_score"] == D("10.0")  # 1.00 h x weight 2 / weight 2 x 10


def test_never_operated_ride_shows_no_downtime_and_no_weight(migrated):
    t = Tracker().park(1).ride(10, 1, tier=1).ride(11, 1, tier=1)
    every_10(10, t, ["CLOSED"] * 6)  # seasonal ride, never opened today
    every_10(11, t, ["OPERATING", "DOWN", "OPERATING", "OPERATING", "OPERATING", "OPERATING"], wait=30)
    t.park_open_all_hour(1, H)
    t.write(migrated)
    aggregate(migrated, H)
    rides, parks = assert_matches_reference(migrated, H)
    assert rides[10]["ride_operated"] == 0 and rides[10]["down_snapshots"] == 0
    assert rides[10]["uptime_percentage"] == D("0.00")
    assert rides[11]["ride_operated"] == 1 and rides[11]["down_snapshots"] == 1
    # Only ride 11 counts: 0.17 h (1 x 10 / 60), weight 3. shame = 10 x 0.51 / 3 = 1.7
    assert parks[1]["effective_park_weight"] == D("3.00")
    assert parks[1]["total_downtime_hours"] == D("0.17")
    assert parks[1]["weighted_downtime_hours"] == D("0.51")
    assert parks[1]["shame_score"] == D("1.7")


def test_down_before_first_operating_counts_at_disney_not_elsewhere(migrated):
    t = Tracker().park(1, disney=True).park(2).park(3, universal=True)
    t.ride(10, 1).ride(20, 2).ride(30, 3)
    for ride in (10, 20, 30):
        every_10(ride, t, ["DOWN", "DOWN", "OPERATING", "OPERATING", "OPERATING", "OPERATING"], wait=20)
    for park in (1, 2, 3):
        t.park_open_all_hour(park, H)
    t.write(migrated)
    aggregate(migrated, H)
    rides, _ = assert_matches_reference(migrated, H)
    # Disney/Universal: the 14:00 DOWN is the first operation, both DOWNs count: 2 x 10 min.
    assert rides[10]["down_snapshots"] == 2 and rides[10]["downtime_hours"] == D("0.33")
    assert rides[30]["down_snapshots"] == 2
    # Elsewhere first operation is 14:20, before which the ride is not down.
    assert rides[20]["down_snapshots"] == 0 and rides[20]["ride_operated"] == 1


def test_disney_ride_never_seen_open_is_not_down(migrated):
    # A playground that reports DOWN all season (TouringPlans' Boneyard): DOWN signals operation
    # only for a ride seen open before the hour's end. Ride 20 was open once, a day earlier.
    t = Tracker().park(1, disney=True).ride(10, 1, tier=3).ride(20, 1, tier=1)
    t.snap(20, "2025-12-07 18:00:00", "OPERATING", 40)
    for ride in (10, 20):
        t.snap(ride, "2025-12-08 13:00:00", "DOWN")
        every_10(ride, t, ["DOWN"] * 6)
    t.park_open_all_hour(1, "2025-12-08 13:00:00").park_open_all_hour(1, H)
    t.write(migrated)
    aggregate(migrated, H)
    rides, parks = assert_matches_reference(migrated, H)
    assert rides[10]["ride_operated"] == 0 and rides[10]["down_snapshots"] == 0
    assert rides[20]["ride_operated"] == 1 and rides[20]["down_snapshots"] == 6
    assert parks[1]["effective_park_weight"] == D("3.00") and parks[1]["shame_score"] == D("10.0")


def test_closed_counts_as_down_only_outside_down_reporting_parks(migrated):
    t = Tracker().park(1, disney=True).park(2)
    t.ride(10, 1).ride(20, 2)
    for ride in (10, 20):
        every_10(ride, t, ["OPERATING", "CLOSED", "CLOSED", "OPERATING", "DOWN", "OPERATING"], wait=10)
    t.park_open_all_hour(1, H).park_open_all_hour(2, H)
    t.write(migrated)
    aggregate(migrated, H)
    rides, _ = assert_matches_reference(migrated, H)
    assert rides[10]["down_snapshots"] == 1  # only DOWN: Disney's CLOSED is a scheduled closure
    assert rides[20]["down_snapshots"] == 3  # CLOSED, CLOSED, DOWN
    assert rides[20]["downtime_hours"] == D("0.50")
    assert rides[20]["uptime_percentage"] == D("50.00")


def test_refurbishment_is_never_down(migrated):
    t = Tracker().park(1).park(2, disney=True).ride(10, 1).ride(20, 2)
    for ride in (10, 20):
        t.snap(ride, "2025-12-08 13:00:00", "OPERATING", 5)
        every_10(ride, t, ["REFURBISHMENT"] * 6)
    t.park_open_all_hour(1, H).park_open_all_hour(2, H)
    t.write(migrated)
    aggregate(migrated, H)
    rides, _ = assert_matches_reference(migrated, H)
    assert rides[10]["down_snapshots"] == rides[20]["down_snapshots"] == 0
    assert rides[10]["operating_snapshots"] == 0 and rides[10]["snapshot_count"] == 6


def test_park_snapshot_matched_within_90_seconds_across_a_minute(migrated):
    t = Tracker().park(1).ride(10, 1)
    t.snap(10, "2025-12-08 14:00:00", "OPERATING", 30)
    t.snap(10, "2025-12-08 14:09:50", "DOWN")  # park polled 40 s later, in the next minute
    t.park_snap(1, "2025-12-08 14:10:30", True)
    t.snap(10, "2025-12-08 14:20:00", "DOWN")  # nearest park poll 91 s away: park counts closed
    t.park_snap(1, "2025-12-08 14:21:31", True)
    t.snap(10, "2025-12-08 14:30:00", "DOWN")  # open poll 80 s before, closed poll 60 s after: nearest wins
    t.park_snap(1, "2025-12-08 14:28:40", True)
    t.park_snap(1, "2025-12-08 14:31:00", False)
    t.snap(10, "2025-12-08 14:40:00", "DOWN")  # exactly 90 s: still matched
    t.park_snap(1, "2025-12-08 14:41:30", True)
    t.write(migrated)
    aggregate(migrated, H)
    rides, _ = assert_matches_reference(migrated, H)
    assert rides[10]["down_snapshots"] == 2  # 14:09:50 and 14:40:00


def test_null_and_negative_wait_times_are_left_out_of_the_average(migrated):
    t = Tracker().park(1).ride(10, 1)
    t.snap(10, "2025-12-08 14:00:00", "OPERATING", 30)
    t.snap(10, "2025-12-08 14:10:00", "OPERATING", None)
    t.snap(10, "2025-12-08 14:20:00", "OPERATING", -1)
    t.snap(10, "2025-12-08 14:30:00", "OPERATING", 45)
    t.snap(10, "2025-12-08 14:40:00", "DOWN", 999)  # not open: its wait is ignored
    t.snap(10, "2025-12-08 14:50:00", "OPERATING", 0)
    t.park_open_all_hour(1, H)
    t.write(migrated)
    aggregate(migrated, H)
    rides, _ = assert_matches_reference(migrated, H)
    assert rides[10]["avg_wait_time_minutes"] == D("25.00")  # (30 + 45 + 0) / 3


def test_status_null_rows_fall_back_to_computed_is_open(migrated):
    t = Tracker().park(1).ride(10, 1)
    for k, cio in enumerate([1, 0, 0, 1, 1, 1]):
        t.snap(10, f"2025-12-08 14:{k * 10:02d}:00", None, 12 if cio else None, computed_is_open=cio)
    t.park_open_all_hour(1, H)
    t.write(migrated)
    aggregate(migrated, H)
    rides, _ = assert_matches_reference(migrated, H)
    assert rides[10]["operating_snapshots"] == 4 and rides[10]["down_snapshots"] == 2
    assert rides[10]["uptime_percentage"] == D("66.67")
    assert rides[10]["avg_wait_time_minutes"] == D("12.00")


def test_tier_and_classification_weights(migrated):
    t = Tracker().park(1)
    t.ride(1, 1, tier=1)  # weight 3
    t.ride(2, 1, tier=3)  # weight 1
    t.ride(3, 1, tier=1, tier_weight=2)  # classification overrides the tier: 2
    t.ride(4, 1, tier=None)  # unclassified: 2
    t.ride(5, 1, tier=2)  # weight 2, never operated: left out of all three sums
    downs = {1: 6, 2: 3, 3: 1, 4: 0}
    for ride, n in downs.items():
        t.snap(ride, "2025-12-08 13:50:00", "OPERATING", 10)
        every_10(ride, t, ["DOWN"] * n + ["OPERATING"] * (6 - n), wait=10)
    every_10(5, t, ["CLOSED"] * 6)
    t.park_open_all_hour(1, H)
    t.write(migrated)
    aggregate(migrated, H)
    rides, parks = assert_matches_reference(migrated, H)
    # downtime: 1.00, 0.50, 0.17, 0.00; weighted: 3.00 + 0.50 + 0.34 + 0 = 3.84; weight 3+1+2+2 = 8
    assert parks[1]["total_downtime_hours"] == D("1.67")
    assert parks[1]["weighted_downtime_hours"] == D("3.84")
    assert parks[1]["effective_park_weight"] == D("8.00")
    assert parks[1]["shame_score"] == D("4.8")  # 10 x 3.84 / 8


def test_local_day_of_a_park_on_a_dst_day(migrated):
    # Europe/Amsterdam switches to summer time on 2025-03-30: local midnight is 23:00 UTC the day
    # before (UTC+1), while the hour itself, 08:00 UTC, is at UTC+2.
    # Ride 10 opened at 00:30 local on the 30th (same park day), ride 11 at 23:30 local on the 29th.
    rides, parks = _down_all_hour_after_one_opening(
        migrated, "Europe/Amsterdam", "2025-03-30 08", same_day="2025-03-29 23:30:00", day_before="2025-03-29 22:30:00"
    )
    assert rides[10]["ride_operated"] == 1 and rides[10]["down_snapshots"] == 6
    assert rides[11]["ride_operated"] == 0 and rides[11]["down_snapshots"] == 0
    assert parks[1]["shame_score"] == D("10.0")


def _down_all_hour_after_one_opening(migrated, tz: str, hour: str, same_day: str, day_before: str):
    """Park 1 in ``tz`` open all of ``hour`` (``YYYY-MM-DD HH``), rides 10 and 11 DOWN all of it, each
    with one OPERATING snapshot before: ride 10's at ``same_day``, ride 11's at ``day_before``."""
    t = Tracker().park(1, tz=tz).ride(10, 1).ride(11, 1)
    t.snap(10, same_day, "OPERATING", 5)
    t.snap(11, day_before, "OPERATING", 5)
    for ride in (10, 11):
        every_10(ride, t, ["DOWN"] * 6, hour=hour)
    t.park_open_all_hour(1, f"{hour}:00:00")
    t.write(migrated)
    aggregate(migrated, f"{hour}:00:00")
    return assert_matches_reference(migrated, f"{hour}:00:00")


def test_local_day_of_a_park_west_of_utc_on_fall_back(migrated):
    # America/New_York falls back on 2025-11-02: local midnight is 04:00 UTC (EDT), the hour
    # 2025-11-02 15:00 UTC is 10:00 EST. An operation at 03:30 UTC belongs to Nov 1st locally.
    hour = "2025-11-02 15:00:00"
    t = Tracker().park(1, tz="America/New_York", disney=True).ride(10, 1).ride(11, 1)
    t.snap(10, "2025-11-01 20:00:00", "OPERATING", 5)  # ride 10 is known to operate
    t.snap(10, "2025-11-02 04:10:00", "DOWN")  # 00:10 local on Nov 2nd: an operated signal at Disney
    t.snap(11, "2025-11-02 03:30:00", "OPERATING", 5)  # 23:30 local on Nov 1st
    for ride in (10, 11):
        every_10(ride, t, ["DOWN"] * 3, hour="2025-11-02 15")
    t.park_open_all_hour(1, hour)
    t.write(migrated)
    aggregate(migrated, hour)
    rides, _ = assert_matches_reference(migrated, hour)
    assert rides[10]["down_snapshots"] == 3
    # Ride 11's OPERATING at 03:30 UTC was the day before locally, but it makes the ride known to
    # operate: its own 15:00 DOWN is then a first operation at Disney.
    assert rides[11]["down_snapshots"] == 3


def test_cadence_sets_downtime_hours(migrated):
    t = Tracker().park(1).ride(10, 1)
    every_10(10, t, ["OPERATING", "DOWN", "DOWN", "DOWN", "OPERATING", "OPERATING"], wait=5)
    t.park_open_all_hour(1, H)
    t.write(migrated)
    aggregate(migrated, H, interval_minutes=5)
    rides, _ = assert_matches_reference(migrated, H, interval_minutes=5)
    assert rides[10]["downtime_hours"] == D("0.25")  # 3 x 5 min
    aggregate(migrated, H, interval_minutes=30)
    rides, _ = stored(migrated, H)
    assert rides[10]["downtime_hours"] == D("1.00")  # 3 x 30 min capped at one hour


def test_an_hour_with_no_data_writes_nothing_and_clears_old_rows(migrated):
    t = Tracker().park(1).ride(10, 1)
    every_10(10, t, ["OPERATING"] * 6, wait=5)
    t.park_open_all_hour(1, H)
    t.write(migrated)
    aggregate(migrated, H)
    assert stored(migrated, H) != ({}, {})
    migrated.execute("DELETE FROM ride_status_snapshots")
    migrated.execute("DELETE FROM park_activity_snapshots")
    ride_result, park_result = aggregate(migrated, H)
    assert stored(migrated, H) == ({}, {})
    assert ride_result.rides_written == 0 and ride_result.rides_removed == 1
    assert park_result.parks_written == 0 and park_result.parks_removed == 1


def test_duplicate_snapshots_at_the_same_time_count_once(migrated):
    t = Tracker().park(1).ride(10, 1)
    every_10(10, t, ["OPERATING", "DOWN", "OPERATING", "OPERATING", "OPERATING", "OPERATING"], wait=5)
    t.snap(10, "2025-12-08 14:10:00", "DOWN")  # the collector wrote this poll twice
    t.park_open_all_hour(1, H)
    t.park_snap(1, "2025-12-08 14:00:05", True)  # and this park poll too
    t.write(migrated)
    aggregate(migrated, H)
    rides, parks = assert_matches_reference(migrated, H)
    assert rides[10]["snapshot_count"] == 6 and rides[10]["down_snapshots"] == 1
    assert parks[1]["snapshot_count"] == 6


def test_late_snapshots_are_picked_up_by_rerunning_the_hour(migrated):
    t = Tracker().park(1).ride(10, 1)
    every_10(10, t, ["OPERATING", "OPERATING", "OPERATING"], wait=5)
    t.park_open_all_hour(1, H)
    t.write(migrated)
    aggregate(migrated, H)
    assert stored(migrated, H)[0][10]["snapshot_count"] == 3
    every_10(10, t, [None, None, None, "DOWN", "DOWN", "OPERATING"], wait=5)
    t.write(migrated)
    aggregate(migrated, H)
    rides, _ = assert_matches_reference(migrated, H)
    assert rides[10]["snapshot_count"] == 6 and rides[10]["down_snapshots"] == 2


@pytest.mark.parametrize("tz", ["", "Mars/Olympus_Mons", "America/New York"])
def test_invalid_park_time_zone_is_refused_with_its_value(migrated, tz):
    t = Tracker().park(1).park(2, tz=tz).ride(10, 1).ride(20, 2)
    every_10(10, t, ["OPERATING"] * 6, wait=5)
    every_10(20, t, ["OPERATING"] * 6, wait=5)
    t.write(migrated)
    with pytest.raises(AggregationError) as err:
        aggregate(migrated, H)
    message = str(err.value)
    assert "2025-12-08 14:00-15:00 UTC" in message and "park_id 2" in message
    assert "parks.timezone" in message and repr(tz) in message
    assert stored(migrated, H) == ({}, {})


def test_ride_whose_park_is_missing_is_refused(migrated):
    t = Tracker().park(1).ride(10, 1)
    every_10(10, t, ["OPERATING"] * 6, wait=5)
    t.write(migrated)
    aggregate(migrated, H)
    before = stored(migrated, H)
    with migrated.connect() as conn, conn.cursor() as cur:
        cur.execute("SET FOREIGN_KEY_CHECKS = 0")
        cur.execute("INSERT INTO rides (ride_id, park_id, name) VALUES (99, 77, 'Orphan')")
        cur.execute(
            "INSERT INTO ride_status_snapshots (ride_id, recorded_at, computed_is_open, status) "
            "VALUES (99, '2025-12-08 14:05:00', 1, 'OPERATING'), (55, '2025-12-08 14:05:00', 1, 'OPERATING')"
        )
        conn.commit()
    with pytest.raises(AggregationError) as err:
        aggregate(migrated, H)
    message = str(err.value)
    assert "ride_id 99" in message and "park_id 77" in message and "no row in parks" in message
    assert "ride_id 55" in message and "no row in rides" in message
    assert stored(migrated, H) == before  # previous rows of the hour intact


def test_invalid_tier_weight_is_refused(migrated):
    t = Tracker().park(1).ride(10, 1, tier=1, tier_weight=1).ride(11, 1, tier=1)
    every_10(10, t, ["OPERATING"] * 6, wait=5)
    every_10(11, t, ["OPERATING"] * 6, wait=5)
    t.write(migrated)
    migrated.execute("UPDATE ride_classifications SET tier_weight = 7 WHERE ride_id = 10")
    with pytest.raises(AggregationError, match=r"ride_id 10 has ride_classifications.tier_weight 7"):
        aggregate(migrated, H)


def test_hour_with_ride_snapshots_but_no_park_snapshot(migrated):
    # The collector lost its park polls: rides count as in a closed park, no park row is written,
    # and the result says which parks.
    t = Tracker().park(1).ride(10, 1)
    t.snap(10, "2025-12-08 13:00:00", "OPERATING", 10)
    every_10(10, t, ["DOWN"] * 6)
    t.write(migrated)
    _, parks_result = aggregate(migrated, H)
    rides, parks = assert_matches_reference(migrated, H)
    assert rides[10]["down_snapshots"] == 0 and rides[10]["snapshot_count"] == 6
    assert parks == {}
    assert parks_result.parks_without_snapshots == [1]


def test_two_park_snapshots_equally_near_a_poll_the_earlier_wins(migrated):
    # Each ride's DOWN at 14:10:00 lies exactly 60 s from two park polls. Park 1's earlier poll
    # says open, its later one closed; park 2's the other way round. The earlier decides.
    t = Tracker().park(1).park(2).ride(10, 1).ride(20, 2)
    for ride in (10, 20):
        t.snap(ride, "2025-12-08 14:00:00", "OPERATING", 10)
        t.snap(ride, "2025-12-08 14:10:00", "DOWN")
    t.park_snap(1, "2025-12-08 14:09:00", True).park_snap(1, "2025-12-08 14:11:00", False)
    t.park_snap(2, "2025-12-08 14:09:00", False).park_snap(2, "2025-12-08 14:11:00", True)
    t.write(migrated)
    aggregate(migrated, H)
    rides, _ = assert_matches_reference(migrated, H)
    assert rides[10]["down_snapshots"] == 1  # park 1 open at 14:09:00
    assert rides[20]["down_snapshots"] == 0  # park 2 closed at 14:09:00


@pytest.fixture(params=["server default", "explicit_defaults_for_timestamp off"])
def timestamp_defaults(request, monkeypatch):
    # MariaDB before 10.10 runs with explicit_defaults_for_timestamp off: a TIMESTAMP NOT NULL
    # column of a staging table then gets ON UPDATE CURRENT_TIMESTAMP, and an upsert that keeps
    # the last-written duplicate would stamp the row with the time of the run.
    if request.param != "server default":
        from themepark_hourly import db

        monkeypatch.setattr(db, "SESSION_INIT", db.SESSION_INIT + ", explicit_defaults_for_timestamp = 0")


@pytest.mark.usefixtures("timestamp_defaults")
def test_duplicate_park_snapshots_with_different_values_the_last_written_wins(migrated):
    # Park 1's poll at 14:10:00 was written twice, first closed then open (the higher snapshot_id
    # wins: open); park 2's first open then closed (closed).
    t = Tracker().park(1).park(2).ride(10, 1).ride(20, 2)
    for ride in (10, 20):
        t.snap(ride, "2025-12-08 14:00:00", "OPERATING", 10)
        t.snap(ride, "2025-12-08 14:10:30", "DOWN")
    t.park_snap(1, "2025-12-08 14:10:00", False, rides_open=1, rides_closed=9, avg_wait=50)
    t.park_snap(2, "2025-12-08 14:10:00", True, rides_open=8, rides_closed=2, avg_wait=30)
    t.write(migrated)  # written in that order: the later rows get the higher snapshot_ids
    t.park_snap(1, "2025-12-08 14:10:00", True, rides_open=7, rides_closed=3, avg_wait=20)
    t.park_snap(2, "2025-12-08 14:10:00", False, rides_open=0, rides_closed=10, avg_wait=40)
    t.write(migrated)
    aggregate(migrated, H)
    rides, parks = assert_matches_reference(migrated, H)
    assert rides[10]["down_snapshots"] == 1 and rides[20]["down_snapshots"] == 0
    assert parks[1]["snapshot_count"] == 1 and parks[1]["park_was_open"] == 1
    assert (parks[1]["avg_wait_time_minutes"], parks[1]["rides_operating"], parks[1]["rides_down"]) == (D("20.00"), 7, 3)
    assert parks[2]["snapshot_count"] == 1 and parks[2]["park_was_open"] == 0
    assert parks[2]["avg_wait_time_minutes"] is None and parks[2]["rides_operating"] is None


@pytest.mark.usefixtures("timestamp_defaults")
def test_duplicate_ride_snapshots_with_different_status_the_last_written_wins(migrated):
    # At 14:10:00 ride 10 was written DOWN then OPERATING (open, wait 40), ride 11 OPERATING then
    # DOWN (down). Each poll counts once, as its last-written row says.
    t = Tracker().park(1).ride(10, 1).ride(11, 1)
    for ride in (10, 11):
        t.snap(ride, "2025-12-08 14:00:00", "OPERATING", 20)
    t.snap(10, "2025-12-08 14:10:00", "DOWN").snap(11, "2025-12-08 14:10:00", "OPERATING", 40)
    t.park_open_all_hour(1, H)
    t.write(migrated)
    t.snap(10, "2025-12-08 14:10:00", "OPERATING", 40).snap(11, "2025-12-08 14:10:00", "DOWN")
    t.write(migrated)
    aggregate(migrated, H)
    rides, _ = assert_matches_reference(migrated, H)
    assert rides[10]["snapshot_count"] == 2 and rides[11]["snapshot_count"] == 2
    assert (rides[10]["operating_snapshots"], rides[10]["down_snapshots"]) == (2, 0)
    assert rides[10]["avg_wait_time_minutes"] == D("30.00")  # (20 + 40) / 2
    assert (rides[11]["operating_snapshots"], rides[11]["down_snapshots"]) == (1, 1)
    assert rides[11]["avg_wait_time_minutes"] == D("20.00")


def test_local_day_of_a_park_whose_midnight_is_skipped_by_dst(migrated):
    # America/Santiago springs forward at local midnight: 2025-09-06 23:59:59 -04 is followed by
    # 2025-09-07 01:00:00 -03. The 7th starts at 01:00 local = 04:00 UTC (not 03:00 UTC, which
    # midnight at the new offset would give: 23:00 local on the 6th).
    # Ride 10 opened at 01:00 -03 on the 7th (the day's first instant), ride 11 at 23:30 -04 on the 6th.
    rides, _ = _down_all_hour_after_one_opening(
        migrated, "America/Santiago", "2025-09-07 15", same_day="2025-09-07 04:00:00", day_before="2025-09-07 03:30:00"
    )
    assert rides[10]["ride_operated"] == 1 and rides[10]["down_snapshots"] == 6
    assert rides[11]["ride_operated"] == 0 and rides[11]["down_snapshots"] == 0


def test_a_ride_moved_to_another_park_follows_its_park_in_rides_at_aggregation_time(migrated):
    # Ride 10 belonged to park 1 (Disney, UTC) and is moved to park 2 (Tokyo, UTC+9, not
    # down-reporting). Every hour aggregated after the move takes park 2 for everything: the row's
    # park_id, the local day, what counts as down, and whose park snapshots say open. An hour
    # aggregated before the move keeps its row until it is run again.
    h1, h2 = H, "2025-12-08 15:00:00"
    t = Tracker().park(1, disney=True).park(2, tz="Asia/Tokyo").ride(10, 1, tier=1)
    every_10(10, t, ["OPERATING", "CLOSED", "CLOSED", "DOWN", "OPERATING", "OPERATING"], wait=10)
    every_10(10, t, ["CLOSED", "CLOSED", "OPERATING", "DOWN", "CLOSED", "OPERATING"], hour="2025-12-08 15", wait=10)
    t.park_open_all_hour(1, h1).park_open_all_hour(1, h2).park_open_all_hour(2, h2)
    t.write(migrated)
    aggregate(migrated, h1)
    rides, parks = assert_matches_reference(migrated, h1)
    assert rides[10]["park_id"] == 1 and rides[10]["down_snapshots"] == 1  # Disney: only the DOWN
    assert parks[1]["effective_park_weight"] == D("3.00")

    migrated.execute("UPDATE rides SET park_id = 2 WHERE ride_id = 10")
    aggregate(migrated, h2)
    rides, parks = assert_matches_reference(migrated, h2)
    # 15:00 UTC is midnight in Tokyo: the 14:00 OPERATING was the day before there, so the first
    # operation is 15:20; after it DOWN and CLOSED both count (not a down-reporting park).
    assert rides[10]["park_id"] == 2 and rides[10]["down_snapshots"] == 2
    assert parks[2]["effective_park_weight"] == D("3.00") and parks[2]["total_downtime_hours"] == D("0.33")
    assert parks[1]["effective_park_weight"] == D("0.00")
    assert stored(migrated, h1)[0][10]["park_id"] == 1  # not re-run yet

    aggregate(migrated, h1)
    rides, parks = assert_matches_reference(migrated, h1)
    # Park 2 has no snapshot in h1: closed, so no downtime; the ride leaves park 1's sums.
    assert rides[10]["park_id"] == 2 and rides[10]["down_snapshots"] == 0 and rides[10]["ride_operated"] == 1
    assert parks[1]["effective_park_weight"] == D("0.00") and 2 not in parks


def test_park_snapshots_at_the_hour_edges_belong_to_the_hour_they_start(migrated):
    # Park 1's snapshots a second before H, at H, a second before H's end and at H's end, each with
    # its own figures: the park row of H counts the two inside [H, H+1h) and averages only them.
    t = Tracker().park(1).ride(10, 1)
    t.snap(10, "2025-12-08 14:30:00", "OPERATING", 10)
    t.park_snap(1, "2025-12-08 13:59:59", True, rides_open=100, rides_closed=0, avg_wait=100)
    t.park_snap(1, "2025-12-08 14:00:00", True, rides_open=4, rides_closed=1, avg_wait=10)
    t.park_snap(1, "2025-12-08 14:59:59", True, rides_open=6, rides_closed=3, avg_wait=20)
    t.park_snap(1, "2025-12-08 15:00:00", True, rides_open=200, rides_closed=50, avg_wait=300)
    t.write(migrated)
    aggregate(migrated, H)
    _, parks = assert_matches_reference(migrated, H)
    assert parks[1]["snapshot_count"] == 2
    assert (parks[1]["avg_wait_time_minutes"], parks[1]["rides_operating"], parks[1]["rides_down"]) == (D("15.00"), 5, 2)
