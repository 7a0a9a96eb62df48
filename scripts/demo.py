"""`make demo`: load a realistic sample day and run the real DAG through Airflow for several hours.

Run by make in the environment of scripts/env.sh: the project's venv, AIRFLOW_HOME=.airflow (its
metadata database migrated) and the tracker connection (the private MariaDB's `themepark` database
unless AIRFLOW_CONN_THEMEPARK_DB was set).
"""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from themepark_devtools.run_result import describe, hour_label, log_rows, verbose

SAMPLE_DAY = date(2025, 7, 4)
# 14:00-20:00 UTC: afternoon and evening in Europe, morning to afternoon in the Americas.
FIRST_HOUR = datetime(2025, 7, 4, 14, tzinfo=UTC)
HOURS = int(os.environ.get("DEMO_HOURS", "6"))

os.environ.setdefault("THEMEPARK_TASK_RETRIES", "0")
# Airflow's own info lines (every task's log) would bury the report; task logs still show
# warnings and errors. VERBOSE=1 (or DEMO_VERBOSE=1) shows everything.
if not verbose():
    os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def load_sample(started: float) -> None:
    from themepark_devtools import sample_data
    from themepark_hourly import db, migrations
    from themepark_hourly.sql_files import named_statements

    sql = named_statements(sample_data.SQL_FILE)
    with db.connection() as conn:
        result = migrations.migrate(conn)
        step(f"tracker schema: {result.summary()}")
        foreign = db.query_one(
            conn, sql["count_foreign_parks"], (sample_data.SAMPLE_PARK_ID_BASE, sample_data.SAMPLE_PARK_ID_BASE + 999)
        )[0]
        if foreign:
            sys.exit(
                f"demo: the database already holds {foreign} parks that are not sample parks; the demo "
                "does not mix sample data into a real tracker. Unset AIRFLOW_CONN_THEMEPARK_DB to use "
                "the private MariaDB, or point it at an empty database."
            )
        existing = db.query_one(conn, sql["count_sample_snapshots"], (sample_data.SAMPLE_RIDE_ID_BASE,))[0]
        if existing:
            step(f"sample day {SAMPLE_DAY} already loaded ({existing} ride snapshots); reusing it")
            return
        sample = sample_data.Sample(sample_data.SampleSpec(first_day=SAMPLE_DAY))
        counts = sample_data.write(conn, sample)
    step(
        f"loaded sample day {SAMPLE_DAY}: {counts['parks']} parks, {counts['rides']} rides, "
        f"{counts['ride_snapshots']} ride snapshots, {counts['park_snapshots']} park snapshots "
        f"({time.monotonic() - started:.0f} s)"
    )


def run_hours() -> list[tuple[datetime, str]]:
    import pendulum
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    if bag.import_errors:
        sys.exit(f"demo: the DAG file does not import: {bag.import_errors}")
    dag = bag.get_dag("themepark_hourly_aggregation")
    runs = []
    for k in range(HOURS):
        hour = FIRST_HOUR + timedelta(hours=k)
        logical = pendulum.instance(hour)  # a run dated on the hour aggregates the hour starting then
        t0 = time.monotonic()
        # A fixed run_after gives each hour the same run id on every demo: re-running the demo
        # re-runs those runs (and updates their log rows) instead of adding new ones.
        run = dag.test(logical_date=logical, run_after=logical.add(hours=1, minutes=5))
        took = time.monotonic() - t0
        note = " (the first run also starts Airflow's in-process execution API)" if k == 0 else ""
        step(f"airflow dags test {dag.dag_id} {logical.isoformat()}: {run.state} in {took:.1f} s{note}")
        if str(run.state) != "success":
            sys.exit(f"demo: the run for {hour:%H:%M} UTC ended {run.state}; see the log above")
        runs.append((hour, run.run_id))
    return runs


# What the park columns are (docs/DOMAIN.md, "Park row for H"): the waits and ride counts come from
# the collector's park snapshots, not from the ride rows, so open + closed need not equal the
# park's rides.
LEGEND = (
    "shame, downtime h: over the park's rides that operated today (park_hourly_stats.shame_score,\n"
    "  total_downtime_hours); avg wait and rides open/closed: averages over the hour's open park\n"
    "  snapshots of the collector's avg_wait_time, rides_open and rides_closed, each rounded\n"
    "  (avg_wait_time_minutes, rides_operating, rides_down)"
)


def report() -> None:
    from themepark_hourly import db
    from themepark_hourly.sql_files import named_statements

    sql = named_statements("demo_report.sql")
    end = FIRST_HOUR + timedelta(hours=HOURS)
    fmt = "%Y-%m-%d %H:%M:%S"
    with db.connection() as conn:
        rows = db.query_all(
            conn, sql["park_ranking"], {"first_hour": FIRST_HOUR.strftime(fmt), "end_hour": end.strftime(fmt)}
        )
    print(f"\n{LEGEND}")
    current = None
    for hour, name, tz, shame, downtime, wait, operating, down, was_open in rows:
        if hour != current:
            current = hour
            print(f"\n{hour_label(hour, hour + timedelta(hours=1))}   parks ranked by shame score")
            print(
                f"  {'park':<28} {'local time':>10} {'shame':>6} {'downtime h':>10} {'avg wait':>9}"
                f" {'rides open/closed':>18}"
            )
        local = hour.replace(tzinfo=UTC).astimezone(ZoneInfo(tz))
        if was_open:
            print(
                f"  {name:<28} {local:%H:%M}{'':>5} {shame:>6} {downtime:>10} {wait if wait is not None else '-':>9} "
                f"{f'{operating}/{down}':>18}"
            )
        else:
            print(f"  {name:<28} {local:%H:%M}{'':>5} {'closed':>6}")


def main() -> None:
    started = time.monotonic()
    conn = os.environ.get("AIRFLOW_CONN_THEMEPARK_DB", "")
    private = conn == os.environ.get("THEMEPARK_PRIVATE_DB_URL")
    step(f"tracker database: {conn + ' (private MariaDB)' if private else 'AIRFLOW_CONN_THEMEPARK_DB'}")
    load_sample(started)
    step(f"running the DAG for {HOURS} hours of {SAMPLE_DAY}, {FIRST_HOUR:%H:%M} UTC on")
    runs = run_hours()
    report()
    print("\nExplore further:")
    print("  make db-shell                                  # a mariadb prompt on the demo data (UTC)")
    print("    SELECT * FROM ride_hourly_stats ORDER BY downtime_hours DESC LIMIT 10;")
    print("  make dags-test HOUR=2025-07-04T20:00:00+00:00  # run one hour yourself (20:00-21:00 UTC)")
    print("  make test                                      # every test")
    from themepark_hourly import db

    with db.connection() as conn:
        rows = log_rows(conn, [run_id for _, run_id in runs])
    print(f"\nDone in {time.monotonic() - started:.0f} s: {HOURS} hours through Airflow, each with its result")
    for hour, run_id in runs:
        print(f"  {describe(hour, hour + timedelta(hours=1), 'success', rows.get(run_id))}")


if __name__ == "__main__":
    main()
