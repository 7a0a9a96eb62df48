"""Smoke test of the end-to-end harness: real Airflow components, one backfilled hour, its log row."""

from __future__ import annotations

import time
from datetime import date

from themepark_devtools import sample_data

HOUR = "2025-07-04T14:00:00Z"


def test_stack_runs_a_backfilled_hour(airflow_stack, e2e_database):
    stack = airflow_stack
    t0 = time.monotonic()
    with e2e_database.connect() as conn:
        counts = sample_data.write(conn, sample_data.Sample(sample_data.SampleSpec(first_day=date(2025, 7, 4))))
    assert counts["ride_snapshots"] > 0

    health = stack.health()
    assert {
        k: health[k]["status"] for k in ("metadatabase", "scheduler", "dag_processor", "triggerer")
    } == dict.fromkeys(("metadatabase", "scheduler", "dag_processor", "triggerer"), "healthy")
    dag = stack.wait_for_dag()
    assert dag["dag_id"] == "themepark_hourly_aggregation"
    assert stack.import_errors() == []

    # Queued runs of a paused DAG never start, backfill runs included (DagRun.get_queued_dag_runs_to_set_running).
    assert stack.unpause()["is_paused"] is False
    posted = time.monotonic()
    backfill = stack.create_backfill(HOUR, HOUR, reprocess_behavior="none")
    (run,) = stack.wait_for_backfill_runs(backfill["id"], count=1, timeout=240)
    run_seconds = time.monotonic() - posted
    assert stack.wait_for_backfill(backfill["id"], timeout=120)["completed_at"]
    backfill_seconds = time.monotonic() - posted

    assert run["state"] == "success", stack.logs_tail()
    assert run["data_interval_start"] == "2025-07-04T14:00:00Z"
    assert run["data_interval_end"] == "2025-07-04T15:00:00Z"
    assert stack.task_states(run["dag_run_id"]) == dict.fromkeys(
        ("migrate", "aggregate_rides", "aggregate_parks", "check", "late_data", "log"), "success"
    )
    log_text = stack.task_log(run["dag_run_id"], "log")
    assert "success" in log_text and run["dag_run_id"] in log_text

    rows = e2e_database.query(
        "SELECT status, aggregated_from_ts, aggregated_until_ts, rides_processed, parks_processed "
        "FROM aggregation_log WHERE dag_id = %s AND run_id = %s",
        ("themepark_hourly_aggregation", run["dag_run_id"]),
    )
    assert len(rows) == 1
    status, from_ts, until_ts, rides, parks = rows[0]
    assert (status, str(from_ts), str(until_ts)) == ("success", "2025-07-04 14:00:00", "2025-07-04 15:00:00")
    assert rides > 0 and parks > 0

    memory = stack.memory_rss()
    pss = stack.memory_rss(pss=True)
    print(
        f"\nE2E figures: start-up to healthy {stack.timings['startup']:.1f} s "
        f"(postgres {stack.timings['postgres']:.1f} s, db migrate {stack.timings['db_migrate']:.1f} s); "
        f"backfill POST to run done {run_seconds:.1f} s, to backfill completed {backfill_seconds:.1f} s "
        f"(run duration {run['duration']:.1f} s); "
        f"test body {time.monotonic() - t0:.1f} s; "
        f"RSS {sum(memory.values()) / 2**20:.0f} MiB { ({k: v // 2**20 for k, v in memory.items()}) }; "
        f"PSS {sum(pss.values()) / 2**20:.0f} MiB"
    )


def test_scheduler_stops_and_starts_alone(airflow_stack):
    stack = airflow_stack
    stack.stop_scheduler()
    assert "scheduler" not in stack.running()
    assert all(stack.running().values())  # api-server, dag-processor, triggerer still up
    stack.start_scheduler()  # waits for a heartbeat of the new scheduler
    assert stack.running()["scheduler"]

    backfill = stack.create_backfill("2025-07-04T15:00:00Z", "2025-07-04T15:00:00Z")
    stack.wait_for_backfill(backfill["id"], timeout=240)
    (run,) = stack.backfill_runs(backfill["id"])
    assert run["state"] == "success", stack.logs_tail()
