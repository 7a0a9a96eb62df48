"""A downstream DAG scheduled on the hourly tables' asset, as a daily or dashboard DAG would be.

Test-only (tests/e2e): one run per hour written (the asset's partition key, mapped one to one),
returning the hours of the asset events that triggered it, so the end-to-end suite can read what
downstream was told. A plain ``schedule=[asset]`` DAG would never run: Airflow 3.3 queues
partitioned asset events for partition-aware DAGs only (airflow/assets/manager.py).
"""

from __future__ import annotations

from datetime import UTC, datetime

from airflow.sdk import DAG, Asset, PartitionedAssetTimetable, task

HOURLY_STATS = Asset("themepark_hourly_stats")

with DAG(
    dag_id="themepark_hourly_consumer",
    schedule=PartitionedAssetTimetable(assets=HOURLY_STATS),
    start_date=datetime(2000, 1, 1, tzinfo=UTC),
    catchup=False,
    tags=["test"],
):

    @task
    def hours_received(**context) -> list[str]:
        events = context["triggering_asset_events"][HOURLY_STATS]
        return sorted({event.partition_key for event in events if event.partition_key})

    hours_received()
