"""Airflow wiring of the hourly theme-park aggregation; the logic is in plugins/themepark_hourly.

Parsed often by the scheduler: it reads only environment settings and imports nothing heavy.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG, CronDataIntervalTimetable, Param, TriggerRule, task

from themepark_hourly import config

DOC_MD = """
### Hourly theme-park statistics

Each run writes `ride_hourly_stats` and `park_hourly_stats` for **one UTC hour**, then records the
run in `aggregation_log`. Tasks: `migrate` >> `aggregate_rides` >> `aggregate_parks` >> `log`.

**Which hour a run aggregates**

| run | hour |
|---|---|
| scheduled | its data interval: the hour that just ended (run at 15:00 UTC aggregates 14:00-15:00) |
| backfill (UI or `airflow backfill create`) | each run's data interval |
| `airflow dags test themepark_hourly_aggregation 2025-12-08T15:00:00+00:00` | the hour ending at the logical date: 14:00-15:00 |
| manual trigger without logical date, or a zero-width interval | the last complete UTC hour ending at or before the logical date (else run_after) |
| any other interval | refused: the run fails and the failure is logged |

Re-running an hour replaces its rows (late snapshots are picked up). A failed aggregation leaves
the hour's previous rows untouched and ends the run *failed*, with a `failed` log row naming the
task and error. Param `snapshot_interval_minutes`: the collector cadence used for downtime hours.
"""

with DAG(
    dag_id=config.DAG_ID,
    description="Hourly ride and park statistics (downtime, uptime, waits, shame score) per UTC hour",
    # A data-interval timetable: every run gets the real hour [h, h+1). A cron string such as
    # "@hourly" would give zero-width intervals in Airflow 3.
    schedule=CronDataIntervalTimetable("0 * * * *", timezone="UTC"),
    start_date=config.start_date(),
    catchup=True,  # hours missed while the scheduler was down still run
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
    },
) as dag:

    @task(task_id="migrate")
    def migrate(**context):
        from themepark_hourly import airflow_tasks

        return airflow_tasks.migrate(context)

    @task(task_id="aggregate_rides")
    def aggregate_rides(**context):
        from themepark_hourly import airflow_tasks

        return airflow_tasks.aggregate_rides(context)

    @task(task_id="aggregate_parks")
    def aggregate_parks(**context):
        from themepark_hourly import airflow_tasks

        return airflow_tasks.aggregate_parks(context)

    @task(task_id="log", trigger_rule=TriggerRule.ALL_DONE)
    def log(**context):
        from themepark_hourly import airflow_tasks

        return airflow_tasks.write_run_log(context)

    migrate() >> aggregate_rides() >> aggregate_parks() >> log()
