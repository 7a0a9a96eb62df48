"""The aggregation_log row of one DAG run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from themepark_hourly import db
from themepark_hourly.sql_files import named_statements

LOG_SQL = "aggregation/aggregation_log.sql"
MAX_ERROR_CHARS = 4000


@dataclass(frozen=True)
class RunLogEntry:
    dag_id: str
    run_id: str
    aggregation_date: date
    hour_start: datetime | None
    hour_end: datetime | None
    started_at: datetime | None
    completed_at: datetime
    status: str  # 'success' or 'failed'
    error_message: str | None
    parks_processed: int
    rides_processed: int
    failed_task: str | None = None  # the first task of the run that did not succeed
    reason: str = "run"  # 'run': the run's own hour; 'late_data': an earlier hour redone for late snapshots
    triggered_by_run_id: str | None = None
    late_snapshots: int | None = None


def _db_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S")


def write(conn: Any, entry: RunLogEntry) -> None:
    """Insert the run's row, or update it when the same Airflow run is cleared and re-run."""
    if entry.status not in ("success", "failed"):
        raise ValueError(f"aggregation_log status {entry.status!r} is not 'success' or 'failed'")
    failed = entry.status == "failed"
    error = entry.error_message
    if error and len(error) > MAX_ERROR_CHARS:
        error = error[: MAX_ERROR_CHARS - 20] + " ... (truncated)"
    params = {
        "aggregation_date": entry.aggregation_date.isoformat(),
        "hour_start": _db_time(entry.hour_start),
        "hour_end": _db_time(entry.hour_end),
        "started_at": _db_time(entry.started_at),
        "completed_at": _db_time(entry.completed_at),
        "status": entry.status,
        "error_message": error,
        "parks_processed": entry.parks_processed,
        "rides_processed": entry.rides_processed,
        "dag_id": entry.dag_id,
        "run_id": entry.run_id,
        "failed": int(failed),
        "failed_task": entry.failed_task if failed else None,
        "failed_at": _db_time(entry.completed_at) if failed else None,
        "reason": entry.reason,
        "triggered_by_run_id": entry.triggered_by_run_id,
        "late_snapshots": entry.late_snapshots,
    }
    sql = named_statements(LOG_SQL)["upsert_run"]
    with db.transaction(conn) as cur:
        cur.execute(sql, params)
