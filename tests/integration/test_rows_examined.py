"""No statement of a DAG run reads the history: the rows the server examined, counted by the server.

The same hours are run through Airflow (dag.test: every task, migrate to log) on two databases that
differ only in how many days of snapshots lie before them (2 and 10). Every statement the run's
sessions send is read back from the server's slow log (long_query_time 0, rows_examined): the
run's total may not grow with the history by more than 5 %, and no statement may examine more than
a small multiple of the hour's ride snapshots. A count, not a time: a fast machine cannot pass it
by being fast.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, date, datetime, timedelta

import pendulum
import pytest

from themepark_devtools import sample_data, statement_log

# The last day of data; the runs are of its evening (every park's day is under way or over).
LAST_DAY = date(2025, 7, 15)
SCHEDULED_HOUR = datetime(2025, 7, 15, 21, tzinfo=UTC)  # the newest data: the scheduler's case
BACKFILL_HOUR = SCHEDULED_HOUR - timedelta(days=1)  # a day of data after it: a backfill's case
SPEC = {"parks": 6, "rides_per_park": 12, "all_day_polls": True, "seed": 17}
# A statement may examine at most this many rows per ride snapshot of its hour (reading the hour
# once for staging, once more for a check, and bounded look-ups per ride): never the table.
PER_HOUR_SNAPSHOT = 4
GROWTH_ALLOWED = 1.05


def _load(database, history_days: int) -> int:
    """Snapshots of the history_days before LAST_DAY and of LAST_DAY itself; returns the row count."""
    spec = sample_data.SampleSpec(first_day=LAST_DAY - timedelta(days=history_days), days=history_days + 1, **SPEC)
    with database.connect() as conn:
        counts = sample_data.write(conn, sample_data.Sample(spec))
    # Index statistics as a table that grew over days has them: InnoDB recomputes them in the
    # background after a bulk load, and the optimizer's choice of a loose index scan reads them.
    database.query("ANALYZE TABLE ride_status_snapshots, park_activity_snapshots")
    return counts["ride_snapshots"]


def _hour_snapshots(database, hour: datetime) -> int:
    [(count,)] = database.query(
        "SELECT COUNT(*) FROM ride_status_snapshots WHERE recorded_at >= %s AND recorded_at < %s",
        (hour.strftime("%Y-%m-%d %H:%M:%S"), (hour + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")),
    )
    return int(count)


def _run(dag, hour: datetime) -> None:
    # reaggregate_late_data: the late-data search runs too, as in a scheduled run.
    run = dag.test(logical_date=pendulum.instance(hour), run_conf={"reaggregate_late_data": True})
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    assert str(run.state) == "success", states


def _late_rows(database, hour: datetime) -> None:
    """Snapshots of an earlier hour written after it was aggregated: the next run redoes that hour."""
    at = (hour + timedelta(minutes=17)).strftime("%Y-%m-%d %H:%M:%S")
    rides = database.query("SELECT ride_id FROM rides ORDER BY ride_id LIMIT 5")
    database.executemany(
        "INSERT INTO ride_status_snapshots (ride_id, recorded_at, wait_time, computed_is_open, status) "
        "VALUES (%s, %s, 5, 1, 'OPERATING')",
        [(ride_id, at) for (ride_id,) in rides],
    )


def _runs_costs(server, database, dag, monkeypatch) -> tuple[dict[str, statement_log.StatementLog], int]:
    """Every statement of three runs: the scheduler's hour, a backfilled hour, then the next hour
    with late snapshots of an earlier hour to find and redo."""
    monkeypatch.setenv("AIRFLOW_CONN_THEMEPARK_DB", database.url)
    logs = {}
    with statement_log.logged(server.connect, database.name) as recorder:
        for name, hour in (("scheduled hour (first)", SCHEDULED_HOUR), ("backfilled hour", BACKFILL_HOUR)):
            recorder.mark()
            _run(dag, hour)
            logs[name] = recorder.read_settled()
        _late_rows(database, SCHEDULED_HOUR - timedelta(hours=3))
        recorder.mark()
        _run(dag, SCHEDULED_HOUR + timedelta(hours=1))
        logs["next hour, redoing a late hour"] = recorder.read_settled()
    return logs, _hour_snapshots(database, SCHEDULED_HOUR)


@pytest.fixture
def history_databases(server):
    from themepark_hourly import migrations

    made, totals = {}, {}
    try:
        for days in (2, 10):
            made[days] = server.create_database(f"tph_test_hist{days}_{uuid.uuid4().hex[:8]}")
            with made[days].connect() as conn:
                migrations.migrate(conn)
            totals[days] = _load(made[days], days)
        yield made, totals
    finally:
        for database in made.values():
            with contextlib.suppress(Exception):
                database.drop()


def _describe(log: statement_log.StatementLog) -> str:
    return "; ".join(f"{s.rows_examined} rows: {s.shape[:160]}" for s in log.largest(4))


def test_no_statement_of_a_run_reads_the_history(server, own_dag, history_databases, monkeypatch):
    databases, totals = history_databases
    assert totals[10] > 3 * totals[2]

    costs = {days: _runs_costs(server, db, own_dag, monkeypatch) for days, db in databases.items()}
    (short, hour_snapshots), (long, long_hour_snapshots) = costs[2], costs[10]
    assert hour_snapshots == long_hour_snapshots > 0

    report = []
    for name in short:
        a, b = short[name], long[name]
        for days, run in ((2, a), (10, b)):
            assert len(run.statements) >= 10, f"{name}, {days} days: only {len(run.statements)} statements logged"
        report.append(f"{name}: {a.rows_examined} rows examined with 2 days, {b.rows_examined} with 10")
        # No statement reads more than a few times the hour (the whole table is 11 days of them).
        limit = PER_HOUR_SNAPSHOT * hour_snapshots
        over = [s for s in b.statements if s.rows_examined > limit]
        assert not over, (
            f"{name}: statements examined more than {limit} rows ({PER_HOUR_SNAPSHOT} x the hour's "
            f"{hour_snapshots} snapshots) with 10 days of history: "
            + "; ".join(f"{s.rows_examined} rows: {s.shape[:200]}" for s in over)
        )
    total_short = sum(log.rows_examined for log in short.values())
    total_long = sum(log.rows_examined for log in long.values())
    assert total_long <= GROWTH_ALLOWED * total_short, (
        f"the runs examined {total_long} rows with 10 days of history against {total_short} with 2 "
        f"(more than {GROWTH_ALLOWED:.2f} x): " + " | ".join(report) + " | largest with 10 days: "
        + " || ".join(f"{n}: {_describe(log)}" for n, log in long.items())
    )
