"""Settings read from the environment, so that deployments change them without editing code.

Importing this module is cheap and touches neither the network nor a database: the DAG file
imports it at parse time.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

DAG_ID = "themepark_hourly_aggregation"
#: The Airflow asset each successful run updates, one event per hour written (partition key: the
#: hour's UTC start, ``2025-07-04T15:00:00``): a daily or dashboard DAG can be scheduled on it.
HOURLY_STATS_ASSET = "themepark_hourly_stats"

#: The DAG's start date. Airflow creates no task instance for a manual or `airflow dags test` run
#: whose logical date is before it, so it lies before any tracker data; the scheduler does not
#: start there (see timetable.py and first_hour()).
DAG_START_DATE = datetime(2000, 1, 1, tzinfo=UTC)
#: Minutes after an hour's end before its run is created: covers the 90 s park window after the
#: hour and the collector's write lag.
DEFAULT_SETTLE_MINUTES = 5
DEFAULT_SNAPSHOT_INTERVAL_MINUTES = 10
#: Where the api-server mounts the coverage view's app (docs/COVERAGE.md).
COVERAGE_URL_PREFIX = "/themepark-coverage"


class ConfigError(ValueError):
    """A setting has a value the package cannot use."""


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def conn_id() -> str:
    """Airflow connection id of the tracker database (AIRFLOW_CONN_<ID> in the environment)."""
    return _env("THEMEPARK_CONN_ID", "themepark_db")


def migrate_conn_id() -> str:
    """Connection used by the migrate task: one allowed to run DDL (THEMEPARK_MIGRATE_CONN_ID).

    Defaults to the aggregation connection; set it to keep DDL rights away from the user that
    aggregates (see scripts/create-db-users.sh).
    """
    return _env("THEMEPARK_MIGRATE_CONN_ID", conn_id())


def snapshot_interval_minutes() -> int:
    """Collector cadence in minutes: each down snapshot stands for this much downtime."""
    return _int_env("THEMEPARK_SNAPSHOT_INTERVAL_MINUTES", DEFAULT_SNAPSHOT_INTERVAL_MINUTES, 1, 60)


def check_snapshot_interval(value: int) -> None:
    if not 1 <= value <= 60:
        raise ConfigError(f"snapshot interval {value} min is outside 1..60 minutes")


def first_hour() -> datetime | None:
    """Hour a new deployment's scheduler starts from (THEMEPARK_START_DATE; unset: the latest settled hour).

    ISO 8601, UTC when no offset is given, rounded up to the hour. The scheduler catches up every
    hour from it on its first run, then goes on from its last run; backfills are not limited by it.
    """
    raw = os.environ.get("THEMEPARK_START_DATE", "").strip()
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ConfigError(f"THEMEPARK_START_DATE={raw!r} is not an ISO 8601 date or datetime") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def settle() -> timedelta:
    """How long after an hour's end its data counts as complete (THEMEPARK_SETTLE_MINUTES)."""
    return timedelta(minutes=_int_env("THEMEPARK_SETTLE_MINUTES", DEFAULT_SETTLE_MINUTES, 0, 24 * 60))


def late_data_window() -> timedelta:
    """How far back a run looks for late snapshots to re-aggregate (THEMEPARK_LATE_DATA_WINDOW_HOURS)."""
    return timedelta(hours=_int_env("THEMEPARK_LATE_DATA_WINDOW_HOURS", 48, 0, 24 * 31))


def sql_dir() -> Path:
    """Folder holding migrations/ and aggregation/ (THEMEPARK_SQL_DIR, else the repo's sql/)."""
    override = os.environ.get("THEMEPARK_SQL_DIR", "").strip()
    if override:
        return Path(override)
    # plugins/themepark_hourly/config.py -> <repo or AIRFLOW_HOME>/sql
    return Path(__file__).resolve().parents[2] / "sql"


def lock_timeout_seconds() -> int:
    """How long a run waits for a named database lock (migrations, one hour) before failing."""
    return _int_env("THEMEPARK_LOCK_TIMEOUT_SECONDS", 600, 0, 86400)


def _int_env(name: str, default: int, low: int, high: int) -> int:
    raw = _env(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}={value} is outside {low}..{high}")
    return value


def task_retries() -> int:
    return _int_env("THEMEPARK_TASK_RETRIES", 2, 0, 20)


def retry_delay_seconds() -> int:
    return _int_env("THEMEPARK_RETRY_DELAY_SECONDS", 60, 0, 3600)


def max_active_runs() -> int:
    return _int_env("THEMEPARK_MAX_ACTIVE_RUNS", 4, 1, 64)


def conflict_retries() -> int:
    """How often a transaction that hit a deadlock or lock wait timeout is tried again."""
    return _int_env("THEMEPARK_CONFLICT_RETRIES", 3, 0, 10)
