"""A tracker database with one hour of each coverage state, written by the package's own writers.

Used by the coverage view's tests (tests/integration/test_coverage.py, tests/e2e/test_coverage_view.py).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from themepark_devtools import sample_data
from themepark_hourly import aggregation, config, run_log
from themepark_hourly.hours import Hour

DAY = date(2025, 7, 4)


def hour_of(text: str) -> datetime:
    return datetime.fromisoformat(text)


def log_run(conn, hour: str, status: str, *, run_id: str, failed_task: str | None = None, reason: str = "run",
         late: int | None = None, completed: str | None = None, rides: int = 0, parks: int = 0) -> None:  # fmt: skip
    start = hour_of(hour)
    run_log.write(
        conn,
        run_log.RunLogEntry(
            dag_id=config.DAG_ID,
            run_id=run_id,
            aggregation_date=start.date(),
            hour_start=start,
            hour_end=start + timedelta(hours=1),
            started_at=start + timedelta(hours=1, minutes=5),
            completed_at=hour_of(completed) if completed else start + timedelta(hours=1, minutes=6),
            status=status,
            error_message=None if status == "success" else f"{failed_task} failed: Deadlock found (1213)",
            parks_processed=parks,
            rides_processed=rides,
            failed_task=failed_task,
            reason=reason,
            triggered_by_run_id="scheduled__2025-07-04T20:00:00+00:00" if reason == "late_data" else None,
            late_snapshots=late,
        ),
    )


def aggregate(conn, hour: str) -> tuple[int, int]:
    h = Hour.parse(hour)
    rides = aggregation.aggregate_rides(conn, h, 10)
    return rides.rides_written, aggregation.aggregate_parks(conn, h).parks_written


def seed(conn: Any) -> None:
    """The sample day with one hour of each state (UTC): ok 14:00, late 15:00, failed 16:00, checks
    failed 17:00, gap 18:00 (never run); 19:00 is under way when Airflow has a run of it queued or
    running, and 20:00 has not settled while the clock is before 21:05 that day."""
    sample_data.write(conn, sample_data.Sample(sample_data.SampleSpec(first_day=DAY)))
    conn.commit()
    rides, parks = aggregate(conn, "2025-07-04T14:00:00+00:00")
    log_run(
        conn, "2025-07-04 14:00:00", "success", run_id="scheduled__2025-07-04T14:00:00+00:00", rides=rides, parks=parks
    )
    aggregate(conn, "2025-07-04T15:00:00+00:00")
    log_run(conn, "2025-07-04 15:00:00", "success", run_id="scheduled__2025-07-04T15:00:00+00:00")
    log_run(conn, "2025-07-04 15:00:00", "success", run_id="scheduled__2025-07-04T20:00:00+00:00 late 2025-07-04T15:00",
         reason="late_data", late=7, completed="2025-07-04 21:06:00")  # fmt: skip
    log_run(
        conn,
        "2025-07-04 16:00:00",
        "failed",
        run_id="scheduled__2025-07-04T16:00:00+00:00",
        failed_task="aggregate_rides",
    )
    aggregate(conn, "2025-07-04T17:00:00+00:00")
    log_run(conn, "2025-07-04 17:00:00", "failed", run_id="scheduled__2025-07-04T17:00:00+00:00", failed_task="check")
