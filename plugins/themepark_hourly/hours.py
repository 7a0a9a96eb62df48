"""Which UTC hour a DAG run aggregates.

Every way Airflow makes a run ends up here: scheduled and backfill runs carry a one-hour data
interval; ``airflow dags test``/``dag.test()`` with an hourly data-interval timetable get the hour
ending at the logical date; manual runs without a logical date have no interval at all, and some
triggers give a zero-width one. Anything else is refused rather than guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

ONE_HOUR = timedelta(hours=1)


class IntervalError(ValueError):
    """The run's data interval is not one aligned UTC hour, and no hour can be inferred."""


@dataclass(frozen=True)
class Hour:
    """H = [start, start + 1 h), in UTC, on the hour."""

    start: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.start.utcoffset() != timedelta(0):
            raise ValueError(f"hour start {self.start!r} must be an aware UTC datetime")
        if (self.start.minute, self.start.second, self.start.microsecond) != (0, 0, 0):
            raise ValueError(f"hour start {self.start.isoformat()} is not on the hour")

    @property
    def end(self) -> datetime:
        return self.start + ONE_HOUR

    @classmethod
    def parse(cls, text: str) -> Hour:
        """``2025-12-08T14:00`` or ``2025-12-08T14:00:00+00:00`` (naive means UTC)."""
        value = datetime.fromisoformat(text)
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return cls(value.astimezone(UTC))

    def db_params(self) -> dict[str, str]:
        # Naive UTC strings: the session runs at time_zone '+00:00', so they mean UTC.
        return {
            "hour_start": self.start.strftime("%Y-%m-%d %H:%M:%S"),
            "hour_end": self.end.strftime("%Y-%m-%d %H:%M:%S"),
        }

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d %H:%M}-{self.end:%H:%M} UTC"


@dataclass(frozen=True)
class ResolvedHour:
    hour: Hour
    reason: str


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise IntervalError(f"naive datetime {value!r}: Airflow always passes aware datetimes")
    return datetime.fromtimestamp(value.timestamp(), tz=UTC)


def _floor_to_hour(value: datetime) -> datetime:
    return value.replace(minute=0, second=0, microsecond=0)


def resolve(
    data_interval_start: datetime | None,
    data_interval_end: datetime | None,
    logical_date: datetime | None = None,
    run_after: datetime | None = None,
) -> ResolvedHour:
    """The hour a run aggregates, with a sentence saying why, for the task log."""
    start, end = _utc(data_interval_start), _utc(data_interval_end)
    logical, after = _utc(logical_date), _utc(run_after)

    if start is not None and end is not None and end != start:
        if end - start == ONE_HOUR and start == _floor_to_hour(start):
            return ResolvedHour(Hour(start), f"the run's data interval {start:%Y-%m-%d %H:%M}-{end:%H:%M} UTC")
        raise IntervalError(
            f"data interval {start.isoformat()} to {end.isoformat()} is not one whole UTC hour "
            f"aligned on the hour; this DAG aggregates exactly one hour per run. Use the DAG's "
            f"hourly schedule, or trigger it with a logical date to aggregate the hour ending then."
        )

    reference, what = (logical, "logical date") if logical is not None else (after, "run_after")
    if reference is None:
        raise IntervalError("the run has no data interval, no logical date and no run_after")
    hour_end = _floor_to_hour(reference)
    hour = Hour(hour_end - ONE_HOUR)
    shape = "no data interval" if start is None or end is None else "a zero-width data interval"
    return ResolvedHour(
        hour,
        f"the last complete UTC hour ending at or before the {what} {reference.isoformat()} (the run has {shape})",
    )
