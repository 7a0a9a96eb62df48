"""What every task of the DAG imports and parses, done once in the long-lived Airflow process.

Under the LocalExecutor (and Celery's prefork pool) each task process is forked from a process that
started with the scheduler (the worker): whatever that process has imported and parsed, the task
inherits for free. Without this, each of an hour's four task processes imports the package, the
MySQL provider and Airflow's task decorators, and splits the SQL files with sqlparse: measured
under a backfill, about two thirds of a task process's CPU (docs/PERFORMANCE.md). The plugin calls
``warm()`` when Airflow loads it; that happens before the workers are forked only with
``[core] lazy_load_plugins = False`` (AIRFLOW__CORE__LAZY_LOAD_PLUGINS), which the deployment
files set. With the default lazy loading nothing changes but the speed.
"""

from __future__ import annotations

import importlib
import logging

log = logging.getLogger(__name__)


def warm() -> None:
    """Import the tasks' modules and parse the SQL files the tasks run (cached per file version)."""
    try:
        # The DAG file's decorators, and what the task bodies import.
        import airflow.providers.common.sql.operators.sql  # noqa: F401 - the checks' operators
        import airflow.providers.mysql.hooks.mysql  # noqa: F401 - every connection
        import airflow.sdk.definitions.decorators  # noqa: F401 - @task, @task.branch

        from themepark_hourly import aggregation, checks, late_data, run_log
        from themepark_hourly.sql_files import named_statements

        # Each task's body, as the DAG file imports it (tasks/<task id>.py), and what they share.
        for task_id in ("migrate", "aggregate_rides", "aggregate_parks", "late_data", "log"):
            importlib.import_module(f"themepark_hourly.tasks.{task_id}")

        for path in (
            aggregation.RIDE_SQL,
            aggregation.PARK_SQL,
            aggregation.PARK_SNAPSHOTS_SQL,
            checks.CHECKS_SQL,
            late_data.LATE_SQL,
            run_log.LOG_SQL,
        ):
            named_statements(path)
    except Exception as exc:  # noqa: BLE001 - a warm-up must never stop an Airflow process
        log.warning("themepark_hourly: preloading the tasks' modules failed (%s); tasks load them", exc)
