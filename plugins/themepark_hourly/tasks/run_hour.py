"""Which hour a run aggregates (hours.py has the rule), and waiting for it to settle."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from themepark_hourly import config, hours

log = logging.getLogger("themepark_hourly")

# A run of the hour under way or the next one waits for it to settle (the task is rescheduled,
# no try used): the settle time is then at most this plus the settle delay ahead. An hour further
# ahead is refused: a mistyped date, not a run started a little early.
WAIT_FOR_SETTLE_AT_MOST = timedelta(hours=2)


def now() -> datetime:
    return datetime.now(UTC)


def resolve_hour(context: Mapping[str, Any]) -> hours.ResolvedHour:
    """The run's hour from its logical date and data interval, settled or not."""
    dag_run = context.get("dag_run")
    return hours.resolve(
        context.get("logical_date"),
        getattr(dag_run, "run_after", None),
        config.settle(),
        context.get("data_interval_start"),
        context.get("data_interval_end"),
    )


def settled_hour(context: Mapping[str, Any]) -> hours.ResolvedHour:
    """The run's hour once its data has settled.

    The timetable refuses a UI/REST trigger or `airflow dags test` of an unsettled hour before a
    run exists. Runs it is not asked about (`airflow dags trigger -l`, which Airflow asks about the
    time of the call instead; a REST trigger with its own data interval) get here early: a failed
    run would hold the hour's logical date and the scheduler would never create the hour's run, so
    the task waits (rescheduled at the settle time, no try used) and the run does the hour. An
    hour settling more than WAIT_FOR_SETTLE_AT_MOST plus the settle delay ahead is refused.
    """
    resolved = resolve_hour(context)
    settle = config.settle()
    current = now()
    ready = resolved.hour.settled_at(settle)
    if current < ready <= current + WAIT_FOR_SETTLE_AT_MOST + settle:
        from airflow.sdk.exceptions import AirflowRescheduleException

        log.info("%s; this task waits until then (rescheduled, no try used)", hours.not_settled(resolved.hour, settle))
        raise AirflowRescheduleException(reschedule_date=ready)
    hours.check_settled(resolved.hour, settle, current)
    return resolved
