"""The DAG's timetable: one run per UTC hour, created once the hour's data has settled.

Every run of hour H has logical date H and data interval [H, H+1h), whoever made it; the scheduler
creates it at H's end plus the settle delay. The rule, run by run: docs/OPERATIONS.md "Which hour
a run aggregates"; why a subclass of Airflow's ``CronDataIntervalTimetable``:
docs/decisions/0009-settled-hourly-timetable.md.

Registered by ``plugins/themepark_hourly_plugin.py``: Airflow's scheduler, dag-processor,
api-server and CLI deserialise the DAG's timetable by this module path.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pendulum
from airflow.timetables.base import DagRunInfo, DataInterval, TimeRestriction
from airflow.timetables.interval import CronDataIntervalTimetable

from themepark_hourly import hours

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


def _ceil_hour(value: datetime) -> datetime:
    value = hours.to_utc(value)
    floor = hours.floor_hour(value)
    return floor if floor == value else floor + hours.ONE_HOUR


class SettledHourlyTimetable(CronDataIntervalTimetable):
    """Hourly UTC data intervals; each run created ``settle`` after its hour ends."""

    def __init__(self, settle: timedelta, first_hour: datetime | None = None, dag_id: str | None = None) -> None:
        super().__init__("0 * * * *", timezone="UTC")
        if settle < timedelta(0):
            raise ValueError(f"settle delay {settle} is negative")
        self.settle = settle
        self.first_hour = None if first_hour is None else _ceil_hour(first_hour)
        # Whose runs to look at when telling a stale backfill from the scheduler's own last run.
        self.dag_id = dag_id
        minutes = f"{settle.total_seconds() / 60:g}"
        self.description = f"Every UTC hour, run {minutes} min after the hour ends (its data settled)"

    @property
    def summary(self) -> str:
        return f"hourly, settled {self.settle.total_seconds() / 60:g} min"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SettledHourlyTimetable):
            return NotImplemented
        return (self.settle, self.first_hour, self.dag_id) == (other.settle, other.first_hour, other.dag_id)

    def __hash__(self) -> int:
        return hash((self.settle, self.first_hour, self.dag_id))

    def serialize(self) -> dict[str, Any]:
        return {
            "settle_seconds": self.settle.total_seconds(),
            "first_hour": None if self.first_hour is None else self.first_hour.isoformat(),
            "dag_id": self.dag_id,
        }

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> SettledHourlyTimetable:
        first = data.get("first_hour")
        return cls(
            timedelta(seconds=data["settle_seconds"]),
            None if first is None else datetime.fromisoformat(first),
            data.get("dag_id"),
        )

    def _interval(self, hour: hours.Hour) -> DataInterval:
        return DataInterval(pendulum.instance(hour.start), pendulum.instance(hour.end))

    def infer_manual_data_interval(self, *, run_after: datetime) -> DataInterval:
        # Airflow passes the logical date here for `airflow dags test` and UI/REST triggers,
        # before it creates the run. An hour that has not settled is refused here, at the door:
        # a run of it would hold the hour's logical date, and the scheduler creates no run for a
        # logical date that already has one, so the hour would be left to that refused run. The
        # REST API (and the UI's Trigger dialog) answers 400 with this message, `airflow dags
        # test` exits with it; no run is created either way.
        hour = hours.hour_of_logical_date(run_after, self.settle)
        hours.check_settled(hour, self.settle, _now(), run_exists=False)
        return self._interval(hour)

    def run_info_from_dag_run(self, *, dag_run: Any) -> DagRunInfo:
        # The scheduler asks this of a run that already holds the logical date it meant to create
        # ("run already exists; skipping"), then goes on from that run's interval. A run made by
        # `airflow dags trigger -l T` stores the interval Airflow inferred from the time of the
        # call, not T's hour: going on from it would stop the scheduler at T for good (the next
        # hour after an earlier interval is T again) or skip the hours up to the call. Every run's
        # hour is the one its logical date names, as the tasks read it (hours.resolve).
        if dag_run.logical_date is None:
            return super().run_info_from_dag_run(dag_run=dag_run)
        # Built here rather than from the base method, which would infer a missing interval by
        # asking infer_manual_data_interval, and that refuses unsettled hours.
        hour = hours.hour_of_logical_date(dag_run.logical_date, self.settle)
        return DagRunInfo(
            run_after=pendulum.instance(dag_run.run_after),
            data_interval=self._interval(hour),
            partition_date=None if dag_run.partition_date is None else pendulum.instance(dag_run.partition_date),
            partition_key=dag_run.partition_key,
        )

    def generate_run_id(
        self, *, run_type: Any, run_after: Any, data_interval: DataInterval | None, **extra: Any
    ) -> str:
        # Scheduled runs are named after their hour, not after when they were due: run_after
        # moves with the settle delay, and two hours due at the same instant (after the delay
        # was changed) would get the same id and stop the scheduler on a unique-key violation.
        from airflow.utils.types import DagRunType

        if run_type == DagRunType.SCHEDULED and data_interval is not None:
            return run_type.generate_run_id(suffix=hours.to_utc(data_interval.start).isoformat())
        return super().generate_run_id(run_type=run_type, run_after=run_after, data_interval=data_interval, **extra)

    def _scheduler_start(self, now: datetime) -> datetime:
        if self.first_hour is not None:
            return self.first_hour
        return hours.last_settled_hour(now, self.settle).start

    def next_dagrun_info(
        self,
        *,
        last_automated_data_interval: DataInterval | None,
        restriction: TimeRestriction,
    ) -> DagRunInfo | None:
        now = _now()
        # Backfills (and their dry runs) always pass the end of their range; the scheduler passes
        # the DAG's end date, which this DAG does not have.
        backfill = restriction.latest is not None
        if last_automated_data_interval is not None:
            start = hours.floor_hour(hours.to_utc(last_automated_data_interval.end))
            if not backfill and start < self._scheduler_start(now) and not self._scheduler_has_run():
                # The last run is a backfill made before the scheduler's first run: start as a
                # fresh deployment does, not from the backfill's (maybe years old) hour.
                start = self._scheduler_start(now)
        elif backfill:
            start = _ceil_hour(restriction.earliest) if restriction.earliest is not None else None
            if start is None:
                return None
        else:
            start = self._scheduler_start(now)
        if restriction.earliest is not None:
            start = max(start, _ceil_hour(restriction.earliest))
        hour = hours.Hour(start)
        if backfill and (start > hours.to_utc(restriction.latest) or hour.settled_at(self.settle) > now):
            # A backfill never creates an hour whose data may still be arriving.
            return None
        # A backfill's run may start at once (its hour has settled); its run_after is also what
        # Airflow names a backfill run after, so it must not move with the settle delay: two
        # hours would share a run id after a change of the delay, and Airflow skips the second
        # as "already exists". The scheduler's run waits for the hour to settle.
        run_after = hour.end if backfill else hour.settled_at(self.settle)
        return DagRunInfo(run_after=pendulum.instance(run_after), data_interval=self._interval(hour))

    def _scheduler_has_run(self) -> bool:
        """Whether the scheduler has made any run of this DAG (read from Airflow's metadata)."""
        if self.dag_id is None:
            return True
        try:
            from airflow import settings
            from airflow.models.dagrun import DagRun
            from airflow.utils.types import DagRunType
            from sqlalchemy import select

            # A connection of its own, not a session: Airflow's ORM session is thread-scoped, and
            # the caller (dag-processor, scheduler) has unsaved changes in it that closing it
            # would throw away.
            with settings.get_engine().connect() as connection:
                found = connection.execute(
                    select(DagRun.id)
                    .where(DagRun.dag_id == self.dag_id, DagRun.run_type == DagRunType.SCHEDULED)
                    .limit(1)
                ).first()
            return found is not None
        except Exception:  # noqa: BLE001 - losing no hour is the safe answer
            log.warning("could not read whether %s has scheduled runs; going on from its latest run", self.dag_id)
            return True
