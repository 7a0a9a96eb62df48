"""The run's params (the DAG file declares them) as the tasks use them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from themepark_hourly import config


def snapshot_interval_minutes(context: Mapping[str, Any]) -> int:
    """The collector cadence for this run: param snapshot_interval_minutes, else the setting."""
    params = context.get("params") or {}
    value = params.get("snapshot_interval_minutes", config.snapshot_interval_minutes())
    try:
        minutes = int(value)
    except (TypeError, ValueError):
        raise config.ConfigError(f"param snapshot_interval_minutes={value!r} is not a whole number") from None
    config.check_snapshot_interval(minutes)
    return minutes


def searches_late_data(context: Mapping[str, Any]) -> bool:
    """Whether this run searches for late snapshots of earlier hours.

    Scheduled runs search; a backfill or manual run only when asked (param reaggregate_late_data),
    so that redoing old hours does not also move the scheduler's mark.
    """
    dag_run = context["dag_run"]
    params = context.get("params") or {}
    # DagRunType is a str enum: it equals its value.
    return getattr(dag_run, "run_type", None) == "scheduled" or bool(params.get("reaggregate_late_data"))
