"""Task aggregate_parks: the run's hour into park_hourly_stats, then the hour's checks (checks.py).

The checks run inside this task (one task start less per hour). A failed check fails the task at
once and keeps the rows; `log` still counts them and names the step "check".
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from themepark_hourly import aggregation, checks, config, db
from themepark_hourly.tasks import run_hour, xcom
from themepark_hourly.tasks.failures import reports_errors

log = logging.getLogger("themepark_hourly")


@reports_errors("aggregate_parks")
def aggregate_parks(context: Mapping[str, Any]) -> dict[str, Any]:
    """Write the hour's park rows, then check the hour's ride and park rows."""
    resolved = run_hour.settled_hour(context)
    log.info("aggregate_parks: hour %s (%s)", resolved.hour, resolved.reason)
    with db.connection() as conn:
        result = aggregation.aggregate_parks(conn, resolved.hour)
    log.info(
        "aggregate_parks: hour %s: read %d park snapshots, wrote %d park_hourly_stats rows, removed %d stale rows",
        resolved.hour,
        result.snapshots_read,
        result.parks_written,
        result.parks_removed,
    )
    if result.parks_without_snapshots:
        log.warning(
            "aggregate_parks: hour %s: parks %s have ride snapshots but no park snapshot in the "
            "hour, so no park_hourly_stats row (their rides' polls take the nearest park snapshot "
            "within 90 s, possibly in the next or previous hour, else count as in a closed park)",
            resolved.hour,
            result.parks_without_snapshots,
        )
    written = {"hour_start": resolved.hour.start.isoformat(), **result.as_dict()}
    try:
        report = checks.run(resolved.hour, config.conn_id(), context)
    except Exception:
        # The rows are committed and stay: the log row still counts them, and names the step.
        try:
            context["ti"].xcom_push(key=xcom.COMMITTED, value=written)
            context["ti"].xcom_push(key=xcom.FAILED_STEP, value="check")
        except Exception:  # noqa: BLE001 - the check's own error matters more
            log.warning("aggregate_parks: could not record the committed rows of hour %s in XCom", resolved.hour)
        raise
    return {**written, **report.as_dict()}
