"""Airflow wiring of the hourly theme-park aggregation; the logic is in plugins/themepark_hourly.

Parsed often by the scheduler: it reads only environment settings and imports nothing heavy. Each
task imports its body when it runs, from themepark_hourly/tasks/<task id>.py.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG, Asset, Param, TriggerRule, task

from themepark_hourly import config
from themepark_hourly.timetable import SettledHourlyTimetable

DOC_MD = """
### Hourly theme-park statistics

Each run writes `ride_hourly_stats` and `park_hourly_stats` for **one UTC hour**, and its row in
`aggregation_log`. Re-running an hour replaces its rows; a failed task leaves the previous ones.

| run | hour aggregated |
|---|---|
| logical date T on the hour: scheduler, backfill, `airflow dags test`, Trigger with a date | [T, T+1h) |
| Trigger without a logical date, or off the hour | the last settled hour |
| an hour not settled yet (`THEMEPARK_SETTLE_MINUTES`, default 5, after its end) | refused, or the run waits |

`late_data` redoes earlier hours changed by late snapshots (scheduled runs, or param
`reaggregate_late_data`). More, in the project's repository: docs/OPERATIONS.md.
"""

with DAG(
    dag_id=config.DAG_ID,
    description="Hourly ride and park statistics (downtime, uptime, waits, shame score) per UTC hour",
    # One run per UTC hour, logical date = the hour's start, created once its data settled; the
    # scheduler starts at the latest settled hour (or THEMEPARK_START_DATE) and catches up the
    # hours it missed from its last run on (plugins/themepark_hourly/timetable.py).
    schedule=SettledHourlyTimetable(config.settle(), config.first_hour(), dag_id=config.DAG_ID),
    # Before any tracker data: Airflow runs no task of a manual run dated before the start date.
    start_date=config.DAG_START_DATE,
    catchup=True,
    max_active_runs=config.max_active_runs(),
    doc_md=DOC_MD,
    tags=["themepark", "hourly", "aggregation"],
    default_args={
        "owner": "themepark-data",
        "retries": config.task_retries(),
        "retry_delay": timedelta(seconds=config.retry_delay_seconds()),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=15),
    },
    params={
        "snapshot_interval_minutes": Param(
            config.snapshot_interval_minutes(),
            type="integer",
            minimum=1,
            maximum=60,
            description="Collector cadence in minutes; each down snapshot counts this long.",
        ),
        "reaggregate_late_data": Param(
            False,
            type="boolean",
            description="Also search for late snapshots and re-aggregate the earlier hours they change "
            "(scheduled runs always do).",
        ),
    },
) as dag:

    # A branch: late_data follows only in runs that search for late data; elsewhere Airflow marks it
    # skipped and starts no process for it (a backfill hour costs four task starts, not five).
    # Its return value is only the branch choice (what it found is pushed under its own key): not
    # stored as an XCom, one api-server round trip less. log's result, likewise read by no one.
    @task.branch(task_id="migrate", do_xcom_push=False)
    def migrate(**context):
        from themepark_hourly.tasks import migrate as body

        return body.migrate(context)

    @task(task_id="aggregate_rides")
    def aggregate_rides(**context):
        from themepark_hourly.tasks import aggregate_rides as body

        return body.aggregate_rides(context)

    # Writes the park rows, then checks the hour: the checks run inside a task that already runs
    # (one task start less per hour). A failed check fails at once (an answer about the rows, which
    # stay); a lost connection is retried.
    @task(task_id="aggregate_parks")
    def aggregate_parks(**context):
        from themepark_hourly.tasks import aggregate_parks as body

        return body.aggregate_parks(context)

    @task(task_id="late_data")
    def late_data(**context):
        from themepark_hourly.tasks import late_data as body

        return body.reaggregate_late_data(context)

    # A successful run ends with an event on this asset for each hour it wrote (see config).
    @task(task_id="log", trigger_rule=TriggerRule.ALL_DONE, outlets=[Asset(config.HOURLY_STATS_ASSET)], do_xcom_push=False)
    def log(**context):
        from themepark_hourly.tasks import log as body

        return body.write_run_log(context)

    migrated = migrate()
    done = log()
    migrated >> aggregate_rides() >> aggregate_parks() >> done
    # Earlier hours changed by late snapshots: beside the run's own hour (never one of them).
    migrated >> late_data() >> done

    # The tasks take no templates. Without template fields the task runner skips storing their
    # rendered values: one api-server round trip and metadata write less per task (a backfill's
    # hours are bound by such per-task costs: docs/PERFORMANCE.md).
    for untemplated in dag.tasks:
        untemplated.template_fields = ()
