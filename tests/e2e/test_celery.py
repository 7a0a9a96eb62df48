"""docker-compose.yaml's CeleryExecutor deployment, run as processes: two workers, one lost, Redis restarted.

The deployment (devtools/themepark_devtools/airflow_stack.py with ``celery_workers``): a private
PostgreSQL for Airflow's metadata, a private Redis as the broker, the api-server, scheduler,
dag-processor, triggerer and two ``airflow celery worker`` processes, ``worker-1`` and
``worker-2``. Airflow's settings are the compose file's ``x-airflow-common.environment`` with the
services' addresses swapped for the local ones (compose_env.py), so the file and this test cannot
drift apart. Driven through the REST API and the CLI only; the tracker database is read to check
rows (and, in the lost-worker test, one of its hour locks is held to catch a task mid-hour).

The tests build on each other's state, in file order; marker ``celery`` (``make test
PYTEST_ARGS='-m celery'``).
"""

from __future__ import annotations

import contextlib
import time

import pytest

from support.aggregate_helpers import assert_matches_reference
from support.sample_day import at, db_hour
from themepark_devtools import compose_env
from themepark_devtools.airflow_stack import TERMINAL_RUN_STATES, TERMINAL_TI_STATES
from themepark_hourly import aggregation
from themepark_hourly.hours import Hour

pytestmark = pytest.mark.celery

WORKERS = ("worker-1", "worker-2")
# The scheduler fails a running task instance whose heartbeat is older than this (Airflow's default
# is 300 s; the supervisor beats every 5 s, [workers] min_heartbeat_interval). Low here so a lost
# worker is found in seconds; docs/OPERATIONS.md "Failures and retries" says what to set in the file.
HEARTBEAT_TIMEOUT = 30
TASK_RETRIES = 2
# Settings of the file the stack replaces whole (airflow_stack.py, AirflowStack._compose_env says why).
REPLACED = {"AIRFLOW__CORE__AUTH_MANAGER", "AIRFLOW_CONN_THEMEPARK_DB", "THEMEPARK_SQL_DIR"}


@pytest.fixture(scope="module")
def airflow_stack_workers() -> tuple[str, ...]:
    return WORKERS


@pytest.fixture(scope="module")
def airflow_stack_env() -> dict[str, str]:
    return {
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT),
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
        "THEMEPARK_TASK_RETRIES": str(TASK_RETRIES),
        "THEMEPARK_RETRY_DELAY_SECONDS": "5",
    }


def _log_rows(database, run_id: str) -> list[tuple]:
    return database.query(
        "SELECT status, attempts, failed_attempts, last_failed_task FROM aggregation_log WHERE run_id = %s", (run_id,)
    )


def _hostnames(stack, runs: list[dict]) -> dict[str, set[str]]:
    """Per worker host name, the runs whose task instances ran there."""
    hosts: dict[str, set[str]] = {}
    for run in runs:
        for ti in stack.task_instances(run["dag_run_id"]):
            if ti["state"] == "skipped":
                continue  # late_data of a backfill run: skipped by migrate's branch, ran nowhere
            hosts.setdefault(ti["hostname"], set()).add(run["dag_run_id"])
    return hosts


def _assert_nothing_left_running(stack, runs: list[dict]) -> None:
    """No backfill run is queued or running, and no task instance of ``runs`` is left unfinished.
    (The scheduler's own run of the latest settled hour, made on unpausing, may run meanwhile.)"""
    assert stack.list_runs(run_type="backfill", state="running") == []
    assert stack.list_runs(run_type="backfill", state="queued") == []
    for run in runs:
        assert stack.get_run(run["dag_run_id"])["state"] in TERMINAL_RUN_STATES
        states = stack.task_states(run["dag_run_id"])
        assert all(state in TERMINAL_TI_STATES for state in states.values()), states


def test_the_deployment_is_the_compose_files(airflow_stack):
    stack = airflow_stack
    # Every setting of the file reached the processes; those without a variable or an address verbatim.
    for key, value in compose_env.airflow_common_env().items():
        assert key in stack.env, key
        if "$" not in value and "://" not in value and key not in REPLACED:
            assert stack.env[key] == value, key
    assert stack.env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert stack.env["AIRFLOW__CELERY__BROKER_URL"] == stack.redis.url
    assert stack.env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql+psycopg2://")
    assert f"127.0.0.1:{stack.postgres.port}/airflow" in stack.env["AIRFLOW__CELERY__RESULT_BACKEND"]
    assert stack.celery_ping() == set(WORKERS)
    assert stack.get_dag()["is_paused"] is True  # DAGS_ARE_PAUSED_AT_CREATION from the file
    stack.unpause()


def test_a_backfill_of_12_hours_runs_on_both_workers_with_exact_rows(airflow_stack, sample_day):
    stack = airflow_stack
    hours = range(8, 20)
    t0 = time.monotonic()
    backfill = stack.create_backfill(at(hours[0]), at(hours[-1]))  # the UI dialog's default max_active_runs 10
    runs = stack.wait_for_backfill_runs(backfill["id"], count=len(hours), timeout=420)
    wall = time.monotonic() - t0
    assert [r["logical_date"] for r in runs] == [at(h) for h in hours]
    assert {r["dag_run_id"]: r["state"] for r in runs} == {r["dag_run_id"]: "success" for r in runs}, stack.logs_tail()
    written = 0
    for h in hours:
        rides, parks = assert_matches_reference(sample_day, db_hour(h))
        written += len(rides) + len(parks)
    assert written > 0  # the sample day has rides in these hours: the comparison compared something
    hosts = _hostnames(stack, runs)
    assert set(hosts) == set(WORKERS), hosts
    for run in runs:
        assert [r[:2] for r in _log_rows(sample_day, run["dag_run_id"])] == [("success", 1)]
    _assert_nothing_left_running(stack, runs)
    print(f"\nCelery, 2 workers: backfill of {len(hours)} sample hours in {wall:.1f} s "
          f"({len(hours) / wall * 60:.1f} hours/minute); runs per worker {({h: len(r) for h, r in hosts.items()})}")  # fmt: skip
    stack.wait_for_backfill(backfill["id"], timeout=120)  # one active backfill per DAG


@contextlib.contextmanager
def _hold_hour_lock(database, hour: str):
    """Hold the hour's database lock (the one aggregate_rides takes before it writes), so the task
    that wants it waits, running, inside aggregate_rides; yields the connection's id."""
    name = aggregation.hour_lock_name(database.name, Hour.parse(hour))
    with database.connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT GET_LOCK(%s, 0), CONNECTION_ID()", (name,))
        got, conn_id = cur.fetchone()
        assert got == 1
        try:
            yield name, conn_id
        finally:
            cur.execute("SELECT RELEASE_LOCK(%s)", (name,))


def test_a_worker_killed_during_aggregate_rides_loses_nothing(airflow_stack, sample_day):
    stack = airflow_stack
    hour = 20
    with _hold_hour_lock(sample_day, db_hour(hour)) as (lock, _):
        backfill = stack.create_backfill(at(hour), at(hour))

        def rides_waiting_on_the_lock():
            runs = stack.backfill_runs(backfill["id"])
            if not runs:
                return None
            tis = {ti["task_id"]: ti for ti in stack.task_instances(runs[0]["dag_run_id"])}
            ti = tis.get("aggregate_rides")
            waiting = sample_day.query(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT GET_LOCK(%%' "
                "AND INFO LIKE %s",
                (f"%{lock}%",),
            )[0][0]
            if ti and ti["state"] == "running" and ti["hostname"] in WORKERS and waiting == 1:
                return runs[0], ti
            return None

        run, ti = stack.poll(rides_waiting_on_the_lock, timeout=180, what="aggregate_rides to wait on the hour lock")
        victim = ti["hostname"]
        [survivor] = set(WORKERS) - {victim}
        assert ti["try_number"] == 1
        killed_at = time.monotonic()
        stack.kill_component(victim)
    # The lock is free again; the lost task's connection died with its worker.

    done = stack.wait_for_run(run["dag_run_id"], timeout=HEARTBEAT_TIMEOUT + 180)
    found_and_rerun = time.monotonic() - killed_at
    assert done["state"] == "success", stack.logs_tail()
    tis = {t["task_id"]: t for t in stack.task_instances(run["dag_run_id"])}
    rides = tis["aggregate_rides"]
    assert (rides["state"], rides["try_number"], rides["hostname"]) == ("success", 2, survivor)
    # Found lost by the scheduler's heartbeat check, not failed by anything else.
    events = stack.get("/api/v2/eventLogs", params={"event": "heartbeat timeout", "dag_id": stack.dag_id})["event_logs"]
    assert [(e["run_id"], e["task_id"], e["try_number"]) for e in events] == [(run["dag_run_id"], "aggregate_rides", 1)]
    # Every other task of the run ran once (late_data, skipped by migrate's branch, not at all).
    assert tis["late_data"]["state"] == "skipped"
    ran = set(tis) - {"aggregate_rides", "late_data"}
    assert {t: v["try_number"] for t, v in tis.items() if t in ran} == dict.fromkeys(ran, 1)
    assert_matches_reference(sample_day, db_hour(hour))
    # The run's one log row: one attempt of the run (a task's retry is not a new attempt of the run;
    # Airflow's try_number above counts those), nothing failed.
    assert _log_rows(sample_day, run["dag_run_id"]) == [("success", 1, 0, None)]
    # The hour written once: one log row for it, one row per ride.
    assert sample_day.query(
        "SELECT COUNT(*) FROM aggregation_log WHERE aggregated_from_ts = %s", (db_hour(hour),)
    ) == [(1,)]
    assert sample_day.query(
        "SELECT COUNT(*) - COUNT(DISTINCT ride_id) FROM ride_hourly_stats WHERE hour_start_utc = %s", (db_hour(hour),)
    ) == [(0,)]
    _assert_nothing_left_running(stack, [done])
    print(f"\nworker {victim} killed during aggregate_rides: found lost and re-run on {survivor}, run done "
          f"{found_and_rerun:.1f} s after the kill (heartbeat timeout {HEARTBEAT_TIMEOUT} s)")  # fmt: skip
    stack.wait_for_backfill(backfill["id"], timeout=120)
    # The worker comes back (its container restarts), under the same name.
    stack.start_component(victim)
    stack.wait_for_workers([victim])


def _backfill_tis(stack, backfill_id: int) -> list[dict]:
    return [ti for run in stack.backfill_runs(backfill_id) for ti in stack.task_instances(run["dag_run_id"])]


def test_redis_stopped_and_started_while_a_backfill_runs(airflow_stack, sample_day):
    # What Airflow does (pinned down here, told in docs/OPERATIONS.md "Failures and retries"): tasks
    # already running finish (they report over HTTP to the api-server, not through Redis); a task
    # the scheduler hands to Celery while Redis is down cannot be sent: the executor reports it
    # failed, and it uses one of its retries (up_for_retry, never started); once Redis is back,
    # its retry and everything else run and the backfill completes with exact rows.
    stack = airflow_stack
    hours = range(0, 6)
    backfill = stack.create_backfill(at(hours[0]), at(hours[-1]))
    stack.poll(
        lambda: any(ti["state"] == "success" for ti in _backfill_tis(stack, backfill["id"])),
        timeout=180,
        what="the backfill under way (a task done)",
    )
    stopped_at = time.monotonic()
    stack.redis.stop()
    assert stack.celery_ping() == set()  # the workers cannot be reached through the broker

    def not_sent():
        return [
            ti for ti in _backfill_tis(stack, backfill["id"])
            if ti["state"] == "up_for_retry" and ti["try_number"] == 1 and not ti["start_date"]
        ]  # fmt: skip

    lost_sends = stack.poll(not_sent, timeout=120, what="a task the scheduler could not send to Redis")
    down_for = time.monotonic() - stopped_at
    stack.redis.start()
    runs = stack.wait_for_backfill_runs(backfill["id"], count=len(hours), timeout=420)
    assert {r["dag_run_id"]: r["state"] for r in runs} == {r["dag_run_id"]: "success" for r in runs}, stack.logs_tail()
    after = {(ti["dag_run_id"], ti["task_id"]): ti for ti in _backfill_tis(stack, backfill["id"])}
    for ti in lost_sends:
        again = after[(ti["dag_run_id"], ti["task_id"])]
        assert (again["state"], again["try_number"]) == ("success", 2)
    assert all(ti["state"] in ("success", "skipped") for ti in after.values())
    for h in hours:
        assert_matches_reference(sample_day, db_hour(h))
    for run in runs:
        assert [r[:2] for r in _log_rows(sample_day, run["dag_run_id"])] == [("success", 1)]
    _assert_nothing_left_running(stack, runs)
    retried = sorted((k[0][-14:-9], k[1], ti["try_number"]) for k, ti in after.items() if ti["try_number"] > 1)
    print(f"\nRedis down {down_for:.1f} s during a backfill of {len(hours)} hours: all succeeded; tasks retried "
          f"(hour, task, tries): {retried}")  # fmt: skip
