"""A DAG run's outcome in one line, from its aggregation_log row: what `make demo` and
`make dags-test` end with instead of Airflow's log.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any


def verbose() -> bool:
    """VERBOSE=1 asks for Airflow's own log; DEMO_VERBOSE=1 is its older name for the demo."""
    return any(os.environ.get(name, "") not in ("", "0") for name in ("VERBOSE", "DEMO_VERBOSE"))


@dataclass(frozen=True)
class LogRow:
    log_id: int
    run_id: str
    hour_start: datetime
    hour_end: datetime
    status: str
    rides: int | None
    parks: int | None
    error: str | None


def log_rows(conn: Any, run_ids: Iterable[str]) -> dict[str, LogRow]:
    """The aggregation_log rows of these Airflow runs, by run id (a run has at most one)."""
    from themepark_hourly import db
    from themepark_hourly.sql_files import named_statements

    ids = tuple(run_ids)
    if not ids:
        return {}
    rows = db.query_all(conn, named_statements("demo_report.sql")["log_rows"], {"run_ids": ids})
    return {row[1]: LogRow(*row) for row in rows}


def hour_label(start: datetime, end: datetime) -> str:
    return f"{start:%Y-%m-%d %H:%M}-{end:%H:%M} UTC"


def describe(start: datetime, end: datetime, run_state: str, row: LogRow | None) -> str:
    """E.g. '2025-07-04 20:00-21:00 UTC: success, 75 rides, 5 parks, aggregation_log row 7'."""
    hour = hour_label(start, end)
    if row is None:
        # The log task writes the row; without it, either no task ran (an hour before the DAG's
        # start date runs nothing) or the run failed before or in that task.
        return f"{hour}: run {run_state}, no aggregation_log row (no task ran, or the log task did not)"
    if row.status == "success":
        return f"{hour}: success, {row.rides} rides, {row.parks} parks, aggregation_log row {row.log_id}"
    error = (row.error or "").strip().splitlines()
    return f"{hour}: {row.status}, aggregation_log row {row.log_id}" + (f": {error[0]}" if error else "")
