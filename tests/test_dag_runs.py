"""The DAG run through Airflow itself (dag.test()) against a real server, for each kind of run."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal as D

import pendulum
import pytest

from aggregate_helpers import assert_matches_reference, stored
from tracker import Tracker

H = "2025-12-08 14:00:00"


def _sample(database) -> None:
    t = Tracker().park(1, tz="America/New_York", disney=True).park(2, tz="Europe/Paris")
    t.ride(10, 1, tier=1).ride(11, 1, tier=2).ride(20, 2, tier=1)
    for k, (a, b, c) in enumerate(
        [
            ("OPERATING", "DOWN", "OPERATING"),
            ("DOWN", "OPERATING", "CLOSED"),
            ("OPERATING", "OPERATING", "CLOSED"),
            ("OPERATING", "DOWN", "OPERATING"),
            ("OPERATING", "OPERATING", "OPERATING"),
            ("OPERATING", "OPERATING", "DOWN"),
        ]
    ):
        at = f"2025-12-08 14:{k * 10:02d}:00"
        t.snap(10, at, a, 20 + k).snap(11, at, b, 10).snap(20, at, c, 5)
    t.park_open_all_hour(1, H).park_open_all_hour(2, H)
    t.write(database)


def _log_rows(database):
    return database.query(
        "SELECT run_id, aggregation_date, aggregation_type, aggregated_from_ts, aggregated_until_ts, status, "
        "error_message, parks_processed, rides_processed, started_at IS NOT NULL, completed_at IS NOT NULL "
        "FROM aggregation_log WHERE aggregation_type = 'hourly' ORDER BY log_id"
    )


def _states(dagrun) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in dagrun.get_task_instances()}


def test_dag_test_aggregates_the_hour_ending_at_the_logical_date(dag, migrated):
    _sample(migrated)
    run = dag.test(logical_date=pendulum.datetime(2025, 12, 8, 15, tz="UTC"))
    assert str(run.state) == "success", _states(run)
    rides, parks = assert_matches_reference(migrated, H)
    assert set(rides) == {10, 11, 20} and set(parks) == {1, 2}
    assert stored(migrated, "2025-12-08 15:00:00") == ({}, {})  # not the hour starting at the logical date
    [row] = _log_rows(migrated)
    assert row[1:] == (
        datetime(2025, 12, 8).date(),
        "hourly",
        datetime(2025, 12, 8, 14),
        datetime(2025, 12, 8, 15),
        "success",
        None,
        2,
        3,
        1,
        1,
    )
    ti = next(t for t in run.get_task_instances() if t.task_id == "aggregate_rides")
    assert ti.state == "success"


def test_same_hour_twice_gives_same_stats_and_two_log_rows_and_a_rerun_updates_its_row(dag, migrated):
    _sample(migrated)
    # dag.test names a run after its run_after: a fixed one makes the third call re-run the first.
    run_after = pendulum.datetime(2025, 12, 8, 15, 2, tz="UTC")
    first = dag.test(logical_date=pendulum.datetime(2025, 12, 8, 15, tz="UTC"), run_after=run_after)
    after_first = stored(migrated, H)
    # A manual run without logical date, 20 minutes past the hour: the last complete hour is 14:00.
    second = dag.test(logical_date=None, run_after=pendulum.datetime(2025, 12, 8, 15, 20, tz="UTC"))
    assert str(first.state) == str(second.state) == "success"
    assert first.run_id != second.run_id
    assert stored(migrated, H) == after_first
    rows = _log_rows(migrated)
    assert [r[0] for r in rows] == [first.run_id, second.run_id]
    assert all(r[3] == datetime(2025, 12, 8, 14) and r[5] == "success" for r in rows)
    # Clearing and re-running the first run (dag.test reuses its run id) updates its row.
    again = dag.test(logical_date=pendulum.datetime(2025, 12, 8, 15, tz="UTC"), run_after=run_after)
    assert again.run_id == first.run_id
    assert len(_log_rows(migrated)) == 2
    assert stored(migrated, H) == after_first


def test_failing_aggregation_fails_the_run_keeps_old_rows_and_logs_the_cause(dag, migrated):
    _sample(migrated)
    assert str(dag.test(logical_date=pendulum.datetime(2025, 12, 8, 15, tz="UTC")).state) == "success"
    before = stored(migrated, H)
    with migrated.table_hidden("park_activity_snapshots"):
        run = dag.test(logical_date=None, run_after=pendulum.datetime(2025, 12, 8, 15, 5, tz="UTC"))
    assert str(run.state) == "failed"
    states = _states(run)
    assert states["migrate"] == "success" and states["aggregate_rides"] == "failed"
    assert states["aggregate_parks"] == "upstream_failed" and states["log"] == "failed"
    assert stored(migrated, H) == before
    failed = _log_rows(migrated)[-1]
    assert failed[0] == run.run_id and failed[5] == "failed"
    assert "aggregate_rides failed" in failed[6] and "park_activity_snapshots" in failed[6]
    assert "2025-12-08 14:00-15:00 UTC" in failed[6]
    assert failed[7:9] == (0, 0)


def test_interval_that_is_not_one_hour_fails_and_is_logged(dag, migrated, monkeypatch):
    from airflow.timetables.base import DataInterval
    from airflow.timetables.interval import CronDataIntervalTimetable

    def two_hours(self, *, run_after):
        return DataInterval(run_after.subtract(hours=2), run_after)

    monkeypatch.setattr(CronDataIntervalTimetable, "infer_manual_data_interval", two_hours)
    run = dag.test(logical_date=pendulum.datetime(2025, 12, 8, 15, tz="UTC"))
    assert str(run.state) == "failed"
    row = _log_rows(migrated)[-1]
    assert row[5] == "failed"
    assert "2025-12-08T13:00:00+00:00 to 2025-12-08T15:00:00+00:00" in row[6]
    assert row[3:5] == (datetime(2025, 12, 8, 13), datetime(2025, 12, 8, 15))


@pytest.mark.parametrize("global_tz", ["+05:30", "-08:00"])
def test_sessions_run_in_utc_whatever_the_server_time_zone(dag, migrated, server, global_tz):
    with server.connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT @@global.time_zone")
        (original,) = cur.fetchone()
        try:
            cur.execute("SET GLOBAL time_zone = %s", (global_tz,))
        except Exception as exc:  # noqa: BLE001
            pytest.skip(f"cannot change the test server's global time zone: {exc}")
    try:
        from themepark_hourly import db

        with db.connection() as conn:
            assert db.query_one(conn, "SELECT @@session.time_zone, @@global.time_zone") == ("+00:00", global_tz)
            variable = (
                "tx_isolation" if "MariaDB" in db.query_one(conn, "SELECT VERSION()")[0] else "transaction_isolation"
            )
            assert db.query_one(conn, f"SELECT @@session.{variable}") == ("READ-COMMITTED",)
        _sample(migrated)  # written through UTC sessions
        run = dag.test(logical_date=pendulum.datetime(2025, 12, 8, 15, tz="UTC"))
        assert str(run.state) == "success"
        rides, parks = assert_matches_reference(migrated, H)
        assert sum(r["snapshot_count"] for r in rides.values()) == 18
        assert parks[1]["snapshot_count"] == 6
        assert rides[11]["down_snapshots"] == 2 and rides[11]["downtime_hours"] == D(
            "0.33"
        )  # DOWN at 14:00 operates at Disney
    finally:
        with server.connect() as conn, conn.cursor() as cur:
            cur.execute("SET GLOBAL time_zone = %s", (original,))
