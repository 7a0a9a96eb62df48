"""Task log: the run's row in aggregation_log, the run's final state, and its asset events.

It runs whatever the other tasks did (trigger rule all_done) and judges the run by their states
and XCom (outcome.py).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from themepark_hourly import db, hours, run_log
from themepark_hourly.tasks import assets, outcome, run_hour

log = logging.getLogger("themepark_hourly")


def write_run_log(context: Mapping[str, Any]) -> dict[str, Any]:
    """Record the run; fail it if an aggregation task failed, else announce the hours it wrote."""
    dag_run = context["dag_run"]
    found = outcome.collect(context)
    states, results, errors = found.states, found.results, found.errors

    try:
        resolved = run_hour.resolve_hour(context)
        hour_start, hour_end = resolved.hour.start, resolved.hour.end
    except hours.IntervalError:
        hour_start, hour_end = None, None
    day_source = hour_start or context.get("logical_date") or dag_run.run_after
    rides = results["aggregate_rides"] or {}
    parks = results["aggregate_parks"] or {}
    status = "failed" if errors else "success"
    entry = run_log.RunLogEntry(
        dag_id=dag_run.dag_id,
        run_id=dag_run.run_id,
        aggregation_date=day_source.astimezone(UTC).date(),
        hour_start=hour_start,
        hour_end=hour_end,
        started_at=outcome.run_started_at(results["migrate"], dag_run),
        completed_at=datetime.now(UTC),
        status=status,
        error_message="; ".join(errors) or None,
        # Rows a successful task committed, even when a later task failed (a failed check keeps them).
        parks_processed=int(parks.get("parks_written", 0)),
        rides_processed=int(rides.get("rides_written", 0)),
        failed_task=found.failed_step(),
    )
    with db.connection() as conn:
        run_log.write(conn, entry)
    log.info(
        "log: run %s, hour %s to %s: %s (rides %d, parks %d)%s",
        dag_run.run_id,
        hour_start,
        hour_end,
        status,
        entry.rides_processed,
        entry.parks_processed,
        f"; {entry.error_message}" if errors else "",
    )
    if errors:
        # The log row is written; now make the run itself end failed, or a green `log` task would
        # turn a failed aggregation into a successful run (alerts, reprocess=failed backfills).
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(f"aggregation failed for this run: {entry.error_message}")
    late = results.get("late_data") or {}
    rewritten = [resolved.hour] + [hours.Hour.parse(h) for h in late.get("hours", [])]
    assets.announce(context, rewritten)
    return {"status": status, "task_states": states, "hours_announced": [str(h) for h in rewritten]}
