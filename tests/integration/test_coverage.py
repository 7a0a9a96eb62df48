"""The coverage view's data (plugins/themepark_hourly/coverage.py) on a real tracker database.

One hour of each state is made by the package's own writers (aggregation, run_log) on the sample
day; the grid must name each, in UTC and in a park's local time, and refuse bad parameters by name.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from support import coverage_scenario
from support.coverage_scenario import DAY, aggregate, hour_of, log_run
from themepark_devtools import statement_log
from themepark_hourly import coverage, db

NOW = datetime(2025, 7, 4, 21, 2)  # 20:00 has not settled (21:05); 19:00 has


@pytest.fixture
def scenario(migrated):
    with db.connection() as conn:
        coverage_scenario.seed(conn)
    return migrated


def _runs(first: datetime, end: datetime):
    hour = datetime(2025, 7, 4, 19)
    assert first <= hour < end, "the grid asked Airflow for the runs of its own range"
    return {hour: [coverage.AirflowRun("manual__2025-07-04T20:05:00+00:00", "running", "manual")]}


def _grid(request: coverage.Request, runs=_runs, now: datetime = NOW) -> coverage.Grid:
    with db.connection() as conn:
        return coverage.build_grid(conn, request, runs, now=now)


def _states(grid: coverage.Grid) -> dict[datetime, str]:
    return {c.hour: c.state for _, columns in grid.rows for column in columns for c in column}


def test_each_hour_gets_its_state_in_utc(scenario):
    grid = _grid(coverage.Request(DAY, date(2025, 7, 5), None, park_time=False))
    states = _states(grid)
    want = {
        "2025-07-04 14:00": "ok",
        "2025-07-04 15:00": "late",
        "2025-07-04 16:00": "failed",
        "2025-07-04 17:00": "checks_failed",
        "2025-07-04 18:00": "gap",
        "2025-07-04 19:00": "running",
        "2025-07-04 20:00": "future",
        "2025-07-04 13:00": "gap",  # snapshots, never run
    }
    assert {k: states[hour_of(k)] for k in want} == want
    assert grid.time_zone == "UTC"
    assert [day for day, _ in grid.rows] == [DAY, date(2025, 7, 5)]
    assert all(len(column) == 1 for _, columns in grid.rows for column in columns), "UTC has one hour a cell"
    assert sum(grid.counts.values()) == 48
    assert grid.counts["ok"] == 1 and grid.counts["late"] == 1 and grid.counts["running"] == 1
    # Hours after NOW have not settled, with or without snapshots.
    assert grid.counts["future"] == 48 - 20  # 00:00-19:00 of the 4th have settled
    # A day later: the sample's polls end at 04:00 on the 5th; the hours after have no snapshots.
    later = _states(_grid(coverage.Request(DAY, date(2025, 7, 5), None, False), now=datetime(2025, 7, 6)))
    assert later[hour_of("2025-07-05 03:00")] == "gap" and later[hour_of("2025-07-05 04:00")] == "empty"
    assert later[hour_of("2025-07-04 20:00")] == "gap"


def test_cells_say_what_happened(scenario):
    cells = {c.hour: c for _, columns in _grid(coverage.Request(DAY, DAY, None, False)).rows for col in columns for c in col}
    assert "7 late snapshots" in cells[hour_of("2025-07-04 15:00")].summary
    # A late redo's row links to the Airflow run that redid it.
    assert cells[hour_of("2025-07-04 15:00")].run_id == "scheduled__2025-07-04T20:00:00+00:00"
    failed = cells[hour_of("2025-07-04 16:00")].summary
    assert "aggregate_rides failed" in failed and "1 failed of 1 attempt" in failed and "Deadlock" in failed
    assert cells[hour_of("2025-07-04 18:00")].summary == "snapshots but no stats: no run wrote this hour"
    assert cells[hour_of("2025-07-04 19:00")].run_id == "manual__2025-07-04T20:05:00+00:00"


def test_a_redo_that_succeeds_after_a_failure_turns_the_hour_back(scenario):
    with db.connection() as conn:
        aggregate(conn, "2025-07-04T16:00:00+00:00")
        log_run(conn, "2025-07-04 16:00:00", "success", run_id="backfill__2025-07-04T17:05:00+00:00",
             completed="2025-07-05 09:00:00")  # fmt: skip
    assert _states(_grid(coverage.Request(DAY, DAY, None, False)))[hour_of("2025-07-04 16:00")] == "ok"


def test_a_park_in_its_local_time(scenario):
    paris = 900003  # Europe/Paris, UTC+2 in July
    grid = _grid(coverage.Request(DAY, DAY, paris, park_time=True))
    assert grid.time_zone == "Europe/Paris" and grid.park.name == "Disneyland Park Paris"
    (day, columns), = grid.rows  # fmt: skip
    assert day == DAY
    # Local 16:00 is 14:00 UTC, the hour with stats; local 00:00 is 22:00 UTC the day before.
    assert columns[16][0].hour == hour_of("2025-07-04 14:00") and columns[16][0].state == "ok"
    assert columns[0][0].hour == hour_of("2025-07-03 22:00")
    assert grid.first_hour == hour_of("2025-07-03 22:00") and grid.end_hour == hour_of("2025-07-04 22:00")


def test_a_park_is_judged_by_its_own_snapshots_and_stats(scenario):
    # The sample polls Tokyo's rides 00:00-12:59 UTC (its opening hours and one either side); 14:00
    # has stats for the six parks open then, not for Tokyo.
    tokyo = 900007
    states = _states(_grid(coverage.Request(DAY, DAY, tokyo, park_time=False)))
    assert states[hour_of("2025-07-04 14:00")] == "empty"  # all parks: "ok"
    assert states[hour_of("2025-07-04 12:00")] == "gap"
    paris = _states(_grid(coverage.Request(DAY, DAY, 900003, park_time=False)))
    assert paris[hour_of("2025-07-04 14:00")] == "ok"


def test_a_late_data_redo_that_failed_needs_completed_runs_reprocessed(scenario):
    with db.connection() as conn:
        log_run(conn, "2025-07-04 14:00:00", "failed", failed_task="late_data", reason="late_data", late=3,
                run_id="scheduled__2025-07-05T01:00:00+00:00 late 2025-07-04T14:00", completed="2025-07-05 02:06:00")  # fmt: skip
        log_run(conn, "2025-07-04 18:00:00", "failed", failed_task="check", reason="late_data", late=2,
                run_id="scheduled__2025-07-05T01:00:00+00:00 late 2025-07-04T18:00", completed="2025-07-05 02:07:00")  # fmt: skip
    cells = {c.hour: c for _, cols in _grid(coverage.Request(DAY, DAY, None, False), now=datetime(2025, 7, 6)).rows
             for col in cols for c in col}  # fmt: skip
    failed, checks = cells[hour_of("2025-07-04 14:00")], cells[hour_of("2025-07-04 18:00")]
    assert (failed.state, failed.reprocess) == ("failed", "completed")
    assert failed.summary.startswith("redo for 3 late snapshots: late_data failed 2025-07-05 02:06 UTC")
    assert (checks.state, checks.reprocess) == ("checks_failed", "completed")
    assert failed.run_id == "scheduled__2025-07-04T20:00:00+00:00"  # the run that redid it (triggered_by_run_id)
    # An hour whose own run failed is redone by a backfill reprocessing failed runs.
    assert (cells[hour_of("2025-07-04 16:00")].state, cells[hour_of("2025-07-04 16:00")].reprocess) == ("failed", "failed")


def test_a_row_still_running_says_nothing(scenario):
    # Only the log's own writer's statuses count: a 'running' row (the column's default) is not an
    # hour under way.
    scenario.execute(
        "INSERT INTO aggregation_log (aggregation_date, aggregation_type, aggregated_from_ts, status, dag_id, run_id) "
        "VALUES ('2025-07-04', 'hourly', '2025-07-04 14:00:00', 'running', 'themepark_hourly_aggregation', 'x')"
    )
    assert _states(_grid(coverage.Request(DAY, DAY, None, False)))[hour_of("2025-07-04 14:00")] == "ok"


def test_a_zone_off_the_utc_hour_has_24_hours_a_day(migrated):
    with db.connection() as conn:
        with db.transaction(conn) as cur:
            cur.execute("INSERT INTO parks (park_id, name, timezone) VALUES (1, 'Mumbai', 'Asia/Kolkata')")
        grid = _grid(coverage.Request(DAY, date(2025, 7, 5), 1, True), runs=None, now=datetime(2026, 1, 1))
    # Local 00:00 is 18:30 UTC the day before: the UTC hour 18:00-19:00 (middle 00:00 local) opens the day.
    assert grid.first_hour == hour_of("2025-07-03 18:00") and grid.end_hour == hour_of("2025-07-05 18:00")
    for _, columns in grid.rows:
        assert [len(c) for c in columns] == [1] * 24
    assert grid.rows[0][1][0][0].hour == hour_of("2025-07-03 18:00")
    assert sum(grid.counts.values()) == 48


def test_days_where_clocks_change_show_the_missing_and_the_repeated_hour(migrated):
    with db.connection() as conn:
        with db.transaction(conn) as cur:
            cur.execute("INSERT INTO parks (park_id, name, timezone) VALUES (1, 'Cedar', 'America/New_York')")
        spring = _grid(coverage.Request(date(2025, 3, 9), date(2025, 3, 9), 1, True), runs=None)
        autumn = _grid(coverage.Request(date(2025, 11, 2), date(2025, 11, 2), 1, True), runs=None, now=datetime(2026, 1, 1))
    (_, columns), = spring.rows  # fmt: skip
    assert columns[2] == [] and sum(len(c) for c in columns) == 23
    (_, columns), = autumn.rows  # fmt: skip
    assert [c.hour for c in columns[1]] == [hour_of("2025-11-02 05:00"), hour_of("2025-11-02 06:00")]
    assert sum(len(c) for c in columns) == 25
    assert set(autumn.counts) == set(coverage.STATE_KEYS) and autumn.counts["empty"] == 25


def test_cell_details_hold_the_hours_log_rows_and_counts(scenario):
    with db.connection() as conn:
        details = coverage.cell_details(conn, hour_of("2025-07-04 15:00"), None)
        paris = coverage.cell_details(conn, hour_of("2025-07-04 15:00"), 900003)
    assert details["ride_snapshots"] == 540
    assert details["park_hourly_stats_rows"] > 0 and details["ride_hourly_stats_rows"] > 0
    assert [r["reason"] for r in details["log"]] == ["run", "late_data"]
    assert details["log"][1]["late_snapshots"] == 7
    assert 0 < paris["ride_snapshots"] < 540 and paris["park_hourly_stats_rows"] == 1


def test_an_unknown_park_is_refused_by_name(scenario):
    with pytest.raises(coverage.BadParameter, match=r"^park: no park with id 4242 in table parks$"):
        _grid(coverage.Request(DAY, DAY, 4242, False))


def test_grid_as_json_names_every_hour_in_utc(scenario):
    data = _grid(coverage.Request(DAY, DAY, None, False)).as_dict()
    assert data["first_hour"] == "2025-07-04T00:00:00Z" and data["end_hour"] == "2025-07-05T00:00:00Z"
    assert data["days"][0]["hours"][14] == [
        {"hour": "2025-07-04T14:00:00Z", "state": "ok", "summary": "stats written by scheduled__2025-07-04T14:00:00+00:00",
         "run_id": "scheduled__2025-07-04T14:00:00+00:00", "reprocess": "failed"}
    ]  # fmt: skip
    assert datetime.fromisoformat(data["days"][0]["hours"][0][0]["hour"]).tzinfo == UTC


def _grid_costs(server, database) -> statement_log.StatementLog:
    with statement_log.logged(server.connect, database.name) as recorder:
        for request in (coverage.Request(DAY, DAY, None, False), coverage.Request(DAY, DAY, 900003, True)):
            _grid(request, runs=None, now=datetime(2025, 7, 6))
        # parks, (park), park stats, ride stats, span, (rides), probe, log: twice
        return recorder.read_settled(lambda log: len(log.statements) >= 12)


def test_the_grid_reads_the_hours_it_shows_not_the_history(server, scenario):
    shown = _grid_costs(server, scenario)
    # Ten days of history on either side of the day shown: snapshots, stats and log rows.
    for days in [*range(-10, 0), *range(2, 12)]:
        shift = f"INTERVAL {days} DAY"
        scenario.execute(
            "INSERT INTO ride_status_snapshots (ride_id, recorded_at, is_open, wait_time, computed_is_open, status) "
            f"SELECT ride_id, recorded_at - {shift}, is_open, wait_time, computed_is_open, status "
            "FROM ride_status_snapshots WHERE recorded_at >= '2025-07-03 22:00' AND recorded_at < '2025-07-05 04:00'"
        )
        for table in ("park_hourly_stats", "ride_hourly_stats"):
            columns = [c for (c,) in scenario.query(f"SELECT column_name FROM information_schema.columns WHERE "
                                                     f"table_schema = DATABASE() AND table_name = '{table}' "
                                                     "AND column_name <> 'hour_start_utc' ORDER BY ordinal_position")]  # fmt: skip
            listed = ", ".join(columns)
            scenario.execute(
                f"INSERT INTO {table} (hour_start_utc, {listed}) SELECT hour_start_utc - {shift}, {listed} FROM {table} "
                "WHERE hour_start_utc >= '2025-07-04' AND hour_start_utc < '2025-07-05'"
            )
    assert scenario.query("SELECT COUNT(*) FROM ride_status_snapshots")[0][0] > 20 * 9_000
    with_history = _grid_costs(server, scenario)
    assert len(with_history.statements) == len(shown.statements)
    assert with_history.rows_examined <= shown.rows_examined * 1.05, (
        f"rows examined grew with history: {shown.rows_examined} -> {with_history.rows_examined}; "
        f"largest: {[(s.rows_examined, s.sql[:120]) for s in with_history.largest(3)]}"
    )
    # No statement reads more than a few rows per hour shown (48 hours: the UTC day, Paris's day).
    assert max(s.rows_examined for s in with_history.statements) <= 48 * 60


def test_the_newest_snapshot_day(migrated, scenario):
    with db.connection() as conn:
        assert coverage.newest_snapshot_day(conn) == date(2025, 7, 5)
        db.query_all(conn, "DELETE FROM ride_status_snapshots")
        assert coverage.newest_snapshot_day(conn) is None
