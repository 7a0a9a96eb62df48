"""Which UTC hour a DAG run aggregates, and whether its data has settled.

A run whose logical date T is on the hour aggregates [T, T+1h), whoever made it; off the hour or
without one, the last hour settled at that moment (docs/OPERATIONS.md "Which hour a run aggregates").

Pure standard library: the timetable imports it in every Airflow process.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

ONE_HOUR = timedelta(hours=1)


class IntervalError(ValueError):
    """No hour can be told from the run's dates."""


class HourNotSettled(ValueError):
    """The hour's data may still be arriving; the message says when it will have settled."""


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

    def settled_at(self, settle: timedelta) -> datetime:
        return self.end + settle

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d %H:%M}-{self.end:%H:%M} UTC"


@dataclass(frozen=True)
class ResolvedHour:
    hour: Hour
    reason: str


def to_utc(value: datetime) -> datetime:
    """An aware datetime (pendulum's included) as a plain ``datetime`` in UTC."""
    if value.tzinfo is None:
        raise IntervalError(f"naive datetime {value!r}: Airflow always passes aware datetimes")
    return datetime.fromtimestamp(value.timestamp(), tz=UTC)


def floor_hour(value: datetime) -> datetime:
    return value.replace(minute=0, second=0, microsecond=0)


def is_on_the_hour(value: datetime) -> bool:
    return value == floor_hour(value)


def last_settled_hour(at: datetime, settle: timedelta) -> Hour:
    """The latest hour H with H.end + settle <= at."""
    return Hour(floor_hour(to_utc(at) - settle) - ONE_HOUR)


def hour_of_logical_date(logical_date: datetime, settle: timedelta) -> Hour:
    """The hour a run with this logical date aggregates (see the module's docstring)."""
    logical = to_utc(logical_date)
    if is_on_the_hour(logical):
        return Hour(logical)
    return last_settled_hour(logical, settle)


def resolve(
    logical_date: datetime | None,
    run_after: datetime | None,
    settle: timedelta,
    data_interval_start: datetime | None = None,
    data_interval_end: datetime | None = None,
) -> ResolvedHour:
    """The hour a run aggregates, with a sentence saying why, for the task log."""
    if logical_date is not None:
        logical = to_utc(logical_date)
        hour = hour_of_logical_date(logical, settle)
        if is_on_the_hour(logical):
            reason = f"the run's logical date {logical:%Y-%m-%d %H:%M} UTC: the hour starting then"
        else:
            reason = (
                f"the run's logical date {logical.isoformat()} is off the hour: the last hour settled by then "
                f"(its end + {_minutes(settle)})"
            )
    elif run_after is not None:
        after = to_utc(run_after)
        hour = last_settled_hour(after, settle)
        reason = (
            f"the run has no logical date: the last hour settled when it was triggered at "
            f"{after:%Y-%m-%d %H:%M:%S} UTC (its end + {_minutes(settle)})"
        )
    else:
        raise IntervalError("the run has no logical date and no run_after: no hour can be told")
    return ResolvedHour(hour, reason + _interval_note(hour, data_interval_start, data_interval_end))


def _interval_note(hour: Hour, start: datetime | None, end: datetime | None) -> str:
    # `airflow dags trigger -l T` infers the interval from the time of the call, not from T, and
    # the REST API accepts any interval: the logical date is the run's identity, so it decides.
    if start is None or end is None:
        return ""
    start, end = to_utc(start), to_utc(end)
    if (start, end) == (hour.start, hour.end) or start == end:
        return ""
    return f"; the run's data interval {start.isoformat()} to {end.isoformat()} is not that hour and is ignored"


def not_settled(hour: Hour, settle: timedelta) -> str:
    """Why ``hour`` is not ready yet and when it will be, for errors and task logs."""
    return (
        f"hour {hour} has not settled yet: its snapshots may still be arriving until "
        f"{hour.settled_at(settle):%Y-%m-%d %H:%M:%S} UTC (its end + {_minutes(settle)}, THEMEPARK_SETTLE_MINUTES)"
    )


def check_settled(hour: Hour, settle: timedelta, now: datetime, *, run_exists: bool = True) -> None:
    """Refuse an hour whose data may still be arriving, saying when it will have settled.

    ``run_exists=False``: the timetable, before Airflow creates a manual run. Otherwise the task's
    own check, for runs the timetable was not asked about whose hour settles too far ahead to wait
    for (tasks/run_hour.settled_hour); the advice differs accordingly.
    """
    if to_utc(now) >= hour.settled_at(settle):
        return
    if run_exists:
        advice = (
            "This run keeps the hour's logical date, so the scheduler will not create another run of it: "
            "clear this run after then."
        )
    else:
        advice = (
            "No run was created: the scheduler runs this hour once it has settled; to run it by hand, "
            "trigger it after then, or trigger without a logical date for the last settled hour."
        )
    raise HourNotSettled(f"{not_settled(hour, settle)}. {advice}")


def _minutes(settle: timedelta) -> str:
    return f"{settle.total_seconds() / 60:g} min settle"
