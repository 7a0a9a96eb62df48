"""The asset events of a successful run: one per hour whose rows it wrote, for DAGs scheduled on them."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from themepark_hourly import config, hours

log = logging.getLogger("themepark_hourly")


def partition_key(hour: hours.Hour) -> str:
    """The asset partition key of an hour: its UTC start in the temporal mappers' default input format."""
    return hour.start.strftime("%Y-%m-%dT%H:%M:%S")


def announce(context: Mapping[str, Any], rewritten: list[hours.Hour]) -> None:
    """One event on the hourly-stats asset, partitioned by each hour in ``rewritten`` (the run's own first)."""
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
