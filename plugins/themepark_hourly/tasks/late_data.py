"""Task late_data: aggregate again the earlier hours that late snapshots change.

Finding them and moving the search's marks is themepark_hourly.late_data; this module runs the
search for the run and redoes each hour found, with its own checks and aggregation_log row.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from themepark_hourly import aggregation, checks, config, db, hours, late_data, run_log
from themepark_hourly.tasks import params, run_hour, xcom
from themepark_hourly.tasks.failures import reports_errors

log = logging.getLogger("themepark_hourly")


@reports_errors("late_data")
def reaggregate_late_data(context: Mapping[str, Any]) -> dict[str, Any]:
    """Aggregate again the earlier hours that snapshots written since the last search change."""
    if not params.searches_late_data(context):
        log.info("late_data: not a scheduled run and param reaggregate_late_data is off: no search")
        return {"searched": False, "hours": [], "late_snapshots": 0}
    resolved = run_hour.settled_hour(context)
    minutes = params.snapshot_interval_minutes(context)
    window = config.late_data_window()
    run_id = context["dag_run"].run_id
    migrated = context["ti"].xcom_pull(task_ids="migrate", key=xcom.MIGRATED) or {}
    redone: list[str] = []
    failed: list[str] = []
    with db.connection() as conn:
        found = late_data.find(conn, resolved.hour, window, migrated.get("newest_snapshot_ids"))
        if found.first_search:
            log.info("late_data: first search: snapshots up to ids %s count as seen", found.newest)
        elif found.outside_window:
            log.warning(
                "late_data: %d late snapshots lie more than %s before hour %s and were not re-aggregated "
                "(THEMEPARK_LATE_DATA_WINDOW_HOURS); backfill their hours with reprocess 'completed'",
                found.outside_window,
                window,
                resolved.hour,
            )
        if found.hours:
            log.info(
                "late_data: %d late snapshots (ids above %s) change %d earlier hours: %s",
                found.late_snapshots,
                found.marks,
                len(found.hours),
                ", ".join(str(h) for h in found.hours),
            )
        for hour in found.hours:
            try:
                _redo_hour(conn, hour, minutes, run_id, found.snapshots_by_hour.get(hour.start, 0), context)
            except aggregation.RefusedHour as exc:
                # Bad input in an old hour: its failed log row says why; running it again cannot
                # help until the data is fixed (then a backfill), so it must not fail every run.
                log.error("late_data: hour %s refused, its previous rows are kept: %s", hour, exc)
                failed.append(hour.start.isoformat())
                continue
            redone.append(hour.start.isoformat())
        late_data.advance_marks(conn, found)
    return {
        "searched": True,
        "hours": redone,
        "refused_hours": failed,
        "late_snapshots": found.late_snapshots,
        "outside_window": found.outside_window,
    }


def _redo_hour(
    conn: Any, hour: hours.Hour, minutes: int, run_id: str, late_snapshots: int, context: Mapping[str, Any]
) -> None:
    started = datetime.now(UTC)
    entry = functools.partial(
        run_log.RunLogEntry,
        dag_id=config.DAG_ID,
        run_id=f"{run_id} late {hour.start:%Y-%m-%dT%H:%M}",
        aggregation_date=hour.start.date(),
        hour_start=hour.start,
        hour_end=hour.end,
        started_at=started,
        reason="late_data",
        triggered_by_run_id=run_id,
        late_snapshots=late_snapshots,
    )
    try:
        rides = aggregation.aggregate_rides(conn, hour, minutes)
        parks = aggregation.aggregate_parks(conn, hour)
    except Exception as exc:
        run_log.write(
            conn,
            entry(
                completed_at=datetime.now(UTC),
                status="failed",
                error_message=f"late_data failed: {exc}",
                parks_processed=0,
                rides_processed=0,
                failed_task="late_data",
            ),
        )
        raise
    # The redone hour gets the same checks as a run's own hour; a failed check keeps the rows
    # (as for the own hour) and is recorded in that hour's log row.
    try:
        checks.run(hour, config.conn_id(), context)
        status, error = "success", None
    except checks.ChecksFailed as exc:
        log.error("late_data: %s", exc)
        status, error = "failed", f"check failed: ChecksFailed: {exc}"
    run_log.write(
        conn,
        entry(
            completed_at=datetime.now(UTC),
            status=status,
            error_message=error,
            parks_processed=parks.parks_written,
            rides_processed=rides.rides_written,
            failed_task="check" if error else None,
        ),
    )
    log.info(
        "late_data: hour %s aggregated again (%d late snapshots): %d ride rows, %d park rows",
        hour,
        late_snapshots,
        rides.rides_written,
        parks.parks_written,
    )
