"""The hour's checks: the common-sql provider's check operators run on the hour just written.

Value bounds are SQLColumnCheckOperator min/max checks; consistency and a silent collector are
SQLTableCheckOperator expressions from sql/checks/hourly_checks.sql. They run one after the other
inside the aggregate_parks task once its rows are committed (no task start of their own, and
every failure reported together), through the DAG's connection with a UTC session. A failed check fails the task at once (the rows follow
the rules and stay; the check is an alarm, retrying cannot change its answer) and names each
failed check with its values.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from themepark_hourly.hours import Hour
from themepark_hourly.sql_files import named_statements

log = logging.getLogger(__name__)

CHECKS_SQL = "checks/hourly_checks.sql"
# Sessions of the checks compare TIMESTAMPs in UTC, like every session of the package.
UTC_SESSION = {"init_command": "SET time_zone = '+00:00'"}

RIDE_VALUES = {
    "downtime_hours": {"min": {"geq_to": 0}, "max": {"leq_to": 1}},
    "uptime_percentage": {"min": {"geq_to": 0}, "max": {"leq_to": 100}},
    "down_snapshots": {"min": {"geq_to": 0}},
}
PARK_VALUES = {
    "shame_score": {"min": {"geq_to": 0}, "max": {"leq_to": 10}},
    "total_downtime_hours": {"min": {"geq_to": 0}},
    "weighted_downtime_hours": {"min": {"geq_to": 0}},
}
# Table, the column that puts a row in the hour, and the expressions of CHECKS_SQL on it.
TABLE_CHECKS = (
    ("ride_hourly_stats", "hour_start_utc", ("ride_snapshots_add_up", "ride_rows_have_rides_and_parks")),
    ("park_hourly_stats", "hour_start_utc", ("park_downtime_is_its_rides_downtime",)),
    ("ride_status_snapshots", "recorded_at", ("collector_not_silent",)),
)


class ChecksFailed(RuntimeError):
    """The hour's rows break an invariant; the message names each check and its values."""


@dataclass(frozen=True)
class CheckReport:
    passed: list[str]
    failed: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {"checks_passed": len(self.passed), "checks_failed": self.failed}


def _expression(text: str, hour: Hour) -> str:
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("--")]
    sql = "\n".join(lines).strip().rstrip(";")
    for name, value in hour.db_params().items():
        sql = sql.replace(f"{{{{ {name} }}}}", value)  # the hour: values made by this package
    return sql


def operators(hour: Hour, conn_id: str) -> list[Any]:
    """The provider's check operators for ``hour``: two column checks, then the table checks."""
    from airflow.providers.common.sql.operators.sql import SQLColumnCheckOperator, SQLTableCheckOperator

    common: dict[str, Any] = {"conn_id": conn_id, "hook_params": dict(UTC_SESSION), "retry_on_failure": False}
    sections = named_statements(CHECKS_SQL)
    found: list[Any] = [
        SQLColumnCheckOperator(
            task_id=f"values_of_{table}",
            table=table,
            column_mapping=mapping,
            partition_clause=_expression(sections["in_hour_by_hour_start_utc"], hour),
            **common,
        )
        for table, mapping in (("ride_hourly_stats", RIDE_VALUES), ("park_hourly_stats", PARK_VALUES))
    ]
    for table, column, names in TABLE_CHECKS:
        found.append(
            SQLTableCheckOperator(
                task_id=f"consistency_of_{table}",
                table=table,
                checks={name: {"check_statement": _expression(sections[name], hour)} for name in names},
                partition_clause=_expression(sections[f"in_hour_by_{column}"], hour),
                **common,
            )
        )
    return found


def _failures(op: Any, hour: Hour, hook: Any) -> list[str]:
    failed = [r for r in getattr(op, "check_results", []) if not r.success]
    sections = named_statements(CHECKS_SQL)
    described = []
    for r in failed:
        explain = sections.get(f"values_of_{r.name}")
        if explain is None:  # a column check: the value is the result
            described.append(f"{r.table}.{r.name} = {r.actual} (expected {r.expected})")
        else:
            [(values,)] = hook.get_records(_expression(explain, hour))
            described.append(f"{r.table}: {r.name} is false: {values}")
    return described


def run(hour: Hour, conn_id: str, context: Any) -> CheckReport:
    """Run every check on ``hour``; raise ChecksFailed naming all that failed."""
    from airflow.sdk.bases.operator import ExecutorSafeguard

    passed: list[str] = []
    failed: list[str] = []
    for op in operators(hour, conn_id):
        try:
            # The sentinel Airflow's task runner passes: a check run inside this task on purpose,
            # not an operator called by mistake (else each logs "cannot be called outside of the
            # Task Runner"). If Airflow renamed it, execute() would refuse the argument and the
            # check tests fail.
            op.execute(context, **{f"{type(op).__name__}__sentinel": ExecutorSafeguard.sentinel_value})
        except Exception:
            if not any(not r.success for r in getattr(op, "check_results", [])):
                raise  # not a check that failed (a lost connection...): the task's retries apply
            failed.extend(_failures(op, hour, op.get_db_hook()))
        else:
            passed.append(op.task_id)
    if failed:
        raise ChecksFailed(f"hour {hour}: {len(failed)} check(s) failed (the rows stay): " + "; ".join(failed))
    log.info("check: hour %s: all %d check groups passed", hour, len(passed))
    return CheckReport(passed, failed)
