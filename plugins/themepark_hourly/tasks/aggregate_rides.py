"""Task aggregate_rides: the run's hour into ride_hourly_stats (aggregation.py does the work)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from themepark_hourly import aggregation, db
from themepark_hourly.tasks import params, run_hour
from themepark_hourly.tasks.failures import reports_errors

log = logging.getLogger("themepark_hourly")


@reports_errors("aggregate_rides")
def aggregate_rides(context: Mapping[str, Any]) -> dict[str, Any]:
    """Replace the hour's ride rows; return what was read and written."""
    resolved = run_hour.settled_hour(context)
    minutes = params.snapshot_interval_minutes(context)
    log.info("aggregate_rides: hour %s (%s); collector cadence %d min", resolved.hour, resolved.reason, minutes)
    with db.connection() as conn:
        result = aggregation.aggregate_rides(conn, resolved.hour, minutes)
    if not result.snapshots_read:
        # Else the run ends "success (rides 0, parks 0)" and a mistyped hour or a stopped
        # collector looks like a quiet hour.
        log.warning(
            "aggregate_rides: hour %s has no ride snapshots: nothing to aggregate (collector off or silent?)",
            resolved.hour,
        )
    log.info(
        "aggregate_rides: hour %s: read %d ride snapshots, wrote %d ride_hourly_stats rows "
        "(%d rides operated, %d down snapshots counted), removed %d stale rows",
        resolved.hour,
        result.snapshots_read,
        result.rides_written,
        result.rides_operated,
        result.down_snapshots,
        result.rides_removed,
    )
    return {"hour_start": resolved.hour.start.isoformat(), **result.as_dict()}
