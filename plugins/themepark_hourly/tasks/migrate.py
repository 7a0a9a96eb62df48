"""Task migrate: apply pending migrations, and choose the tasks that follow (a branch)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from themepark_hourly import config, db, late_data, migrations
from themepark_hourly.tasks import params, xcom
from themepark_hourly.tasks.failures import reports_errors

log = logging.getLogger("themepark_hourly")


@reports_errors("migrate")
def migrate(context: Mapping[str, Any]) -> list[str]:
    """Apply pending migrations; return the tasks to run next (Airflow's branch choice).

    late_data follows only for runs that search for late data: for the others (backfills, manual
    runs) the scheduler marks it skipped and starts no process for it.
    """
    started = datetime.now(UTC)
    searches = params.searches_late_data(context)
    with db.connection(config.migrate_conn_id()) as conn:
        result = migrations.migrate(conn)
        # Before this run's aggregation reads anything: the late-data search reads up to here.
        # Only runs that search need it; the others keep migrate to its one query.
        newest: dict[str, int] | None = None
        if searches:
            try:
                newest = late_data.newest_ids(conn)
            except Exception as exc:  # noqa: BLE001 - the aggregation tasks report a missing table by name
                log.warning("migrate: could not read the newest snapshot ids (%s); late_data will read its own", exc)
    log.info("migrate: %s", result.summary())
    # The run's first task records when the run's work started, for aggregation_log.started_at:
    # dag_run.start_date is the logical date under `airflow dags test`, and survives clearing.
    context["ti"].xcom_push(
        key=xcom.MIGRATED,
        value={
            "applied": result.applied,
            "version": result.current_version,
            "started_at": started.isoformat(),
            "newest_snapshot_ids": newest,
        },
    )
    return ["aggregate_rides", "late_data"] if searches else ["aggregate_rides"]
