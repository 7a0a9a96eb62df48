"""Every way Airflow runs the DAG, through Airflow's own scheduler, dag-processor, api-server and CLI.

One deployment for the module, driven only through the REST API the UI uses and the `airflow`
CLI; the tests run in file order and build on each other's state, as an operator's day would:
first unpause (after a backfill made while paused), the scheduler down for three hours,
`airflow dags test` of a 2025 hour, backfills, a bad hour, a cleared run, a plain Trigger, a
trigger of the hour under way.

"The scheduler was down for three hours" needs no wall-clock wait: the deployment starts with a
settle delay of 3 h 5 min, so to its scheduler the latest settled hour is three hours older than
it really is; the scheduler and dag-processor are then restarted with the default 5 min, and the
three hours in between are exactly the ones a scheduler stopped for three hours would have missed.
"""

from __future__ import annotations

import ast
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from support.aggregate_helpers import assert_matches_reference
from support.sample_day import at, db_hour

SETTLE_DOWN = timedelta(hours=3, minutes=5)  # the "scheduler down" settle delay (see the docstring)
SETTLE = timedelta(minutes=5)


def last_settled(now: datetime, settle: timedelta) -> datetime:
    return (now - settle).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def airflow_stack_env() -> dict[str, str]:
    minutes = int(SETTLE_DOWN.total_seconds() // 60)
    # Retries on: the bad hour below must fail without them all the same.
    return {
        "THEMEPARK_SETTLE_MINUTES": str(minutes),
        "THEMEPARK_TASK_RETRIES": "2",
        "THEMEPARK_RETRY_DELAY_SECONDS": "30",
    }


CONSUMER = "themepark_hourly_consumer"


@pytest.fixture(scope="module")
def airflow_stack_dags() -> list[Path]:
    # A downstream DAG scheduled on the hourly tables' asset (tests/e2e/dags, not the project's dags/).
    return [Path(__file__).parent / "dags" / f"{CONSUMER}.py"]


def _log_rows(database, run_id: str) -> list[tuple]:
    return database.query(
        "SELECT status, aggregated_from_ts, attempts, failed_attempts, last_failed_task, error_message, reason "
        "FROM aggregation_log WHERE run_id = %s",
        (run_id,),
    )


def _runs_by_type(stack) -> dict[str, list[str]]:
    runs: dict[str, list[str]] = {}
    for run in stack.list_runs(limit=200):
        runs.setdefault(run["run_type"], []).append(run["logical_date"])
    return runs


def test_first_unpause_runs_the_latest_settled_hour_only_even_after_a_backfill_made_while_paused(
    airflow_stack, sample_day
):
    stack = airflow_stack
    dag = stack.wait_for_dag()
    assert dag["is_paused"] is True and stack.import_errors() == []
    assert dag["timetable_summary"] == f"hourly, settled {int(SETTLE_DOWN.total_seconds() // 60)} min"
    created = datetime.now(UTC)
    backfill = stack.create_backfill(at(14), at(15), reprocess_behavior="none", max_active_runs=2)
    # Let the dag-processor re-read the DAG after the backfill exists: its next run must still be
    # the latest settled hour, not the hour after the backfill's (2025) runs.
    details = stack.poll(
        lambda: (d := stack.get_dag()) and parse(d["last_parsed_time"]) > created and d,
        timeout=120,
        what="the dag-processor to parse the DAG after the backfill was made",
    )
    first = last_settled(datetime.now(UTC), SETTLE_DOWN)
    assert parse(details["next_dagrun_data_interval_start"]) == first

    stack.wait_for_dag(CONSUMER)
    stack.unpause(CONSUMER)
    stack.unpause()
    runs = stack.wait_for_runs(1, run_type="scheduled", timeout=180)
    assert parse(runs[0]["logical_date"]) == first
    assert runs[0]["state"] == "success", stack.logs_tail()
    assert parse(runs[0]["data_interval_end"]) - parse(runs[0]["data_interval_start"]) == timedelta(hours=1)
    done = stack.wait_for_backfill_runs(backfill["id"], count=2, timeout=180)
    assert [r["state"] for r in done] == ["success", "success"]
    assert [r["logical_date"] for r in done] == [at(14), at(15)]
    for hour in (14, 15):
        assert_matches_reference(sample_day, db_hour(hour))
    # Nothing older and nothing else: the scheduler's hours start at `first` (one more when the
    # next hour settled meanwhile), and the two backfilled hours.
    scheduled = [parse(r["logical_date"]) for r in stack.list_runs(run_type="scheduled")]
    latest = last_settled(datetime.now(UTC), SETTLE_DOWN)
    assert (
        scheduled
        == [first + timedelta(hours=k) for k in range(int((latest - first) / timedelta(hours=1)) + 1)][: len(scheduled)]
    )
    assert len(scheduled) in (1, 2) and scheduled[0] == first
    assert _runs_by_type(stack).keys() == {"scheduled", "backfill"}
    assert _runs_by_type(stack)["backfill"] == [at(14), at(15)]
    assert [r[0] for r in _log_rows(sample_day, runs[0]["dag_run_id"])] == ["success"]
    stack.wait_for_backfill(backfill["id"], timeout=120)  # one active backfill per DAG


def test_hours_missed_while_the_scheduler_was_down_run_after_it_restarts_in_order(airflow_stack, sample_day):
    stack = airflow_stack
    stack.stop_scheduler()
    # The scheduler's latest hour when it went down.
    last_before = stack.list_runs(run_type="scheduled")[-1]
    stack.wait_for_run(last_before["dag_run_id"], timeout=120)
    stack.stop_component("dag-processor")
    stack.env["THEMEPARK_SETTLE_MINUTES"] = str(int(SETTLE.total_seconds() // 60))
    stack.start_component("dag-processor")
    stack.start_scheduler()
    stack.poll(
        lambda: stack.get_dag()["timetable_summary"] == "hourly, settled 5 min",
        timeout=120,
        what="the DAG re-parsed with the 5 min settle delay",
    )
    start = parse(last_before["logical_date"]) + timedelta(hours=1)

    def missed_hours_done():
        latest = last_settled(datetime.now(UTC), SETTLE)
        wanted = int((latest - start) / timedelta(hours=1)) + 1
        runs = stack.list_runs(run_type="scheduled", logical_date_gte=start.isoformat())
        if len(runs) == wanted and all(r["state"] in ("success", "failed") for r in runs):
            return runs
        return None

    runs = stack.poll(missed_hours_done, timeout=240, what="the missed hours to run")
    hours = [parse(r["logical_date"]) for r in runs]
    assert len(hours) >= 3  # three hours down (four if an hour settled meanwhile)
    assert hours == [start + timedelta(hours=k) for k in range(len(hours))]
    assert all(r["state"] == "success" for r in runs), stack.logs_tail()
    # Created in order, each hour once, each with one log row.
    queued = [parse(r["queued_at"]) for r in runs]
    assert queued == sorted(queued)
    for run in runs:
        assert [(r[0], r[1].replace(tzinfo=UTC)) for r in _log_rows(sample_day, run["dag_run_id"])] == [
            ("success", parse(run["logical_date"]))
        ]


def test_dags_test_of_a_2025_hour_is_that_hours_run_and_a_backfill_over_it_adds_the_next(airflow_stack, sample_day):
    stack = airflow_stack
    done = stack.cli("dags", "test", stack.dag_id, "2025-07-04T16:00:00+00:00", timeout=300)
    [manual] = stack.list_runs(run_type="manual", logical_date_gte=at(16), logical_date_lte=at(16))
    assert manual["state"] == "success", done.stdout[-2000:]
    assert (manual["data_interval_start"], manual["data_interval_end"]) == (at(16), at(17))
    assert [r[:2] for r in _log_rows(sample_day, manual["dag_run_id"])] == [("success", datetime(2025, 7, 4, 16))]
    assert_matches_reference(sample_day, db_hour(16))

    backfill = stack.create_backfill(at(16), at(17), reprocess_behavior="none")
    stack.wait_for_backfill(backfill["id"], timeout=180)
    runs = {r["logical_date"]: r for r in stack.list_runs(logical_date_gte=at(16), logical_date_lte=at(17))}
    assert sorted(runs) == [at(16), at(17)]
    assert runs[at(16)]["dag_run_id"] == manual["dag_run_id"]  # the hour's run, found, not redone
    assert (runs[at(17)]["run_type"], runs[at(17)]["state"]) == ("backfill", "success")
    assert (runs[at(17)]["data_interval_start"], runs[at(17)]["data_interval_end"]) == (at(17), at(18))
    assert_matches_reference(sample_day, db_hour(17))


def test_backfill_of_six_hours_then_reprocess_completed_gives_the_same_rows(airflow_stack, sample_day):
    stack = airflow_stack
    t0 = time.monotonic()
    backfill = stack.create_backfill(at(18), at(23), reprocess_behavior="none", max_active_runs=6)
    runs = stack.wait_for_backfill_runs(backfill["id"], count=6, timeout=240)
    first_pass = time.monotonic() - t0
    assert [r["logical_date"] for r in runs] == [at(h) for h in range(18, 24)]
    assert all(r["state"] == "success" for r in runs), stack.logs_tail()
    rows = {h: assert_matches_reference(sample_day, db_hour(h)) for h in range(18, 24)}
    stack.wait_for_backfill(backfill["id"], timeout=120)

    again = stack.create_backfill(at(18), at(23), reprocess_behavior="completed", max_active_runs=6)
    stack.wait_for_backfill(again["id"], timeout=240)
    rerun = stack.backfill_runs(again["id"])
    assert [r["dag_run_id"] for r in rerun] == [r["dag_run_id"] for r in runs]  # the same Airflow runs
    assert all(r["state"] == "success" for r in rerun)
    for h in range(18, 24):
        assert assert_matches_reference(sample_day, db_hour(h)) == rows[h]
    for run in rerun:
        [(status, _, attempts, failed, *_)] = _log_rows(sample_day, run["dag_run_id"])
        assert (status, attempts, failed) == ("success", 2, 0)
    print(f"\nbackfill of 6 sample hours (max_active_runs 6): {first_pass:.1f} s")


def _hours_received_downstream(stack, seen: dict[str, list[str]]) -> set[str]:
    """The hours the consumer DAG's finished runs were told of (their task's return value).

    ``seen`` keeps what earlier polls read, so each run's XCom is read once.
    """
    for run in stack.list_runs(dag_id=CONSUMER, state="success", limit=200):
        if run["dag_run_id"] in seen:
            continue
        entry = stack.get(
            f"/api/v2/dags/{CONSUMER}/dagRuns/{run['dag_run_id']}/taskInstances/hours_received/xcomEntries/return_value"
        )
        value = entry["value"]
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                value = ast.literal_eval(value)
        seen[run["dag_run_id"]] = list(value)
    return {hour for hours in seen.values() for hour in hours}


def test_downstream_dag_is_told_each_hour_written(airflow_stack, sample_day):
    stack = airflow_stack
    wanted = {f"2025-07-04T{h:02d}:00:00" for h in (14, 15, 16, 17, *range(18, 24))}
    seen: dict[str, list[str]] = {}
    received = stack.poll(
        lambda: (got := _hours_received_downstream(stack, seen)) >= wanted and got,
        timeout=300,
        what="the consumer DAG to receive every hour written",
    )
    # Every hour received was an event of this DAG, and every event an hour it wrote: the 2025
    # hours above or the scheduler's own recent hours (read after the events: an hour may settle
    # and be announced while this test runs).
    events = stack.get("/api/v2/assets/events", params={"source_dag_id": stack.dag_id, "limit": 200})["asset_events"]
    announced = {e["partition_key"] for e in events}
    scheduled = {parse(r["logical_date"]).strftime("%Y-%m-%dT%H:%M:%S") for r in stack.list_runs(run_type="scheduled")}
    assert received <= announced <= wanted | scheduled
    assert all(e["extra"]["tables"] == ["ride_hourly_stats", "park_hourly_stats"] for e in events)


def test_a_bad_hour_fails_in_seconds_and_reprocess_failed_redoes_only_it(airflow_stack, sample_day):
    stack = airflow_stack
    # A poll of a ride that has no rides row: the 11:00 hour is refused, 10:00 and 12:00 are not.
    sample_day.execute(
        "INSERT INTO ride_status_snapshots (ride_id, recorded_at, wait_time, computed_is_open, status) "
        "VALUES (987654, '2025-07-04 11:30:00', 5, 1, 'OPERATING')"
    )
    backfill = stack.create_backfill(at(10), at(12), reprocess_behavior="none")
    runs = {r["logical_date"]: r for r in stack.wait_for_backfill_runs(backfill["id"], count=3, timeout=240)}
    assert {h: r["state"] for h, r in runs.items()} == {at(10): "success", at(11): "failed", at(12): "success"}
    bad = runs[at(11)]
    tis = {ti["task_id"]: ti for ti in stack.task_instances(bad["dag_run_id"])}
    # Refused at once: one try, although the DAG has 2 retries of 30 s.
    assert (tis["aggregate_rides"]["state"], tis["aggregate_rides"]["try_number"]) == ("failed", 1)
    assert parse(bad["end_date"]) - parse(bad["start_date"]) < timedelta(seconds=60)
    [(status, _, _, _, failed_task, error, _)] = _log_rows(sample_day, bad["dag_run_id"])
    assert (status, failed_task) == ("failed", "aggregate_rides")
    assert "ride_id 987654 (1 snapshots) has no row in rides" in error and "2025-07-04 11:00-12:00 UTC" in error
    events = stack.get("/api/v2/assets/events", params={"source_run_id": bad["dag_run_id"]})["asset_events"]
    assert events == []  # a failed run tells downstream nothing
    stack.wait_for_backfill(backfill["id"], timeout=120)

    sample_day.execute("DELETE FROM ride_status_snapshots WHERE ride_id = 987654")
    fix = stack.create_backfill(at(10), at(12), reprocess_behavior="failed")
    stack.wait_for_backfill(fix["id"], timeout=240)
    after = {r["logical_date"]: r for r in stack.backfill_runs(fix["id"])}
    assert {h: r["state"] for h, r in after.items()} == {at(10): "success", at(11): "success", at(12): "success"}
    attempts = {h: _log_rows(sample_day, r["dag_run_id"])[0][2:5] for h, r in after.items()}
    assert attempts == {at(10): (1, 0, None), at(11): (2, 1, "aggregate_rides"), at(12): (1, 0, None)}
    assert_matches_reference(sample_day, db_hour(11))


def test_clearing_a_run_updates_its_log_row(airflow_stack, sample_day):
    stack = airflow_stack
    [run] = stack.list_runs(logical_date_gte=at(10), logical_date_lte=at(10))
    stack.clear_run(run["dag_run_id"])
    stack.poll(
        lambda: (
            _log_rows(sample_day, run["dag_run_id"])[0][2] == 2
            and stack.get_run(run["dag_run_id"])["state"] == "success"
        ),
        timeout=180,
        what="the cleared run to run again",
    )
    rows = _log_rows(sample_day, run["dag_run_id"])
    assert len(rows) == 1 and rows[0][0] == "success"
    assert_matches_reference(sample_day, db_hour(10))


def test_trigger_without_a_logical_date_runs_the_last_settled_hour(airflow_stack, sample_day):
    stack = airflow_stack
    posted = stack.trigger_run(None)
    assert posted["logical_date"] is None
    run = stack.wait_for_run(posted["dag_run_id"], timeout=180)
    assert run["state"] == "success", stack.logs_tail()
    expected = last_settled(parse(run["run_after"]), SETTLE)
    log_text = stack.task_log(run["dag_run_id"], "aggregate_rides")
    assert f"hour {expected:%Y-%m-%d %H:%M}-" in log_text
    assert "the run has no logical date: the last hour settled when it was triggered" in log_text
    [(status, hour_start, *_)] = _log_rows(sample_day, run["dag_run_id"])
    assert (status, hour_start.replace(tzinfo=UTC)) == ("success", expected)


def test_a_trigger_of_an_hour_that_has_not_settled_is_refused_or_waits_for_it(airflow_stack, sample_day):
    # The UI's Trigger dialog with the hour under way as its logical date: the api-server asks the
    # timetable, which refuses before a run exists (HTTP 400 with the reason), so no run holds the
    # hour's logical date and the scheduler will create the hour's run once it has settled.
    stack = airflow_stack
    current = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)  # settles >= 5 min from now
    refused = stack.request(
        "POST", f"/api/v2/dags/{stack.dag_id}/dagRuns", expect=(400,), json={"logical_date": current.isoformat()}
    )
    settles = current + timedelta(hours=1) + SETTLE
    assert f"has not settled yet: its snapshots may still be arriving until {settles:%Y-%m-%d %H:%M:%S} UTC" in (
        refused.json()["detail"]
    )
    assert "No run was created" in refused.json()["detail"]
    assert stack.list_runs(logical_date_gte=current.isoformat(), logical_date_lte=current.isoformat()) == []
    # `airflow dags trigger -l` is not asked about the logical date (Airflow asks the timetable about
    # the time of the call), so that run is created and holds the hour's logical date: its tasks
    # wait for the hour to settle (rescheduled, no try used) instead of failing the hour.
    stack.cli("dags", "trigger", stack.dag_id, "-l", current.isoformat())
    [run] = stack.list_runs(logical_date_gte=current.isoformat(), logical_date_lte=current.isoformat())
    assert run["run_type"] == "manual"
    rides = stack.poll(
        lambda: (ti := stack.task_instances(run["dag_run_id"])) and next(
            (t for t in ti if t["task_id"] == "aggregate_rides" and t["state"] == "up_for_reschedule"), None
        ),
        timeout=180,
        what="aggregate_rides to wait for the hour to settle",
    )
    assert rides["try_number"] == 1
    assert stack.get_run(run["dag_run_id"])["state"] == "running"
    log_text = stack.task_log(run["dag_run_id"], "aggregate_rides")
    assert "this task waits until then" in log_text and f"until {settles:%Y-%m-%d %H:%M:%S} UTC" in log_text
    assert _log_rows(sample_day, run["dag_run_id"]) == []  # nothing failed, nothing logged yet
