"""The DAG run through Airflow itself (dag.test()) against a real server, for each kind of run."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal as D

import pendulum
import pytest

from support.aggregate_helpers import assert_matches_reference, stored
from support.tracker import Tracker

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


def test_dag_test_aggregates_the_hour_starting_at_the_logical_date(dag, migrated):
    _sample(migrated)
    run = dag.test(logical_date=pendulum.datetime(2025, 12, 8, 14, tz="UTC"))
    assert str(run.state) == "success", _states(run)
    # The run is that hour's run: same logical date and interval as its scheduled run would have.
    assert (run.logical_date, run.data_interval_start, run.data_interval_end) == (
        pendulum.datetime(2025, 12, 8, 14, tz="UTC"),
        pendulum.datetime(2025, 12, 8, 14, tz="UTC"),
        pendulum.datetime(2025, 12, 8, 15, tz="UTC"),
    )
    rides, parks = assert_matches_reference(migrated, H)
    assert set(rides) == {10, 11, 20} and set(parks) == {1, 2}
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
    first = dag.test(logical_date=pendulum.datetime(2025, 12, 8, 14, tz="UTC"), run_after=run_after)
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
    again = dag.test(logical_date=pendulum.datetime(2025, 12, 8, 14, tz="UTC"), run_after=run_after)
    assert again.run_id == first.run_id
    assert len(_log_rows(migrated)) == 2
    assert stored(migrated, H) == after_first


def test_failing_aggregation_fails_the_run_keeps_old_rows_and_logs_the_cause(dag, migrated):
    _sample(migrated)
    assert str(dag.test(logical_date=pendulum.datetime(2025, 12, 8, 14, tz="UTC")).state) == "success"
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


def test_a_failed_run_redone_keeps_its_failure_and_counts_its_attempts(dag, migrated):
    _sample(migrated)
    logical = pendulum.datetime(2025, 12, 8, 14, tz="UTC")
    run_after = pendulum.datetime(2025, 12, 8, 15, 5, tz="UTC")  # the same run each time
    with migrated.table_hidden("park_activity_snapshots"):
        failed = dag.test(logical_date=logical, run_after=run_after)
    assert str(failed.state) == "failed"
    history = (
        "SELECT run_id, status, error_message, attempts, failed_attempts, last_failed_task, "
        "last_failed_at IS NOT NULL, last_error, started_at FROM aggregation_log"
    )
    [first] = migrated.query(history)
    assert first[1:6] == ("failed", first[2], 1, 1, "aggregate_rides") and first[6] == 1
    assert "park_activity_snapshots" in first[2] and first[7] == first[2]
    redone = dag.test(logical_date=logical, run_after=run_after)
    assert str(redone.state) == "success" and redone.run_id == failed.run_id
    [row] = migrated.query(history)
    # The latest attempt succeeded; the failure before it is still there.
    assert row[1:7] == ("success", None, 2, 1, "aggregate_rides", 1)
    assert row[7] == first[7]
    assert row[8] >= first[8]  # started_at: this attempt's start
    assert_matches_reference(migrated, H)
    again = dag.test(logical_date=logical, run_after=run_after)
    assert str(again.state) == "success"
    [row] = migrated.query(history)
    assert row[1:6] == ("success", None, 3, 1, "aggregate_rides")


def test_an_hour_that_has_not_settled_is_refused_before_a_run_exists(dag, migrated):
    # `airflow dags test` of the hour under way: refused by the timetable before Airflow creates
    # the run, so no run holds the hour's logical date and the scheduler will create the hour's
    # run once it has settled. (Runs Airflow does not ask the timetable about wait instead: the
    # tests below and tests/e2e/test_every_door.py.)
    from airflow.models.dagrun import DagRun

    from themepark_hourly.hours import HourNotSettled

    current = pendulum.now("UTC").start_of("hour")  # it settles 5 min after it ends
    settles = current.add(hours=1, minutes=5).strftime("%Y-%m-%d %H:%M:%S")
    with pytest.raises(HourNotSettled, match=rf"has not settled yet.*until {settles} UTC.*No run was created"):
        dag.test(logical_date=current)
    assert DagRun.find(dag_id=dag.dag_id, logical_date=current) == []
    assert _log_rows(migrated) == []


def test_a_waiting_run_is_rescheduled_by_airflow_and_completes_its_hour_on_its_first_try(dag, migrated, monkeypatch):
    # Through Airflow's own reschedule handling (dag.test): the timetable, asked with its 5 min
    # delay, lets the hour in; the tasks, whose delay is set here so that the hour settles 3 s
    # after they first look, wait (up for reschedule), then do the hour. One reschedule, no second
    # try.
    from airflow.models.taskreschedule import TaskReschedule
    from airflow.utils.session import create_session
    from sqlalchemy import func, select

    from themepark_hourly import config

    hour = pendulum.now("UTC").start_of("hour").subtract(hours=2)
    fixed: list = []

    def settle():
        # Fixed at the first task's first look (aggregate_rides), not before dag.test: how long
        # Airflow takes to get there (migrate) must not eat the margin.
        if not fixed:
            fixed.append(pendulum.now("UTC").add(seconds=3) - hour.add(hours=1))
        return fixed[0]

    monkeypatch.setattr(config, "settle", settle)
    run = dag.test(logical_date=hour)
    assert str(run.state) == "success", _states(run)
    tis = {ti.task_id: ti for ti in run.get_task_instances()}
    assert tis["aggregate_rides"].try_number == 1
    with create_session() as session:
        waits = session.scalar(
            select(func.count()).select_from(TaskReschedule).where(TaskReschedule.ti_id == tis["aggregate_rides"].id)
        )
    assert waits == 1
    [row] = _log_rows(migrated)
    assert row[5] == "success" and row[3] == hour.naive()


def _dag_with_retries(monkeypatch, retries: int):
    from airflow.dag_processing.dagbag import DagBag

    from support import REPO

    monkeypatch.setenv("THEMEPARK_TASK_RETRIES", str(retries))
    monkeypatch.setenv("THEMEPARK_RETRY_DELAY_SECONDS", "0")
    bag = DagBag(dag_folder=str(REPO / "dags"))
    dag = bag.get_dag("themepark_hourly_aggregation")
    assert dag.get_task("aggregate_rides").retries == retries
    return dag


def test_a_bad_weight_fails_at_once_without_retries_and_leaves_both_tables_as_they_were(airflow_db, migrated, monkeypatch):
    dag = _dag_with_retries(monkeypatch, 2)
    _sample(migrated)
    assert str(dag.test(logical_date=pendulum.datetime(2025, 12, 8, 14, tz="UTC")).state) == "success"
    before = stored(migrated, H)
    # New snapshots that would change both tables, and ride 10 (it operates) weighted 7.
    migrated.execute("UPDATE ride_status_snapshots SET wait_time = wait_time + 5 WHERE ride_id = 10")
    migrated.execute("UPDATE park_activity_snapshots SET avg_wait_time = 99")
    migrated.execute("INSERT INTO ride_classifications (ride_id, tier, tier_weight) VALUES (10, 1, 7) "
                     "ON DUPLICATE KEY UPDATE tier_weight = 7")
    run = dag.test(logical_date=pendulum.datetime(2025, 12, 8, 14, tz="UTC"), run_after=pendulum.datetime(2025, 12, 8, 15, 30, tz="UTC"))
    assert str(run.state) == "failed"
    rides_ti = next(t for t in run.get_task_instances() if t.task_id == "aggregate_rides")
    assert (str(rides_ti.state), rides_ti.try_number) == ("failed", 1)  # not up_for_retry: no retries
    assert stored(migrated, H) == before
    row = _log_rows(migrated)[-1]
    assert row[5] == "failed"
    assert "ride_id 10 has ride_classifications.tier_weight 7 (allowed: 1, 2, 3)" in row[6]
    assert "ride_hourly_stats and park_hourly_stats not written" in row[6]


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
        run = dag.test(logical_date=pendulum.datetime(2025, 12, 8, 14, tz="UTC"))
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


def test_log_judges_by_results_when_task_states_cannot_be_read(dag, migrated, monkeypatch):
    # log falls back to the tasks' results; late_data, skipped by migrate's branch in a manual run,
    # has none and must not count as failed.
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

    def unreadable(*_args, **_kwargs):
        raise RuntimeError("api-server unreachable")

    monkeypatch.setattr(RuntimeTaskInstance, "get_task_states", unreadable)
    _sample(migrated)
    run = dag.test(logical_date=pendulum.datetime(2025, 12, 8, 14, tz="UTC"))
    assert str(run.state) == "success", _states(run)
    assert _states(run)["late_data"] == "skipped"
    [row] = _log_rows(migrated)
    assert (row[5], row[6]) == ("success", None)


def test_an_hour_without_snapshots_says_so_in_the_task_log(dag, migrated, caplog):
    # A quiet success "rides 0, parks 0" would hide a mistyped hour or a collector that was off.
    import logging

    migrated.execute("INSERT INTO parks (park_id, name, timezone) VALUES (9, 'Quiet', 'UTC')")
    empty = "has no ride snapshots: nothing to aggregate (collector off or silent?)"
    with caplog.at_level(logging.INFO, logger="themepark_hourly"):
        run = dag.test(logical_date=pendulum.datetime(2025, 12, 8, 13, tz="UTC"))
    assert str(run.state) == "success", _states(run)
    said = [r for r in caplog.records if empty in r.getMessage()]
    assert [(r.levelname, r.getMessage()) for r in said] == [
        ("WARNING", f"aggregate_rides: hour 2025-12-08 13:00-14:00 UTC {empty}")
    ]
    assert [r[5:9] for r in _log_rows(migrated)] == [("success", None, 0, 0)]
    # An hour with snapshots does not say it.
    caplog.clear()
    _sample(migrated)
    with caplog.at_level(logging.INFO, logger="themepark_hourly"):
        assert str(dag.test(logical_date=pendulum.datetime(2025, 12, 8, 14, tz="UTC")).state) == "success"
    assert "aggregate_rides: hour 2025-12-08 14:00-15:00 UTC: read 18 ride snapshots" in caplog.text
    assert empty not in caplog.text
