"""The hour's checks (run by aggregate_parks once its rows are written): each passes on a sound
hour and fails, named with its values, when broken.

Each break is made between the park aggregation and the checks (the rows written, then corrupted
or their snapshots changed), through the DAG run by Airflow (dag.test()).
"""

from __future__ import annotations

import pendulum
import pytest

from support.aggregate_helpers import assert_matches_reference, stored
from support.tracker import Tracker

H = "2025-12-08 14:00:00"
LOGICAL = pendulum.datetime(2025, 12, 8, 14, tz="UTC")


def _hour(database, yesterday: bool = False, today: bool = True) -> None:
    t = Tracker().park(1, tz="Europe/Paris").ride(10, 1, tier=1).ride(11, 1, tier=2)
    for day, wanted in ((7, yesterday), (8, today)):
        if not wanted:
            continue
        for k, (a, b) in enumerate([("OPERATING", "OPERATING"), ("DOWN", "OPERATING"), ("OPERATING", "DOWN")]):
            at = f"2025-12-0{day} 14:{k * 10:02d}:00"
            t.snap(10, at, a, 20).snap(11, at, b, 10)
        t.park_open_all_hour(1, f"2025-12-0{day} 14:00:00")
    t.write(database)


def _run_with_break(dag, database, monkeypatch, *statements: str):
    from themepark_hourly import aggregation

    original = aggregation.aggregate_parks

    def then_break(conn, hour):
        result = original(conn, hour)
        for sql in statements:
            assert database.execute(sql) >= 1, sql  # the break really changed something
        return result

    monkeypatch.setattr(aggregation, "aggregate_parks", then_break)
    return dag.test(logical_date=LOGICAL)


def _states(run) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in run.get_task_instances()}


def _log(database):
    [row] = database.query("SELECT status, error_message, last_failed_task, rides_processed FROM aggregation_log")
    return row


def database_parks_processed(database) -> int:
    [(parks,)] = database.query("SELECT parks_processed FROM aggregation_log")
    return int(parks)


def test_a_sound_hour_passes_every_check(dag, migrated):
    _hour(migrated, yesterday=True)
    run = dag.test(logical_date=LOGICAL)
    assert _states(run)["aggregate_parks"] == "success" and str(run.state) == "success"
    assert _log(migrated)[:3] == ("success", None, None)
    parks_ti = next(t for t in run.get_task_instances() if t.task_id == "aggregate_parks")
    assert parks_ti.xcom_pull(task_ids="aggregate_parks")["checks_passed"] == 5


@pytest.mark.parametrize(
    ("breaks", "named"),
    [
        (
            [f"UPDATE ride_hourly_stats SET downtime_hours = 1.50 WHERE ride_id = 10 AND hour_start_utc = '{H}'"],
            (
                "2 check(s) failed",
                "ride_hourly_stats.downtime_hours.max = 1.50 (expected <=1)",
                # the park keeps 0.17 + 0.17; its rides now sum to 1.50 + 0.17
                "park_id 1 total_downtime_hours 0.34, its operated rides 1.67",
            ),
        ),
        (
            [f"UPDATE ride_hourly_stats SET uptime_percentage = -5 WHERE ride_id = 11 AND hour_start_utc = '{H}'"],
            ("1 check(s) failed", "ride_hourly_stats.uptime_percentage.min = -5.00 (expected >=0)"),
        ),
        (
            [f"UPDATE park_hourly_stats SET shame_score = 10.5 WHERE park_id = 1 AND hour_start_utc = '{H}'"],
            ("1 check(s) failed", "park_hourly_stats.shame_score.max = 10.50 (expected <=10)"),
        ),
        (
            ["DELETE FROM ride_status_snapshots WHERE ride_id = 11 AND recorded_at = '2025-12-08 14:20:00'"],
            ("1 check(s) failed", "ride_snapshots_add_up is false: ride rows count 6 snapshots, the hour has 5"),
        ),
        (
            [f"UPDATE ride_hourly_stats SET ride_id = 99 WHERE ride_id = 11 AND hour_start_utc = '{H}'"],
            ("ride_rows_have_rides_and_parks is false: ride_ids 99 have no ride or no park row",),
        ),
        (
            [f"UPDATE park_hourly_stats SET total_downtime_hours = 0.50 WHERE park_id = 1 AND hour_start_utc = '{H}'"],
            (  # each ride: one DOWN poll of 10 min, 0.17 h
                "1 check(s) failed",
                "park_downtime_is_its_rides_downtime is false: park_id 1 total_downtime_hours 0.50, its operated rides 0.34",
            ),
        ),
    ],
)
def test_each_broken_check_fails_the_run_names_its_values_and_keeps_the_rows(dag, migrated, monkeypatch, breaks, named):
    _hour(migrated)
    run = _run_with_break(dag, migrated, monkeypatch, *breaks)
    states = _states(run)
    assert (states["aggregate_parks"], states["log"], str(run.state)) == ("failed", "failed", "failed")
    parks_ti = next(t for t in run.get_task_instances() if t.task_id == "aggregate_parks")
    assert parks_ti.try_number == 1  # not retried: the check's answer would not change
    status, error, failed_task, rides = _log(migrated)
    assert (status, failed_task, rides) == ("failed", "check", 2)
    # aggregate_parks committed its row before the check failed: the log row counts it.
    assert database_parks_processed(migrated) == 1
    assert error.startswith("check failed: ChecksFailed: hour 2025-12-08 14:00-15:00 UTC: ")
    assert "check(s) failed (the rows stay)" in error
    for part in named:
        assert part in error
    # The rows stay as written (and broken): the check is an alarm, not a rollback.
    assert stored(migrated, H) != ({}, {})


def test_a_silent_collector_is_named_as_such(dag, migrated):
    _hour(migrated, yesterday=True, today=False)
    run = dag.test(logical_date=LOGICAL)
    assert _states(run)["aggregate_parks"] == "failed"
    error = _log(migrated)[1]
    assert (
        "collector_not_silent is false: silent collector: no ride snapshot in the hour, 6 in the same hour the day before"
        in error
    )


def test_a_tracker_off_at_that_hour_every_day_is_not_a_silent_collector(dag, migrated):
    _hour(migrated, yesterday=False, today=False)
    migrated.execute("INSERT INTO parks (park_id, name, timezone) VALUES (2, 'Quiet', 'UTC')")
    run = dag.test(logical_date=LOGICAL)
    assert str(run.state) == "success", _states(run)
    assert_matches_reference(migrated, H)


def test_a_successful_run_announces_its_hour_as_an_asset_partition(dag, migrated):
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    _hour(migrated, yesterday=True)
    run = dag.test(logical_date=LOGICAL)
    assert str(run.state) == "success"
    with create_session() as session:
        events = session.execute(
            select(AssetEvent.partition_key, AssetEvent.extra)
            .join(AssetModel, AssetModel.id == AssetEvent.asset_id)
            .where(AssetModel.name == "themepark_hourly_stats", AssetEvent.source_run_id == run.run_id)
        ).all()
    assert [(key, extra["hours"]) for key, extra in events] == [("2025-12-08T14:00:00", ["2025-12-08T14:00:00+00:00"])]


def test_a_failed_run_announces_nothing(dag, migrated, monkeypatch):
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session
    from sqlalchemy import select

    _hour(migrated)
    run = _run_with_break(
        dag, migrated, monkeypatch, f"UPDATE park_hourly_stats SET shame_score = 11 WHERE hour_start_utc = '{H}'"
    )
    assert str(run.state) == "failed"
    with create_session() as session:
        assert session.scalars(select(AssetEvent.id).where(AssetEvent.source_run_id == run.run_id)).all() == []
