"""The run's outcome for `log`: each aggregation task's state, result, error and failed step."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from themepark_hourly.tasks import params, xcom

log = logging.getLogger("themepark_hourly")

# The tasks whose outcome the `log` task records, in run order. The hour's checks run inside
# aggregate_parks (one task start less per hour); a failed check is logged as step "check".
AGGREGATION_TASKS = ("migrate", "aggregate_rides", "aggregate_parks", "late_data")
# late_data is skipped by migrate's branch when the run does not search for late data (it then
# starts no process): fine in such a run, a failure in one that searches.
SKIPPED_WHEN_NOT_SEARCHING = "late_data"


@dataclass
class Outcome:
    states: dict[str, str]
    results: dict[str, Any]
    errors: list[str]
    # The step that failed, per task whose failure was not the task itself ("check").
    failed_steps: dict[str, str]

    def failed_step(self) -> str | None:
        """The first task that did not end as it should, or the step of it that failed ("check")."""
        for task_id in AGGREGATION_TASKS:
            if task_id in self.failed_steps or self.states.get(task_id) not in ("success", "skipped"):
                return self.failed_steps.get(task_id, task_id)
        return None


def collect(context: Mapping[str, Any]) -> Outcome:
    """States and results of the aggregation tasks in this run, and the errors they recorded."""
    ti = context["ti"]
    dag_run = context["dag_run"]
    states: dict[str, str] = {}
    try:
        found = ti.get_task_states(dag_id=dag_run.dag_id, task_ids=list(AGGREGATION_TASKS), run_ids=[dag_run.run_id])
        states = {k: str(v) for k, v in (found.get(dag_run.run_id) or {}).items()}
    except Exception as exc:  # noqa: BLE001 - fall back to XCom results below
        log.warning("log: could not read task states (%s); judging by task results", exc)
    results: dict[str, Any] = {}
    errors = []
    failed_steps: dict[str, str] = {}
    searching = params.searches_late_data(context)
    for task_id in AGGREGATION_TASKS:
        # Each pull is a round trip to the api-server: none for a task that did not have to run,
        # and migrate's return value is only its branch choice (what it found has its own key).
        if task_id == SKIPPED_WHEN_NOT_SEARCHING and not searching:
            # Skipped by migrate's branch, whatever the states say (or, unread, would have said).
            states[task_id] = "skipped"
            results[task_id] = None
            continue
        if task_id == "migrate":
            results[task_id] = ti.xcom_pull(task_ids=task_id, key=xcom.MIGRATED)
        else:
            results[task_id] = ti.xcom_pull(task_ids=task_id)
        state = states.setdefault(task_id, "success" if results[task_id] is not None else "failed")
        if state == "success":
            continue
        # Rows the task committed before a later step of it failed still count.
        results[task_id] = results[task_id] or ti.xcom_pull(task_ids=task_id, key=xcom.COMMITTED)
        step = ti.xcom_pull(task_ids=task_id, key=xcom.FAILED_STEP) or task_id
        failed_steps[task_id] = step
        error = ti.xcom_pull(task_ids=task_id, key=xcom.ERROR)
        if error:
            errors.append(f"{step} failed: {error}")
        elif state == "upstream_failed":
            errors.append(f"{task_id} did not run (upstream failed)")
        else:
            errors.append(f"{task_id} ended {state}")
    return Outcome(states, results, errors, failed_steps)


def run_started_at(migrated: Mapping[str, Any] | None, dag_run: Any) -> datetime | None:
    """When the run's work started: migrate's record, else the run's start date."""
    if migrated and migrated.get("started_at"):
        return datetime.fromisoformat(migrated["started_at"])
    return getattr(dag_run, "start_date", None)
