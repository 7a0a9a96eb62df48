"""What each task of the DAG does, given Airflow's task context.

Kept out of the DAG file so that the scheduler's frequent parsing imports nothing heavy; this
module is imported inside the tasks. Every task states the hour and its counts in its log.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from themepark_hourly import aggregation, checks, config, db, hours, late_data, migrations, run_log

log = logging.getLogger("themepark_hourly")

# The tasks whose outcome the `log` task records, in run order. The hour's checks run inside
# aggregate_parks (one task start less per hour); a failed check is logged as step "check".
AGGREGATION_TASKS = ("migrate", "aggregate_rides", "aggregate_parks", "late_data")
ERROR_XCOM_KEY = "error"
# Where a task records which step of it failed, when that is not the task itself ("check").
FAILED_STEP_XCOM_KEY = "failed_step"
# What a task wrote before a later step of it failed (aggregate_parks' rows when a check fails).
COMMITTED_XCOM_KEY = "committed"
# migrate's own results (started_at, newest snapshot ids): its return value is the branch choice.
MIGRATED_XCOM_KEY = "migrated"
# late_data is skipped by migrate's branch when the run does not search for late data (it then
# starts no process): fine in such a run, a failure in one that searches.
SKIPPED_WHEN_NOT_SEARCHING = "late_data"
# A run of the hour under way or the next one waits for it to settle (the task is rescheduled,
# no try used): the settle time is then at most this plus the settle delay ahead. An hour further
# ahead is refused: a mistyped date, not a run started a little early.
WAIT_FOR_SETTLE_AT_MOST = timedelta(hours=2)

F = TypeVar("F", bound=Callable[..., Any])


NOT_ALLOWED = {1044, 1045, 1049, 1142, 1143}


def is_permanent(exc: BaseException) -> bool:
    """Whether retrying the task cannot help: the input, the hour or a setting is wrong.

    Connection loss, deadlocks and lock timeouts are transient and keep Airflow's retries.
    """
    permanent = (
        hours.IntervalError,
        hours.HourNotSettled,
        config.ConfigError,
        aggregation.RefusedHour,
        checks.ChecksFailed,
    )
    if isinstance(exc, permanent):
        return True
    # Access denied, unknown database: the deployment's settings, not the moment.
    if db.error_code(exc) in NOT_ALLOWED or db.error_code(exc.__cause__) in NOT_ALLOWED:
        return True
    if isinstance(exc, migrations.MigrationError):
        cause = db.error_code(exc.__cause__) if exc.__cause__ is not None else None
        return cause not in aggregation.CONNECTION_LOST and cause not in aggregation.RETRYABLE
    return False


def _reports_errors(task_id: str) -> Callable[[F], F]:
    """Push the task's error to XCom before it fails, so that `log` can name the cause.

    A permanent error fails the task at once (AirflowFailException: no retries), so it reaches
    the UI and alerts in seconds rather than after minutes of back-off.
    """

    def wrap(func: F) -> F:
        @functools.wraps(func)
        def run(context: Mapping[str, Any]) -> Any:
            try:
                return func(context)
            except Exception as exc:
                from airflow.sdk.exceptions import AirflowRescheduleException

                if isinstance(exc, AirflowRescheduleException):
                    raise  # waiting for the hour to settle: not an error
                ti = context.get("ti")
                if ti is not None:
                    try:
                        ti.xcom_push(key=ERROR_XCOM_KEY, value=f"{type(exc).__name__}: {exc}")
                    except Exception:  # noqa: BLE001 - the original error matters more
                        log.warning("could not record the error of %s in XCom", task_id)
                if is_permanent(exc):
                    from airflow.sdk.exceptions import AirflowFailException

                    raise AirflowFailException(f"{type(exc).__name__}: {exc} (not retried)") from exc
                raise

        return run  # type: ignore[return-value]

    return wrap


def resolve_hour(context: Mapping[str, Any]) -> hours.ResolvedHour:
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
    now = _now()
    ready = resolved.hour.settled_at(settle)
    if now < ready <= now + WAIT_FOR_SETTLE_AT_MOST + settle:
        from airflow.sdk.exceptions import AirflowRescheduleException

        log.info("%s; this task waits until then (rescheduled, no try used)", hours.not_settled(resolved.hour, settle))
        raise AirflowRescheduleException(reschedule_date=ready)
    hours.check_settled(resolved.hour, settle, now)
    return resolved


def _interval_minutes(context: Mapping[str, Any]) -> int:
    params = context.get("params") or {}
    value = params.get("snapshot_interval_minutes", config.snapshot_interval_minutes())
    try:
        minutes = int(value)
    except (TypeError, ValueError):
        raise config.ConfigError(f"param snapshot_interval_minutes={value!r} is not a whole number") from None
    config.check_snapshot_interval(minutes)
    return minutes


def _now() -> datetime:
    return datetime.now(UTC)


@_reports_errors("migrate")
def migrate(context: Mapping[str, Any]) -> list[str]:
    """Apply pending migrations; return the tasks to run next (Airflow's branch choice).

    late_data follows only for runs that search for late data: for the others (backfills, manual
    runs) the scheduler marks it skipped and starts no process for it.
    """
    started = _now()
    with db.connection(config.migrate_conn_id()) as conn:
        result = migrations.migrate(conn)
        # Before this run's aggregation reads anything: the late-data search reads up to here.
        # Only runs that search need it; the others keep migrate to its one query.
        newest: dict[str, int] | None = None
        if _searches_late_data(context):
            try:
                newest = late_data.newest_ids(conn)
            except Exception as exc:  # noqa: BLE001 - the aggregation tasks report a missing table by name
                log.warning("migrate: could not read the newest snapshot ids (%s); late_data will read its own", exc)
    log.info("migrate: %s", result.summary())
    # The run's first task records when the run's work started, for aggregation_log.started_at:
    # dag_run.start_date is the logical date under `airflow dags test`, and survives clearing.
    context["ti"].xcom_push(
        key=MIGRATED_XCOM_KEY,
        value={
            "applied": result.applied,
            "version": result.current_version,
            "started_at": started.isoformat(),
            "newest_snapshot_ids": newest,
        },
    )
    return ["aggregate_rides", "late_data"] if _searches_late_data(context) else ["aggregate_rides"]


@_reports_errors("aggregate_rides")
def aggregate_rides(context: Mapping[str, Any]) -> dict[str, Any]:
    resolved = settled_hour(context)
    minutes = _interval_minutes(context)
    log.info("aggregate_rides: hour %s (%s); collector cadence %d min", resolved.hour, resolved.reason, minutes)
    with db.connection() as conn:
        result = aggregation.aggregate_rides(conn, resolved.hour, minutes)
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


@_reports_errors("aggregate_parks")
def aggregate_parks(context: Mapping[str, Any]) -> dict[str, Any]:
    """Write the hour's park rows, then check the hour's ride and park rows (checks.py)."""
    resolved = settled_hour(context)
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
            context["ti"].xcom_push(key=COMMITTED_XCOM_KEY, value=written)
            context["ti"].xcom_push(key=FAILED_STEP_XCOM_KEY, value="check")
        except Exception:  # noqa: BLE001 - the check's own error matters more
            log.warning("aggregate_parks: could not record the committed rows of hour %s in XCom", resolved.hour)
        raise
    return {**written, **report.as_dict()}


def _searches_late_data(context: Mapping[str, Any]) -> bool:
    # Scheduled runs search; a backfill or manual run only when asked (param), so that redoing
    # old hours does not also move the scheduler's mark.
    dag_run = context["dag_run"]
    params = context.get("params") or {}
    # DagRunType is a str enum: it equals its value.
    return getattr(dag_run, "run_type", None) == "scheduled" or bool(params.get("reaggregate_late_data"))


@_reports_errors("late_data")
def reaggregate_late_data(context: Mapping[str, Any]) -> dict[str, Any]:
    """Aggregate again the earlier hours that snapshots written since the last search change."""
    if not _searches_late_data(context):
        log.info("late_data: not a scheduled run and param reaggregate_late_data is off: no search")
        return {"searched": False, "hours": [], "late_snapshots": 0}
    resolved = settled_hour(context)
    minutes = _interval_minutes(context)
    window = config.late_data_window()
    run_id = context["dag_run"].run_id
    migrated = context["ti"].xcom_pull(task_ids="migrate", key=MIGRATED_XCOM_KEY) or {}
    redone: list[str] = []
    failed: list[str] = []
    with db.connection() as conn:
        found = late_data.find(conn, resolved.hour, window, migrated.get("newest_snapshot_ids"))
        if found.first_search:
            log.info("late_data: first search: snapshots up to ids %s count as seen", found.newest)
        elif found.outside_window:
            log.warning(
                "late_data: %d late snapshots lie more than %s before hour %s and were not re-aggregated "
                "(THEMEPARK_LATE_DATA_WINDOW_HOURS); backfill their hours with reprocess 'completed'",
                found.outside_window,
                window,
                resolved.hour,
            )
        if found.hours:
            log.info(
                "late_data: %d late snapshots (ids above %s) change %d earlier hours: %s",
                found.late_snapshots,
                found.marks,
                len(found.hours),
                ", ".join(str(h) for h in found.hours),
            )
        for hour in found.hours:
            try:
                _redo_hour(conn, hour, minutes, run_id, found.snapshots_by_hour.get(hour.start, 0), context)
            except aggregation.RefusedHour as exc:
                # Bad input in an old hour: its failed log row says why; running it again cannot
                # help until the data is fixed (then a backfill), so it must not fail every run.
                log.error("late_data: hour %s refused, its previous rows are kept: %s", hour, exc)
                failed.append(hour.start.isoformat())
                continue
            redone.append(hour.start.isoformat())
        late_data.advance_marks(conn, found)
    return {
        "searched": True,
        "hours": redone,
        "refused_hours": failed,
        "late_snapshots": found.late_snapshots,
        "outside_window": found.outside_window,
    }


def _redo_hour(
    conn: Any, hour: hours.Hour, minutes: int, run_id: str, late_snapshots: int, context: Mapping[str, Any]
) -> None:
    started = _now()
    entry = functools.partial(
        run_log.RunLogEntry,
        dag_id=config.DAG_ID,
        run_id=f"{run_id} late {hour.start:%Y-%m-%dT%H:%M}",
        aggregation_date=hour.start.date(),
        hour_start=hour.start,
        hour_end=hour.end,
        started_at=started,
        reason="late_data",
        triggered_by_run_id=run_id,
        late_snapshots=late_snapshots,
    )
    try:
        rides = aggregation.aggregate_rides(conn, hour, minutes)
        parks = aggregation.aggregate_parks(conn, hour)
    except Exception as exc:
        run_log.write(
            conn,
            entry(
                completed_at=_now(),
                status="failed",
                error_message=f"late_data failed: {exc}",
                parks_processed=0,
                rides_processed=0,
                failed_task="late_data",
            ),
        )
        raise
    # The redone hour gets the same checks as a run's own hour; a failed check keeps the rows
    # (as for the own hour) and is recorded in that hour's log row.
    try:
        checks.run(hour, config.conn_id(), context)
        status, error = "success", None
    except checks.ChecksFailed as exc:
        log.error("late_data: %s", exc)
        status, error = "failed", f"check failed: ChecksFailed: {exc}"
    run_log.write(
        conn,
        entry(
            completed_at=_now(),
            status=status,
            error_message=error,
            parks_processed=parks.parks_written,
            rides_processed=rides.rides_written,
            failed_task="check" if error else None,
        ),
    )
    log.info(
        "late_data: hour %s aggregated again (%d late snapshots): %d ride rows, %d park rows",
        hour,
        late_snapshots,
        rides.rides_written,
        parks.parks_written,
    )


@dataclass
class _Outcome:
    states: dict[str, str]
    results: dict[str, Any]
    errors: list[str]
    # The step that failed, per task whose failure was not the task itself ("check").
    failed_steps: dict[str, str]


def _upstream_outcome(context: Mapping[str, Any]) -> _Outcome:
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
    searching = _searches_late_data(context)
    for task_id in AGGREGATION_TASKS:
        # Each pull is a round trip to the api-server: none for a task that did not have to run,
        # and migrate's return value is only its branch choice (what it found has its own key).
        if task_id == SKIPPED_WHEN_NOT_SEARCHING and not searching:
            # Skipped by migrate's branch, whatever the states say (or, unread, would have said).
            states[task_id] = "skipped"
            results[task_id] = None
            continue
        if task_id == "migrate":
            results[task_id] = ti.xcom_pull(task_ids=task_id, key=MIGRATED_XCOM_KEY)
        else:
            results[task_id] = ti.xcom_pull(task_ids=task_id)
        state = states.setdefault(task_id, "success" if results[task_id] is not None else "failed")
        if state == "success":
            continue
        # Rows the task committed before a later step of it failed still count.
        results[task_id] = results[task_id] or ti.xcom_pull(task_ids=task_id, key=COMMITTED_XCOM_KEY)
        step = ti.xcom_pull(task_ids=task_id, key=FAILED_STEP_XCOM_KEY) or task_id
        failed_steps[task_id] = step
        error = ti.xcom_pull(task_ids=task_id, key=ERROR_XCOM_KEY)
        if error:
            errors.append(f"{step} failed: {error}")
        elif state == "upstream_failed":
            errors.append(f"{task_id} did not run (upstream failed)")
        else:
            errors.append(f"{task_id} ended {state}")
    return _Outcome(states, results, errors, failed_steps)


def _failed_step(outcome: _Outcome) -> str | None:
    """The first task that did not end as it should, or the step of it that failed ("check")."""
    for task_id in AGGREGATION_TASKS:
        if task_id in outcome.failed_steps or outcome.states.get(task_id) not in ("success", "skipped"):
            return outcome.failed_steps.get(task_id, task_id)
    return None


def _run_started_at(migrated: Mapping[str, Any] | None, dag_run: Any) -> datetime | None:
    if migrated and migrated.get("started_at"):
        return datetime.fromisoformat(migrated["started_at"])
    return getattr(dag_run, "start_date", None)


def write_run_log(context: Mapping[str, Any]) -> dict[str, Any]:
    dag_run = context["dag_run"]
    outcome = _upstream_outcome(context)
    states, results, errors = outcome.states, outcome.results, outcome.errors

    try:
        resolved = resolve_hour(context)
        hour_start, hour_end = resolved.hour.start, resolved.hour.end
    except hours.IntervalError:
        hour_start, hour_end = None, None
    day_source = hour_start or context.get("logical_date") or dag_run.run_after
    rides = results["aggregate_rides"] or {}
    parks = results["aggregate_parks"] or {}
    status = "failed" if errors else "success"
    entry = run_log.RunLogEntry(
        dag_id=dag_run.dag_id,
        run_id=dag_run.run_id,
        aggregation_date=day_source.astimezone(UTC).date(),
        hour_start=hour_start,
        hour_end=hour_end,
        started_at=_run_started_at(results["migrate"], dag_run),
        completed_at=_now(),
        status=status,
        error_message="; ".join(errors) or None,
        # Rows a successful task committed, even when a later task failed (a failed check keeps them).
        parks_processed=int(parks.get("parks_written", 0)),
        rides_processed=int(rides.get("rides_written", 0)),
        failed_task=_failed_step(outcome),
    )
    with db.connection() as conn:
        run_log.write(conn, entry)
    log.info(
        "log: run %s, hour %s to %s: %s (rides %d, parks %d)%s",
        dag_run.run_id,
        hour_start,
        hour_end,
        status,
        entry.rides_processed,
        entry.parks_processed,
        f"; {entry.error_message}" if errors else "",
    )
    if errors:
        # The log row is written; now make the run itself end failed, or a green `log` task would
        # turn a failed aggregation into a successful run (alerts, reprocess=failed backfills).
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(f"aggregation failed for this run: {entry.error_message}")
    late = results.get("late_data") or {}
    rewritten = [resolved.hour] + [hours.Hour.parse(h) for h in late.get("hours", [])]
    _tell_downstream(context, rewritten)
    return {"status": status, "task_states": states, "hours_announced": [str(h) for h in rewritten]}


def partition_key(hour: hours.Hour) -> str:
    """The asset partition key of an hour: its UTC start in the temporal mappers' default input format."""
    return hour.start.strftime("%Y-%m-%dT%H:%M:%S")


def _tell_downstream(context: Mapping[str, Any], rewritten: list[hours.Hour]) -> None:
    """One asset event per hour whose rows this run wrote, keyed by the hour, for DAGs scheduled on it."""
    from airflow.sdk import Asset

    events = context.get("outlet_events")
    if events is None:
        return
    accessor = events[Asset(config.HOURLY_STATS_ASSET)]
    accessor.extra = {
        "hour_start": rewritten[0].start.isoformat(),
        "hours": [h.start.isoformat() for h in rewritten],
        "tables": ["ride_hourly_stats", "park_hourly_stats"],
    }
    accessor.add_partitions([partition_key(h) for h in rewritten])
    log.info("log: announced %s to %s", ", ".join(partition_key(h) for h in rewritten), config.HOURLY_STATS_ASSET)
