"""`make bench`: what the DAG's aggregation and a whole DAG run cost, against the floor and a per-ride baseline.

    python bench/bench.py [--datasets tracker_2d,tracker_30d,x10_2d] [--reps 5] [--out FILE]
                          [--only functions|whole-run]

Data sets, each loaded once into a database of its own on the benchmark server and reused while
the generator and the set's definition are unchanged (the seeded generator's tracker day, with
polls around the clock, repeated day after day):

    tracker_30d  80 parks, 4,240 rides, 10-minute polls, 30 days (about 25,000 ride snapshots an hour)
    tracker_2d   the same parks and rides, only the 2 days that hold the measured park day
    x10_2d       800 parks, 42,400 rides, the same 2 days

For each data set and measured hour (09:00 and 22:00 New York time, so that the "first operation
today" look-up has a whole day behind it at the late hour) it times, on one connection and with
warm caches, the median of several repetitions of: the functions the DAG's tasks call
(aggregate_rides, aggregate_parks, without Airflow's start-up), the floor (one grouped read of
the hour's snapshots) and, at tracker scale, the per-ride baseline in the style of the original
job (one INSERT ... SELECT per ride, then per park), whose rows must equal the DAG's. On
tracker_30d the hours are measured twice: with the day of later data the sets hold (as in a
backfill) and as scheduled (the later rows set aside, then put back); and the late hour again 20
days earlier, with 20 days of later data (a backfill of an old hour).

The whole run (issue #17): for the same data sets and hours, the DAG itself, run by Airflow
(``dag.test``, every task from migrate to log, the late-data search included as in a scheduled
run; it finds none of the newest rows late), with every statement of every session timed by the
server (the slow log with long_query_time 0: devtools/themepark_devtools/statement_log.py), and
the floor timed the same way in the same block, three times after each run. The run and the
floor connect as a user of the measurement's own (created, granted that database, dropped
after): the log tells their statements from those of any other client of the database. One warm-up run,
then the median of ``--reps``:
the run's server time, statements, rows examined, and its 5 costliest statement shapes. Airflow's
own start-up and scheduling are not database time and are not counted. Airflow's metadata is a
throwaway AIRFLOW_HOME, removed on exit. The run's migrate task applies the checkout's
migrations to the data set's database, as bench's own loading does.

Prints tables and the targets of issues #5 and #17 with PASS/FAIL (ratios are the result: the
machine is shared, and its absolute seconds move from run to run), writes everything to bench/results.json (the whole run under
"whole_run"), and exits 1 only when the baseline's rows differ from the DAG's.

    --only functions    the aggregation functions, floor, baseline and late-data search only
    --only whole-run    the whole DAG run and its floor only (quick to iterate on a run's SQL)

The benchmark server is THEMEPARK_BENCH_SERVER, else the project's private MariaDB. The user
must be allowed to set global variables (the slow log) for the whole run.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "plugins"), str(REPO / "devtools")]


def _throwaway_airflow_home() -> None:
    """Airflow's settings for the whole-run measurement, in a home of the bench's own.

    Airflow reads them once, when first imported, and the package imports it (sql_files): so
    this runs before the imports below. Its metadata database is only created when the whole
    run is measured. Not when imported by a test: conftest.py has set up Airflow already.
    """
    home = tempfile.mkdtemp(prefix="themepark-bench-airflow-")
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    os.environ["AIRFLOW_HOME"] = home
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "dags")
    os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(REPO / "plugins")
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
    # dag.test logs every task's lines to the terminal: only warnings and errors among the figures.
    os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"
    # A failed task must fail the run at once, not wait minutes for a retry.
    os.environ["THEMEPARK_TASK_RETRIES"] = "0"


if __name__ == "__main__":
    _throwaway_airflow_home()

from themepark_devtools import sample_data, statement_log  # noqa: E402
from themepark_hourly import aggregation, config, db, late_data, migrations, park_days  # noqa: E402
from themepark_hourly.hours import Hour  # noqa: E402
from themepark_hourly.sql_files import named_statements  # noqa: E402

SQL_FILE = "bench.sql"
BASE_PARKS = 80
RIDES_PER_PARK = 53
PARK_DAY = date(2025, 7, 15)
# The template day is the 24 UTC hours from this instant: with the day before it, every park's
# local day PARK_DAY (Tokyo to Los Angeles) is complete.
WINDOW_START = datetime(2025, 7, 15, 12, tzinfo=UTC)
HOURS = {
    "09:00 New York": datetime(2025, 7, 15, 13, tzinfo=UTC),
    "22:00 New York": datetime(2025, 7, 16, 2, tzinfo=UTC),
}
# On the 30-day set, the late hour again 20 days earlier: a backfill with 20 days of later rows
# behind it instead of one (the look-up's cost must not grow with them).
OLD_HOURS = {"22:00 NY, 20 d earlier": datetime(2025, 6, 26, 2, tzinfo=UTC)}
INTERVAL_MINUTES = 10


@dataclass(frozen=True)
class Dataset:
    name: str
    copies: int  # the 80 parks' rides, repeated with other ids
    days: int  # template days, ending with the measured one
    baseline: bool = True
    # Also measured "as scheduled", with the rows after the hour set aside (tracker scale only:
    # moving a day of 10x rows aside and back would take minutes).
    scheduled: bool = False
    # Also the OLD_HOURS (only the 30-day set reaches that far back).
    old_hours: bool = False
    parks: int = BASE_PARKS
    rides_per_park: int = RIDES_PER_PARK

    def spec(self, parks: int) -> sample_data.SampleSpec:
        return sample_data.SampleSpec(
            parks=parks,
            rides_per_park=self.rides_per_park,
            first_day=PARK_DAY,
            days=2,
            seed=2025,
            all_day_polls=True,
        )

    def fingerprint(self) -> str:
        source = (REPO / "devtools/themepark_devtools/sample_data.py").read_bytes()
        digest = hashlib.sha256(source).hexdigest()[:12]
        return f"v1 {self.parks}x{self.rides_per_park} copies={self.copies} days={self.days} gen={digest}"


DATASETS = {
    d.name: d
    for d in (
        Dataset("tracker_2d", copies=1, days=2),
        Dataset("tracker_30d", copies=1, days=30, scheduled=True, old_hours=True),
        Dataset("x10_2d", copies=10, days=2, baseline=False),
    )
}


@dataclass
class Measurement:
    dataset: str
    hour: str
    condition: str  # "backfill": a day of later rows exists; "scheduled": none after the hour
    hour_start_utc: str
    ride_snapshots_read: int
    park_snapshots_read: int
    rides_written: int
    parks_written: int
    seconds: dict[str, float] = field(default_factory=dict)
    handler_reads: dict[str, int] = field(default_factory=dict)
    ratios: dict[str, float] = field(default_factory=dict)
    baseline_rows_differing: int | None = None


def server_url() -> str:
    url = os.environ.get("THEMEPARK_BENCH_SERVER", "").strip()
    if url:
        return url.rstrip("/")
    done = subprocess.run([str(REPO / "scripts/localdb.sh"), "start"], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"bench: could not start the private MariaDB:\n{done.stderr}")
    return done.stdout.strip().splitlines()[-1]


@contextlib.contextmanager
def connected(server: str, database: str) -> Iterator[Any]:
    """A connection made the way the DAG makes it (the Airflow connection, UTC, READ COMMITTED)."""
    os.environ["AIRFLOW_CONN_THEMEPARK_DB"] = f"{server}/{database}"
    with db.connection() as conn:
        yield conn


def admin_connect(server: str) -> Any:
    """A connection to the server itself, in no database (autocommit, UTC)."""
    from urllib.parse import unquote, urlsplit

    import MySQLdb

    parts = urlsplit(server)
    conn = MySQLdb.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 3306,
        user=unquote(parts.username or "root"),
        passwd=unquote(parts.password or ""),
        init_command="SET time_zone = '+00:00'",
    )
    conn.autocommit(True)
    return conn


@contextlib.contextmanager
def bench_user(server: str, database: str) -> Iterator[tuple[str, str]]:
    """A user of this measurement's own, with every right on ``database`` and no other; dropped after.

    Yields its name and the server's URL with its credentials.
    """
    import secrets
    from urllib.parse import urlsplit, urlunsplit

    sql = named_statements(SQL_FILE)
    user, password = f"tph_bench_{secrets.token_hex(4)}", secrets.token_hex(16)
    with contextlib.closing(admin_connect(server)) as admin, contextlib.closing(admin.cursor()) as cur:
        cur.execute(sql["create_user"], {"user": user, "password": password})
        cur.execute(f"GRANT ALL ON `{database}`.* TO %(user)s@'%%'", {"user": user})
    parts = urlsplit(server)
    netloc = f"{user}:{password}@{parts.hostname or '127.0.0.1'}:{parts.port or 3306}"
    try:
        yield user, urlunsplit(parts._replace(netloc=netloc))
    finally:
        with contextlib.closing(admin_connect(server)) as admin, contextlib.closing(admin.cursor()) as cur:
            cur.execute(sql["drop_user"], {"user": user})


def create_database(server: str, name: str) -> None:
    with contextlib.closing(admin_connect(server)) as admin, contextlib.closing(admin.cursor()) as cur:
        cur.execute(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4")


def load(server: str, database: str, ds: Dataset, progress: Callable[[str], None] = print) -> dict[str, Any]:
    """Load ``ds`` into ``database`` unless it already holds exactly that set; return its marker."""
    sql = named_statements(SQL_FILE)
    create_database(server, database)
    with connected(server, database) as conn:
        migrations.migrate(conn)
        db.query_all(conn, sql["create_marker"])
        restore_aside(conn)
        row = db.query_one(conn, sql["read_marker"], {"name": ds.name})
        if row and row[0] == ds.fingerprint():
            conn.rollback()
            progress(f"{ds.name}: reusing {row[1]:,} ride snapshots in `{database}`")
            return {"ride_snapshots": int(row[1]), "park_snapshots": int(row[2]), "load_seconds": float(row[3])}
        if row or db.query_one(conn, "SELECT COUNT(*) FROM parks")[0]:
            conn.rollback()
            sys.exit(f"bench: `{database}` holds other data; drop it (DROP DATABASE `{database}`) and run again")
        t0 = time.monotonic()
        counts = _write(conn, ds, sql, progress)
        db.query_all(conn, sql["analyze"])
        marker = {**counts, "load_seconds": round(time.monotonic() - t0, 1)}
        with db.transaction(conn) as cur:
            cur.execute(sql["write_marker"], {"name": ds.name, "fingerprint": ds.fingerprint(), **marker})
        progress(f"{ds.name}: loaded {counts['ride_snapshots']:,} ride snapshots in {marker['load_seconds']} s")
        return marker


def _write(conn: Any, ds: Dataset, sql: dict[str, str], progress: Callable[[str], None]) -> dict[str, int]:
    # Copies repeat the first ds.parks parks with other ids: ride ids in the generator are
    # base + (park index + 1) x 1000 + ride number, so a copy's ids are offset by parks x 1000.
    # (With ds.parks a multiple of the catalogue's length, a copy's park is the same kind of park.)
    base = sample_data.Sample(ds.spec(ds.parks))
    everything = sample_data.Sample(ds.spec(ds.parks * ds.copies))
    lo = WINDOW_START.strftime("%Y-%m-%d %H:%M:%S")
    hi = (WINDOW_START + timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
    ride_rows: list[tuple] = []
    park_rows: list[tuple] = []
    for day in base.days():
        rides, parks = base.snapshots(day)
        ride_rows += [r for r in rides if lo <= r[1] < hi]
        park_rows += [p for p in parks if lo <= p[1] < hi]
    ride_rows.sort(key=lambda r: r[1])
    park_rows.sort(key=lambda p: p[1])
    progress(f"{ds.name}: generated a template day of {len(ride_rows):,} ride snapshots")
    with db.transaction(conn) as cur:
        cur.execute(sql["drop_template"])
        for name in ("create_template_rides", "create_template_parks", "create_copies"):
            cur.execute(sql[name])
        cur.executemany(sql["insert_copy"], [(k,) for k in range(ds.copies)])
        for k in range(0, len(ride_rows), 5000):
            cur.executemany(sql["insert_template_ride"], ride_rows[k : k + 5000])
        cur.executemany(sql["insert_template_park"], park_rows)
        ins = named_statements(sample_data.SQL_FILE)
        cur.executemany(ins["insert_parks"], everything.park_rows())
        cur.executemany(ins["insert_rides"], everything.ride_rows())
        cur.executemany(ins["insert_classifications"], everything.classification_rows())
    steps = {"park_step": ds.parks, "ride_step": ds.parks * 1000}
    # Secondary indexes are built once the rows are in (a sort, not millions of random inserts
    # into trees larger than the buffer pool): the load takes minutes instead of half an hour.
    indexes = {table: _secondary_indexes(conn, table) for table in SNAPSHOT_TABLES}
    for table, defs in indexes.items():
        db.query_all(conn, f"ALTER TABLE {table} " + ", ".join(f"DROP INDEX {name}" for name in defs))
    for shift in range(-(ds.days - 1), 1):
        with db.transaction(conn) as cur:
            cur.execute(sql["copy_ride_day"], {**steps, "days": shift})
            cur.execute(sql["copy_park_day"], {**steps, "days": shift})
        progress(f"{ds.name}: day {shift + ds.days} of {ds.days} written")
    for table, defs in indexes.items():
        added = ", ".join(f"ADD INDEX {name} ({columns})" for name, columns in defs.items())
        db.query_all(conn, f"ALTER TABLE {table} {added}")
    progress(f"{ds.name}: indexes built")
    with db.transaction(conn) as cur:
        cur.execute(sql["drop_template"])
    return {
        "ride_snapshots": len(ride_rows) * ds.copies * ds.days,
        "park_snapshots": len(park_rows) * ds.copies * ds.days,
    }


SNAPSHOT_TABLES = ("ride_status_snapshots", "park_activity_snapshots")


def _secondary_indexes(conn: Any, table: str) -> dict[str, str]:
    rows = db.query_all(conn, named_statements(SQL_FILE)["secondary_indexes"], {"table": table})
    return {name: columns for name, columns in rows}


def _handler_reads(conn: Any, sql: dict[str, str]) -> int:
    return int(db.query_one(conn, sql["handler_reads"])[0])


def _timed(conn: Any, sql: dict[str, str], work: Callable[[], Any]) -> tuple[float, int, Any]:
    # The status query reads rows itself: what two of them in a row read is subtracted.
    first = _handler_reads(conn, sql)
    before = _handler_reads(conn, sql)
    t0 = time.perf_counter()
    result = work()
    took = time.perf_counter() - t0
    return took, _handler_reads(conn, sql) - before - (before - first), result


def run_baseline(conn: Any, hour: Hour, sql: dict[str, str]) -> None:
    """The original job's shape: list the rides, one INSERT ... SELECT per ride, then per park."""
    params = hour.db_params()
    with db.transaction(conn) as cur:
        cur.execute(sql["baseline_setup"])
        cur.execute(sql["baseline_setup_parks"])
        cur.execute(sql["baseline_clear_rides"], params)
        cur.execute(sql["baseline_clear_parks"], params)
        cur.execute(sql["baseline_rides_of_hour"], params)
        rides = list(cur.fetchall())
        day_start: dict[str, str] = {}
        for ride_id, park_id, down_reporting, tz in rides:
            if tz not in day_start:
                day_start[tz] = park_days.day_start_utc(hour.start, tz).strftime("%Y-%m-%d %H:%M:%S")
            cur.execute(
                sql["baseline_ride"],
                {
                    **params,
                    "ride_id": ride_id,
                    "park_id": park_id,
                    "down_reporting": int(down_reporting),
                    "day_start": day_start[tz],
                    "interval_minutes": INTERVAL_MINUTES,
                },
            )
        cur.execute(sql["baseline_parks_of_hour"], params)
        for (park_id,) in list(cur.fetchall()):
            cur.execute(sql["baseline_park"], {**params, "park_id": park_id})


@contextlib.contextmanager
def later_rows_aside(conn: Any, hour: Hour) -> Iterator[None]:
    """The snapshots from 5 minutes after the hour on set aside for the block, then put back."""
    sql = named_statements(SQL_FILE)
    cut = {"cut": (hour.end + timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M:%S")}
    restore_aside(conn)
    with db.transaction(conn) as cur:
        for name in ("aside_rides", "aside_parks", "delete_later_rides", "delete_later_parks"):
            cur.execute(sql[name], cut)
    _wait_for_purge(conn)
    try:
        yield
    finally:
        restore_aside(conn)


def _wait_for_purge(conn: Any, limit_seconds: float = 300) -> None:
    """Until InnoDB has purged the deleted rows: index entries merely marked deleted would slow
    the look-ups that step over them, which a scheduled run never sees."""
    deadline = time.monotonic() + limit_seconds
    backlog = named_statements(SQL_FILE)["purge_backlog"]
    while int(db.query_one(conn, backlog)[1]) > 10:
        if time.monotonic() > deadline:
            print("note: InnoDB purge still running; the as-scheduled figures include it")
            return
        time.sleep(0.5)


def restore_aside(conn: Any) -> None:
    """Put back rows a run set aside (also after an interrupted one): the data set is whole again."""
    sql = named_statements(SQL_FILE)
    if db.query_one(conn, sql["aside_exists"])[0] == 2:
        with db.transaction(conn) as cur:
            cur.execute(sql["restore_rides"])
            cur.execute(sql["restore_parks"])
            cur.execute(sql["drop_aside"])
    else:
        db.query_all(conn, sql["drop_aside"])


def measure(
    conn: Any, ds: Dataset, label: str, hour: Hour, reps: int, baseline_reps: int, condition: str = "backfill"
) -> Measurement:
    sql = named_statements(SQL_FILE)
    params = hour.db_params()

    def floor() -> int:
        return len(db.query_all(conn, sql["floor"], params))

    def rides() -> aggregation.RideResult:
        return aggregation.aggregate_rides(conn, hour, INTERVAL_MINUTES)

    def parks() -> aggregation.ParkResult:
        return aggregation.aggregate_parks(conn, hour)

    # One untimed round first: caches warm, the hour's rows exist (re-runs replace them).
    floor(), rides(), parks()
    samples: dict[str, list[float]] = {"floor": [], "aggregate_rides": [], "aggregate_parks": [], "both": []}
    reads: dict[str, int] = {}
    for _ in range(reps):
        t_floor, reads["floor"], _n = _timed(conn, sql, floor)
        t_rides, reads["aggregate_rides"], ride_result = _timed(conn, sql, rides)
        t_parks, reads["aggregate_parks"], park_result = _timed(conn, sql, parks)
        samples["floor"].append(t_floor)
        samples["aggregate_rides"].append(t_rides)
        samples["aggregate_parks"].append(t_parks)
        samples["both"].append(t_rides + t_parks)
    reads["both"] = reads["aggregate_rides"] + reads["aggregate_parks"]
    m = Measurement(
        ds.name,
        label,
        condition,
        hour.start.isoformat(),
        ride_result.snapshots_read,
        park_result.snapshots_read,
        ride_result.rides_written,
        park_result.parks_written,
        {k: round(statistics.median(v), 4) for k, v in samples.items()},
        reads,
    )
    m.ratios["ours_over_floor"] = round(m.seconds["both"] / m.seconds["floor"], 2)
    m.ratios["rides_over_floor"] = round(m.seconds["aggregate_rides"] / m.seconds["floor"], 2)
    if ds.baseline and baseline_reps:
        runs = []
        for _ in range(baseline_reps):
            took, reads["baseline"], _none = _timed(conn, sql, lambda: run_baseline(conn, hour, sql))
            runs.append(took)
        m.seconds["baseline"] = round(statistics.median(runs), 4)
        m.ratios["baseline_over_ours"] = round(m.seconds["baseline"] / m.seconds["both"], 1)
        m.baseline_rows_differing = int(db.query_one(conn, sql["ride_rows_differing"], params)[0]) + int(
            db.query_one(conn, sql["park_rows_differing"], params)[0]
        )
    return m


def measure_late_search(conn: Any, m: Measurement, reps: int) -> None:
    """What a scheduled run adds to find late snapshots when there are none, beside its hour.

    The search reads the rows written since the last run (one hour's polls: as many as the hour
    has) and finds none of them late. A late hour, when there is one, costs one more aggregation
    of that hour with the same statements: the hour's own "both" figure.
    """
    sql = named_statements(SQL_FILE)
    hour = Hour(datetime.fromisoformat(m.hour_start_utc))
    params = {"rows": m.ride_snapshots_read, "park_rows": m.park_snapshots_read}
    with db.transaction(conn) as cur:
        cur.execute(sql["forget_later_hours"], hour.db_params())
    samples = []
    for _ in range(reps + 1):  # the first round warms the pages, untimed
        with db.transaction(conn) as cur:
            cur.execute(sql["set_ride_late_mark"], params)
            cur.execute(sql["set_park_late_mark"], params)
        t0 = time.perf_counter()
        found = late_data.find(conn, hour, timedelta(hours=48))
        samples.append(time.perf_counter() - t0)
        if found.hours or found.late_snapshots or found.outside_window:
            raise AssertionError(f"the bench's newest rows were found late for {hour}: {found}")
    m.seconds["late_search"] = round(statistics.median(samples[1:]), 4)
    m.ratios["late_search_over_ours"] = round(m.seconds["late_search"] / m.seconds["both"], 3)


FLOORS_PER_RUN = 3


@dataclass
class WholeRun:
    """One DAG run of an hour, every statement of every task timed by the server, beside the floor."""

    dataset: str
    hour: str
    hour_start_utc: str
    seconds: float  # the runs' median server time (sum of the statements' query_time)
    statements: int  # of the median run
    rows_examined: int  # of the median run
    floor_seconds: float  # the floor statement's median server time (FLOORS_PER_RUN after each run)
    floor_rows_examined: int
    run_over_floor: float
    runs_seconds: list[float]
    floor_runs_seconds: list[float]
    top: list[dict[str, Any]]  # the median run's costliest statement shapes
    # Sessions of other clients in the database, counted before and after each run: not 0, and
    # their work competed with the run's (their statements are not counted).
    other_sessions_seen: int = 0
    # Every statement of the median run, for the test; not written to results.json.
    log: statement_log.StatementLog | None = field(default=None, repr=False, compare=False)

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k != "log"}


def airflow_dag() -> Any:
    """The DAG as Airflow's DagBag loads it, with a new metadata database in AIRFLOW_HOME."""
    from airflow.dag_processing.dagbag import DagBag
    from airflow.utils import db as airflow_db

    airflow_db.initdb()
    bag = DagBag(dag_folder=str(REPO / "dags"))
    if bag.import_errors:
        raise RuntimeError(f"the DAG folder does not import: {bag.import_errors}")
    return bag.get_dag(config.DAG_ID)


def run_dag(dag: Any, hour: Hour) -> None:
    """One real run of the hour by Airflow (dag.test: every task in this process); it must succeed."""
    import pendulum

    # reaggregate_late_data: the late-data search runs, as in every scheduled run.
    run = dag.test(
        logical_date=pendulum.instance(hour.start),
        run_conf={"reaggregate_late_data": True, "snapshot_interval_minutes": INTERVAL_MINUTES},
    )
    if str(run.state) != "success":
        states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
        raise AssertionError(f"the DAG run of {hour} ended {run.state}: task states {states}")


def top_statements(log: statement_log.StatementLog, count: int = 5) -> list[dict[str, Any]]:
    """The costliest statement shapes by server time: repeats of one shape (per park, per hour) add up."""
    by_shape: dict[str, dict[str, Any]] = {}
    for s in log.statements:
        entry = by_shape.setdefault(s.shape, {"shape": s.shape, "seconds": 0.0, "rows_examined": 0, "count": 0})
        entry["seconds"] += s.seconds
        entry["rows_examined"] += s.rows_examined
        entry["count"] += 1
    ranked = sorted(by_shape.values(), key=lambda e: e["seconds"], reverse=True)[:count]
    return [{**e, "seconds": round(e["seconds"], 6), "shape": e["shape"][:400]} for e in ranked]


def measure_whole_run(server: str, database: str, ds: Dataset, label: str, hour: Hour, reps: int, dag: Any) -> WholeRun:
    """The hour's whole DAG run and the floor, both timed by the server, median of ``reps`` runs.

    Before each run the late-data marks are placed as many rows below the newest as the hour has,
    and the hours after the measured one are forgotten: the search reads an hour of new rows and
    finds none late, as a scheduled run does. One warm-up run first (caches; Airflow's start-up,
    migrations the database lacks).
    """
    sql = named_statements(SQL_FILE)
    params = hour.db_params()
    with bench_user(server, database) as (user, user_server), connected(server, database) as setup:
        rides, parks = (int(v) for v in db.query_one(setup, sql["hour_snapshots"], params))
        setup.rollback()
        redos_before = db.query_one(setup, sql["late_redos"])
        setup.rollback()
        runs: list[statement_log.StatementLog] = []
        floors: list[statement_log.Statement] = []
        others = 0
        # Only the user's sessions are counted: the run's and the floor's, not the setup's, nor
        # those of any other client in the database.
        with statement_log.logged(lambda: admin_connect(server), database, user) as recorder:
            for _ in range(reps + 1):
                with db.transaction(setup) as cur:
                    cur.execute(sql["forget_later_hours"], params)
                    cur.execute(sql["set_ride_late_mark"], {"rows": rides})
                    cur.execute(sql["set_park_late_mark"], {"park_rows": parks})
                others += _other_sessions(setup, sql)
                recorder.mark()
                os.environ["AIRFLOW_CONN_THEMEPARK_DB"] = f"{user_server}/{database}"
                run_dag(dag, hour)
                runs.append(recorder.read_settled())
                recorder.mark()
                with connected(user_server, database) as conn:
                    # A single read of the hour: on a shared machine one sample of it is noise.
                    for _floor in range(FLOORS_PER_RUN):
                        db.query_all(conn, sql["floor"], params)
                floor_log = recorder.read_settled(lambda log: len(_floors(log)) >= FLOORS_PER_RUN)
                floors += _floors(floor_log)
                others += _other_sessions(setup, sql)
        redos_after = db.query_one(setup, sql["late_redos"])
        setup.rollback()
    if redos_after != redos_before:
        raise AssertionError(f"{ds.name} {label}: the late-data search re-aggregated hours: not one hour's run")
    if len(floors) != (reps + 1) * FLOORS_PER_RUN or any(len(r.statements) < 10 for r in runs):
        raise AssertionError(
            f"{ds.name} {label}: the slow log missed statements ({[len(r.statements) for r in runs]} per run, "
            f"{len(floors)} floors): did another session change the server's slow-log settings meanwhile?"
        )
    if others:
        print(f"note: {ds.name} {label}: other clients worked in `{database}` during the measurement: their "
              "statements are not counted, but their load on the server is in the times")
    runs, floors = runs[1:], floors[FLOORS_PER_RUN:]
    median_run = sorted(runs, key=lambda r: r.seconds)[len(runs) // 2]
    # Microseconds: the slow log's resolution (a small set's floor takes a few hundred).
    seconds = round(statistics.median(r.seconds for r in runs), 6)
    floor_seconds = round(statistics.median(f.seconds for f in floors), 6)
    return WholeRun(
        dataset=ds.name,
        hour=label,
        hour_start_utc=hour.start.isoformat(),
        seconds=seconds,
        statements=len(median_run.statements),
        rows_examined=median_run.rows_examined,
        floor_seconds=floor_seconds,
        floor_rows_examined=floors[0].rows_examined,
        run_over_floor=round(seconds / floor_seconds, 2) if floor_seconds else float("inf"),
        runs_seconds=[round(r.seconds, 6) for r in runs],
        floor_runs_seconds=[round(f.seconds, 6) for f in floors],
        top=top_statements(median_run),
        other_sessions_seen=others,
        log=median_run,
    )


def _floors(log: statement_log.StatementLog) -> list[statement_log.Statement]:
    return [s for s in log.statements if "AVG(wait_time)" in s.sql]


def _other_sessions(conn: Any, sql: dict[str, str]) -> int:
    count = int(db.query_one(conn, sql["other_sessions"])[0])
    conn.rollback()
    return count


Check = tuple[str, float | None, str, bool | None]


def targets(results: list[Measurement], whole_runs: list[WholeRun] | tuple[()] = ()) -> list[Check]:
    """Each target with its value and PASS (True), FAIL (False) or n/a (None, not measured)."""
    checks = _function_targets(results) if results else []
    whole = {(w.dataset, w.hour): w for w in whole_runs}
    for (dataset, h), w in whole.items():
        checks.append((f"whole run / floor, {dataset}, {h}", w.run_over_floor, "<= 8", w.run_over_floor <= 8))
    if whole:
        for h in HOURS:
            long, short = whole.get(("tracker_30d", h)), whole.get(("tracker_2d", h))
            value = round(long.seconds / short.seconds, 2) if long and short else None
            checks.append((f"whole run 30 days / 2 days, {h}", value, "<= 1.1", None if value is None else value <= 1.1))
    return checks


def _function_targets(results: list[Measurement]) -> list[Check]:
    by = {(m.dataset, m.hour): m for m in results if m.condition == "backfill"}
    scheduled = {(m.dataset, m.hour): m for m in results if m.condition == "scheduled"}
    morning, late = list(HOURS)
    checks: list[tuple[str, float | None, str, bool | None]] = []

    def add(name: str, value: float | None, limit: str, ok: Callable[[float], bool]) -> None:
        checks.append((name, value, limit, None if value is None else ok(value)))

    def ratio(a: tuple[str, str], b: tuple[str, str], key: str = "both") -> float | None:
        if a in by and b in by:
            return round(by[a].seconds[key] / by[b].seconds[key], 2)
        return None

    for h in (morning, late):
        m = by.get(("tracker_30d", h))
        add(f"ours / floor, tracker 30 days, {h}", m and m.ratios["ours_over_floor"], "<= 3", lambda v: v <= 3)
        s = scheduled.get(("tracker_30d", h))
        if s:
            add(f"ours / floor, tracker 30 days, {h}, as scheduled", s.ratios["ours_over_floor"], "<= 3",
                lambda v: v <= 3)
        add(
            f"baseline / ours, tracker 30 days, {h}",
            m and m.ratios.get("baseline_over_ours"),
            ">= 50",
            lambda v: v >= 50,
        )
        add(f"10x / tracker (2 days), {h}", ratio(("x10_2d", h), ("tracker_2d", h)), "<= 12", lambda v: v <= 12)
        add(f"30 days / 2 days, {h}", ratio(("tracker_30d", h), ("tracker_2d", h)), "<= 1.3", lambda v: v <= 1.3)
    add("late / morning hour, tracker 30 days", ratio(("tracker_30d", late), ("tracker_30d", morning)), "<= 1.5",
        lambda v: v <= 1.5)
    for old in OLD_HOURS:
        m = by.get(("tracker_30d", old))
        add(f"ours / floor, tracker 30 days, {old}", m and m.ratios["ours_over_floor"], "<= 3", lambda v: v <= 3)
        add("20 days / 1 day of later rows, tracker 30 days, late hour", ratio(("tracker_30d", old), ("tracker_30d", late)),
            "<= 1.3", lambda v: v <= 1.3)
    for (dataset, h), m in sorted(by.items()):
        # Within the noise of the hour itself, whose time moves +-15% between runs of the bench.
        if "late_search_over_ours" in m.ratios:
            add(f"late-data search (none late) / ours, {dataset}, {h}", m.ratios["late_search_over_ours"],
                "<= 0.10", lambda v: v <= 0.10)
    for m in results:
        if m.baseline_rows_differing is not None:
            add(f"baseline rows differing from the DAG's, {m.dataset}, {m.hour}, {m.condition}",
                m.baseline_rows_differing, "= 0", lambda v: v == 0)
    return checks


def print_report(results: list[Measurement], checks: list[Check], whole_runs: list[WholeRun] | tuple[()] = ()) -> None:
    if results:
        _print_functions(results)
    if whole_runs:
        _print_whole_runs(whole_runs)
    print("\ntargets (issues #5 and #17; the machine is shared: seconds move between runs, the ratios are the result)")
    for name, value, limit, ok in checks:
        verdict = "n/a " if ok is None else ("PASS" if ok else "FAIL")
        print(f"  {verdict}  {name:<72} {value if value is not None else '-':>8}  (target {limit})")


def _print_whole_runs(whole_runs: list[WholeRun] | tuple[()]) -> None:
    print(
        "\nwhole DAG run (dag.test, every task's statements) and the floor, both timed by the server "
        f"(slow log query_time), median of {len(whole_runs[0].runs_seconds)} runs"
    )
    print(f"{'data set':<12} {'hour':<22} {'run s':>8} {'runs min-max':>13} {'statements':>10} {'rows examined':>13} "
          f"{'floor s':>8} {'floor min-max':>13} {'floor rows':>10} {'run/floor':>9}")
    for w in whole_runs:
        spread = f"{min(w.runs_seconds):.3f}-{max(w.runs_seconds):.3f}"
        floor_spread = f"{min(w.floor_runs_seconds):.3f}-{max(w.floor_runs_seconds):.3f}"
        print(f"{w.dataset:<12} {w.hour:<22} {w.seconds:>8.3f} {spread:>13} {w.statements:>10,} {w.rows_examined:>13,} "
              f"{w.floor_seconds:>8.4f} {floor_spread:>13} {w.floor_rows_examined:>10,} {w.run_over_floor:>9.2f}")
    print("\nwhere a run's time goes: its 5 costliest statement shapes (the median run; xN: run N times)")
    for w in whole_runs:
        print(f"  {w.dataset}, {w.hour}: {w.seconds:.3f} s")
        for t in w.top:
            share = t["seconds"] / w.seconds if w.seconds else 0.0
            print(f"    {t['seconds']:>7.4f} s {share:>4.0%} {t['rows_examined']:>10,} rows  x{t['count']:<3} {t['shape'][:110]}")


def _print_functions(results: list[Measurement]) -> None:
    print(f"\n{'data set':<12} {'hour':<22} {'as':<9} {'snapshots':>9} {'written':>7} {'floor s':>8} {'rides s':>8} "
          f"{'parks s':>8} {'both s':>8} {'base s':>8} {'ours/floor':>10} {'base/ours':>9} {'reads ours/floor':>16}")
    for m in results:
        s = m.seconds
        reads = m.handler_reads
        print(
            f"{m.dataset:<12} {m.hour:<22} {m.condition:<9} {m.ride_snapshots_read:>9,} {m.rides_written + m.parks_written:>7,} "
            f"{s['floor']:>8.3f} {s['aggregate_rides']:>8.3f} {s['aggregate_parks']:>8.3f} {s['both']:>8.3f} "
            f"{s.get('baseline', float('nan')):>8.2f} {m.ratios['ours_over_floor']:>10.2f} "
            f"{m.ratios.get('baseline_over_ours', float('nan')):>9.1f} "
            f"{reads['both'] / max(reads['floor'], 1):>16.2f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--baseline-reps", type=int, default=1)
    parser.add_argument("--out", default=str(REPO / "bench/results.json"))
    parser.add_argument("--db-prefix", default="themepark_bench_")
    parser.add_argument("--no-scheduled", action="store_true", help="skip the as-scheduled measurements")
    parser.add_argument(
        "--only",
        choices=("functions", "whole-run"),
        help="only the aggregation functions (with floor, baseline, late-data search), or only the whole DAG run",
    )
    args = parser.parse_args(argv)
    server = server_url()
    results: list[Measurement] = []
    whole_runs: list[WholeRun] = []
    dag = None
    facts: dict[str, Any] = {}
    loads = {}
    for name in args.datasets.split(","):
        ds = DATASETS[name]
        database = args.db_prefix + ds.name
        loads[name] = load(server, database, ds)
        facts = facts or server_facts(server, database)
        if ds.copies > 1 and facts["innodb_buffer_pool_mb"] < 2048:
            print(
                f"note: the server's InnoDB buffer pool is {facts['innodb_buffer_pool_mb']} MB; {ds.name}'s look-up "
                "indexes need about 2 GB to stay in memory, so its figures include page reads "
                "(make db-stop, then make bench, starts the private server with BENCH_BUFFER_POOL=3G)"
            )
        if args.only != "whole-run":
            results += measure_functions(server, database, ds, args)
        if args.only != "functions":
            dag = dag or airflow_dag()
            for label, start in HOURS.items():
                w = measure_whole_run(server, database, ds, label, Hour(start), args.reps, dag)
                whole_runs.append(w)
                print(
                    f"{ds.name} {label}: whole run {w.seconds:.3f} s of server time in {w.statements} statements, "
                    f"floor {w.floor_seconds:.4f} s: {w.run_over_floor:.1f} x",
                    flush=True,
                )
    checks = targets(results, whole_runs)
    print_report(results, checks, whole_runs)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(
        json.dumps(
            {
                "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "only": args.only,
                "server": facts,
                "datasets": loads,
                "results": [asdict(m) for m in results],
                "whole_run": [w.as_json() for w in whole_runs],
                "targets": [{"target": n, "value": v, "limit": lim, "pass": ok} for n, v, lim, ok in checks],
            },
            indent=2,
        )
    )
    print(f"\nwritten to {args.out}")
    # A missed speed target is reported above; rows that differ from the baseline are an error.
    wrong = [name for name, _value, _limit, ok in checks if ok is False and name.startswith("baseline rows")]
    return 1 if wrong else 0


def measure_functions(server: str, database: str, ds: Dataset, args: argparse.Namespace) -> list[Measurement]:
    """The aggregation functions, floor and baseline of each hour (issue #5), on one connection."""
    results: list[Measurement] = []
    with connected(server, database) as conn:
        for label, start in HOURS.items():
            m = measure(conn, ds, label, Hour(start), args.reps, args.baseline_reps)
            measure_late_search(conn, m, args.reps)
            results.append(m)
            print(
                f"{ds.name} {label}: both {m.seconds['both']:.3f} s, floor {m.seconds['floor']:.3f} s, "
                f"late-data search (none late) {m.seconds['late_search']:.4f} s",
                flush=True,
            )
            if ds.scheduled and not args.no_scheduled:
                with later_rows_aside(conn, Hour(start)):
                    m = measure(conn, ds, label, Hour(start), args.reps, args.baseline_reps, "scheduled")
                results.append(m)
                print(f"{ds.name} {label}, as scheduled: both {m.seconds['both']:.3f} s, "
                      f"floor {m.seconds['floor']:.3f} s", flush=True)
        # The per-ride baseline is left out there: its own look-ups walk back over the 20
        # days of later rows, minutes of a run that the recent hours already check.
        for label, start in (OLD_HOURS.items() if ds.old_hours else ()):
            m = measure(conn, ds, label, Hour(start), args.reps, 0)
            results.append(m)
            print(f"{ds.name} {label}: both {m.seconds['both']:.3f} s, floor {m.seconds['floor']:.3f} s", flush=True)
    return results


def server_facts(server: str, database: str) -> dict[str, Any]:
    with connected(server, database) as conn:
        version, pool = db.query_one(conn, named_statements(SQL_FILE)["server_facts"])
    return {"version": str(version), "innodb_buffer_pool_mb": int(pool) // 2**20}


if __name__ == "__main__":
    sys.exit(main())
