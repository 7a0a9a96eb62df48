"""Late snapshots re-aggregate exactly the earlier hours they change, and those hours then match the reference.

The hours of a run (R = 2025-07-05 16:00 UTC, window 48 h) are aggregated first; then snapshots
are written late, with ids above the search mark, and R's run finds them. The hours each late
snapshot changes are listed by hand below (its hour up to the end of its park's local day, or the
hours within 90 s of a park snapshot), and every hour of the window is held to the reference.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pendulum

from support.aggregate_helpers import aggregate, assert_matches_reference, expected, stored
from support.tracker import Tracker
from themepark_hourly import db, late_data
from themepark_hourly.hours import Hour

R = datetime(2025, 7, 5, 16, tzinfo=UTC)
FIRST = datetime(2025, 7, 3, 10, tzinfo=UTC)
WINDOW_START = R - timedelta(hours=48)


def hours(day: int, *hs: int) -> list[datetime]:
    return [datetime(2025, 7, day, h, tzinfo=UTC) for h in hs]


# (a) ride 10, New York (UTC-4): OPERATING at 13:40 UTC on 07-05, its park day ends 07-06 04:00 UTC.
# (b) ride 20, Paris (UTC+2): OPERATING at 09:20 UTC on 07-04, its park day ends 07-04 22:00 UTC.
# (c) ride 10: OPERATING at 12:00 UTC on 07-03, before the window (starts 07-03 16:00): its own hour
#     stays as it was; the later hours of its NY day inside the window (to 07-04 04:00) are redone.
# (d) park 2: closed at 10:59:58 UTC on 07-05, within 90 s of the polls of 10:00 and 11:00.
EXPECTED_LATE_HOURS = sorted(
    hours(5, 13, 14, 15) + hours(4, *range(9, 22)) + hours(3, *range(16, 24)) + hours(4, 0, 1, 2, 3) + hours(5, 10, 11)
)


def _tracker_days(database) -> None:
    t = Tracker().park(1, tz="America/New_York").park(2, tz="Europe/Paris")
    t.ride(10, 1, tier=1).ride(20, 2, tier=2)
    h = FIRST
    while h < R + timedelta(hours=1):
        t.park_open_all_hour(1, h.strftime("%Y-%m-%d %H:%M:%S")).park_open_all_hour(2, h.strftime("%Y-%m-%d %H:%M:%S"))
        h += timedelta(hours=1)
    # Ride 10 is DOWN from its first poll of each day until 15:00 UTC, then OPERATING: before (a)
    # and (c) it first operates at 15:00, so the DOWN polls before count nothing.
    for day, polls in ((3, 6 * 6), (5, 7 * 6)):  # 10:00 to 15:50 UTC on 07-03, to 16:50 on 07-05
        for k in range(polls):
            at = datetime(2025, 7, day, 10, tzinfo=UTC) + timedelta(minutes=10 * k)
            t.snap(10, at, "DOWN" if at.hour < 15 else "OPERATING", 30)
    # Ride 20 is DOWN all of 07-04 (never operated, until (b)); on 07-05 it operates at 10:00,
    # then is DOWN at 10:10-11:50: the 11:00 poll counts unless (d) closes the park then.
    for k in range(6 * 16):  # 06:00 to 21:50 UTC
        t.snap(20, datetime(2025, 7, 4, 6, tzinfo=UTC) + timedelta(minutes=10 * k), "DOWN", 0)
    for k in range(12):
        at = datetime(2025, 7, 5, 10, tzinfo=UTC) + timedelta(minutes=10 * k)
        t.snap(20, at, "OPERATING" if k == 0 else "DOWN", 15)
    t.write(database)


def _late_snapshots(database) -> None:
    t = Tracker()
    t.snap(10, "2025-07-05 13:40:00", "OPERATING", 25)  # (a)
    t.snap(20, "2025-07-04 09:20:00", "OPERATING", 5)  # (b)
    t.snap(10, "2025-07-03 12:00:00", "OPERATING", 25)  # (c)
    t.park_snap(2, "2025-07-05 10:59:58", open_=False)  # (d)
    t.write(database)


def _hour_text(h: datetime) -> str:
    return h.strftime("%Y-%m-%d %H:%M:%S")


def test_late_snapshots_redo_exactly_the_hours_they_change_and_those_hours_match_the_reference(
    own_dag, migrated, caplog
):
    dag = own_dag
    _tracker_days(migrated)
    h = FIRST
    while h < R:
        aggregate(migrated, _hour_text(h))
        h += timedelta(hours=1)
    # The previous scheduled run: its search finds no mark yet and starts reading from here.
    previous = dag.test(
        logical_date=pendulum.instance(R - timedelta(hours=1)), run_conf={"reaggregate_late_data": True}
    )
    assert str(previous.state) == "success"
    assert migrated.query("SELECT COUNT(*) FROM aggregation_log WHERE reason = 'late_data'") == [(0,)]
    stale = {h: stored(migrated, _hour_text(h)) for h in EXPECTED_LATE_HOURS}

    _late_snapshots(migrated)
    # Each late snapshot really changes its hour: the rows stored so far are no longer right.
    for h in (
        datetime(2025, 7, 5, 14, tzinfo=UTC),
        datetime(2025, 7, 4, 10, tzinfo=UTC),
        datetime(2025, 7, 5, 11, tzinfo=UTC),
    ):
        assert stale[h] != expected(migrated, _hour_text(h)), h
    outside = datetime(2025, 7, 3, 13, tzinfo=UTC)
    before_outside = stored(migrated, _hour_text(outside))
    assert before_outside != expected(migrated, _hour_text(outside))

    with caplog.at_level(logging.INFO, logger="themepark_hourly.checks"):
        run = dag.test(logical_date=pendulum.instance(R), run_conf={"reaggregate_late_data": True})
    assert str(run.state) == "success"
    rows = migrated.query(
        "SELECT aggregated_from_ts, status, late_snapshots, triggered_by_run_id, run_id FROM aggregation_log "
        "WHERE reason = 'late_data' ORDER BY log_id"
    )
    assert [r[0].replace(tzinfo=UTC) for r in rows] == EXPECTED_LATE_HOURS  # in time order
    assert {r[1] for r in rows} == {"success"} and {r[3] for r in rows} == {run.run_id}
    late_counts = {r[0].replace(tzinfo=UTC): r[2] for r in rows if r[2]}
    assert late_counts == {
        datetime(2025, 7, 5, 13, tzinfo=UTC): 1,
        datetime(2025, 7, 4, 9, tzinfo=UTC): 1,
        datetime(2025, 7, 5, 10, tzinfo=UTC): 1,
    }
    # Every hour of the window is what a fresh full aggregation gives, the run's own hour too.
    h = WINDOW_START
    while h <= R:
        assert_matches_reference(migrated, _hour_text(h))
        h += timedelta(hours=1)
    # Outside the window nothing was redone: that hour keeps its rows (a backfill fixes it).
    assert stored(migrated, _hour_text(outside)) == before_outside
    # Each redone hour was checked like a run's own hour.
    for h in EXPECTED_LATE_HOURS:
        assert f"check: hour {Hour(h)}: all 5 check groups passed" in caplog.text, h
    late_ti = next(t for t in run.get_task_instances() if t.task_id == "late_data")
    result = late_ti.xcom_pull(task_ids="late_data")
    assert result["outside_window"] == 1 and result["late_snapshots"] == 3
    assert [datetime.fromisoformat(x) for x in result["hours"]] == EXPECTED_LATE_HOURS

    # The marks moved: a search right after finds nothing, whatever the window.
    with db.connection() as conn:
        again = late_data.find(conn, Hour(R + timedelta(hours=1)), timedelta(hours=48))
    assert (again.hours, again.late_snapshots, again.outside_window) == ([], 0, 0)


def test_a_backfill_or_manual_run_does_not_search_unless_asked(own_dag, migrated):
    dag = own_dag
    _tracker_days(migrated)
    run = dag.test(logical_date=pendulum.datetime(2025, 7, 4, 12, tz="UTC"))
    assert str(run.state) == "success"
    assert migrated.query("SELECT COUNT(*) FROM themepark_late_data_marks") == [(0,)]
    # migrate's branch skips late_data: no process, no search.
    late_ti = next(t for t in run.get_task_instances() if t.task_id == "late_data")
    assert str(late_ti.state) == "skipped"


def _search(own: datetime, newest=None) -> late_data.LateHours:
    with db.connection() as conn:
        found = late_data.find(conn, Hour(own), timedelta(hours=48), newest)
        late_data.advance_marks(conn, found)
    return found


def test_a_run_of_an_older_hour_still_finds_late_rows_of_newer_hours(migrated):
    # A cleared run of an old hour, or catch-up runs ending out of order, search after a newer
    # hour's run: rows late for hours after their own must not be passed over.
    _tracker_days(migrated)
    aggregate(migrated, _hour_text(R))  # the latest hour aggregated so far
    assert _search(R).first_search
    Tracker().snap(20, "2025-07-05 11:30:00", "OPERATING", 5).write(migrated)  # Paris, day ends 22:00 UTC
    found = _search(datetime(2025, 7, 5, 6, tzinfo=UTC))
    assert [h.start for h in found.hours] == hours(5, 11, 12, 13, 14, 15, 16)
    assert _search(R + timedelta(hours=1)).hours == []  # seen once


def test_a_row_of_the_own_hour_written_after_the_run_began_is_left_to_the_next_run(migrated):
    _tracker_days(migrated)
    assert _search(R - timedelta(hours=1)).first_search
    with db.connection() as conn:
        newest = late_data.newest_ids(conn)  # what the run's `migrate` task read
    # Written after the run's aggregation of R read its snapshots: neither it nor R's search may take it.
    Tracker().snap(20, "2025-07-05 16:40:00", "DOWN", 5).write(migrated)
    assert _search(R, newest).hours == []
    found = _search(R + timedelta(hours=1))
    assert [h.start for h in found.hours] == [R]  # the next run redoes R
