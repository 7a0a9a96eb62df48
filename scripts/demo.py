"""`make demo`: load a realistic sample day and run the real DAG through Airflow for several hours.

Run by make with the project's venv, AIRFLOW_HOME=.airflow and the tracker connection in the
environment (the private MariaDB's `themepark` database unless AIRFLOW_CONN_THEMEPARK_DB is set).
"""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

SAMPLE_DAY = date(2025, 7, 4)
# 14:00-20:00 UTC: afternoon and evening in Europe, morning to afternoon in the Americas.
FIRST_HOUR = datetime(2025, 7, 4, 14, tzinfo=UTC)
HOURS = int(os.environ.get("DEMO_HOURS", "6"))

os.environ.setdefault("THEMEPARK_TASK_RETRIES", "0")
# Airflow's own info lines (every task's log) would bury the report; task logs still show
# warnings and errors. DEMO_VERBOSE=1 shows everything.
if not os.environ.get("DEMO_VERBOSE"):
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


def ensure_airflow_db() -> None:
    home = os.environ["AIRFLOW_HOME"]
    if os.path.exists(os.path.join(home, "airflow.db")):
        return
    step(f"creating Airflow's metadata database in {home} (once)")
    t0 = time.monotonic()
    from airflow.utils import db as airflow_db

    airflow_db.initdb()
    step(f"Airflow's metadata database ready ({time.monotonic() - t0:.0f} s)")


def run_hours() -> list[str]:
    import pendulum
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    if bag.import_errors:
        sys.exit(f"demo: the DAG file does not import: {bag.import_errors}")
    dag = bag.get_dag("themepark_hourly_aggregation")
    run_ids = []
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
        run_ids.append(run.run_id)
    return run_ids


def report(run_ids: list[str]) -> None:
    from themepark_hourly import db
    from themepark_hourly.sql_files import named_statements

    sql = named_statements("demo_report.sql")
    end = FIRST_HOUR + timedelta(hours=HOURS)
    fmt = "%Y-%m-%d %H:%M:%S"
    with db.connection() as conn:
        rows = db.query_all(
            conn, sql["park_ranking"], {"first_hour": FIRST_HOUR.strftime(fmt), "end_hour": end.strftime(fmt)}
        )
        logs = db.query_all(conn, sql["log_rows"], {"run_ids": tuple(run_ids)})
    current = None
    for hour, name, tz, shame, downtime, wait, operating, down, was_open in rows:
        if hour != current:
            current = hour
            print(f"\n{hour:%Y-%m-%d %H:%M}-{hour + timedelta(hours=1):%H:%M} UTC   parks ranked by shame score")
            print(
                f"  {'park':<28} {'local time':>10} {'shame':>6} {'downtime h':>10} {'avg wait':>9} {'rides up/down':>14}"
            )
        local = hour.replace(tzinfo=UTC).astimezone(ZoneInfo(tz))
        if was_open:
            print(
                f"  {name:<28} {local:%H:%M}{'':>5} {shame:>6} {downtime:>10} {wait if wait is not None else '-':>9} "
                f"{f'{operating}/{down}':>14}"
            )
        else:
            print(f"  {name:<28} {local:%H:%M}{'':>5} {'closed':>6}")
    print("\naggregation_log rows of these runs")
    print(f"  {'log_id':>6}  {'hour (UTC)':<17} {'status':<8} {'rides':>5} {'parks':>5}  run_id")
    for log_id, run_id, start, _end, status, rides, parks, error in logs:
        print(
            f"  {log_id:>6}  {start:%Y-%m-%d %H:%M}  {status:<8} {rides:>5} {parks:>5}  {run_id}"
            + (f"\n          {error}" if error else "")
        )


def main() -> None:
    started = time.monotonic()
    step(f"tracker database: {os.environ.get('THEMEPARK_DEMO_DB_LABEL', 'AIRFLOW_CONN_THEMEPARK_DB')}")
    load_sample(started)
    ensure_airflow_db()
    step(f"running the DAG for {HOURS} hours of {SAMPLE_DAY}, {FIRST_HOUR:%H:%M} UTC on")
    run_ids = run_hours()
    report(run_ids)
    print(f"\nDone in {time.monotonic() - started:.0f} s. Explore further:")
    print("  make db-shell                                  # a mariadb prompt on the demo data (UTC)")
    print("    SELECT * FROM ride_hourly_stats ORDER BY downtime_hours DESC LIMIT 10;")
    print("  make dags-test HOUR=2025-07-04T20:00:00+00:00  # run one hour yourself (20:00-21:00 UTC)")
    print("  make test                                      # every test")


if __name__ == "__main__":
    main()
