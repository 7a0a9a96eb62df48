"""Late snapshots: find the earlier hours they change and aggregate those hours again.

A snapshot is late when it is written after its hour was aggregated: a collector restart writing a
backlog, a re-import filling a gap, a poll that lands minutes late. It changes its own hour and,
through "operated earlier today", every later hour of its park's local day; a park snapshot also
changes the ride polls of the neighbouring hour within 90 s. Each scheduled run reads the
snapshots written since the last search (ids above a mark kept in the database), re-aggregates
exactly the hours they change within a window, in time order, each with the same statements and
under the same per-hour lock as a normal run, and then moves the mark.

What it cannot see: a row updated or deleted in place (its id is below the mark), and a row whose
insert commits after a row with a higher id was already searched. For those, a backfill with
reprocess "completed" over the affected hours (docs/OPERATIONS.md "Late data"; the design:
docs/decisions/0010-late-snapshots-found-by-id-marks.md).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from themepark_hourly import db, park_days
from themepark_hourly.hours import ONE_HOUR, Hour
from themepark_hourly.sql_files import named_statements

log = logging.getLogger(__name__)

LATE_SQL = "aggregation/late_data.sql"
RIDES, PARKS = "ride_status_snapshots", "park_activity_snapshots"


@dataclass
class LateHours:
    """What a search found: the hours to aggregate again and the late snapshots behind each."""

    marks: dict[str, int]
    newest: dict[str, int]
    first_search: bool
    snapshots_by_hour: dict[datetime, int] = field(default_factory=dict)
    hours: list[Hour] = field(default_factory=list)
    outside_window: int = 0

    @property
    def late_snapshots(self) -> int:
        return sum(self.snapshots_by_hour.values())


def _hour_of(number: Any) -> datetime:
    return datetime.fromtimestamp(int(number) * 3600, tz=UTC)


def _end_of_local_day(hour_start: datetime, tz_name: Any) -> datetime | None:
    """UTC instant of the park's next local day start after ``hour_start``, or None for an unusable zone."""
    if not isinstance(tz_name, str) or not tz_name or tz_name != tz_name.strip():
        return None
    try:
        next_day = hour_start.astimezone(ZoneInfo(tz_name)).date() + timedelta(days=1)
        # Any instant of the next day gives its start by the same rule as the aggregation's.
        return park_days.day_start_utc(
            datetime(next_day.year, next_day.month, next_day.day, 12, tzinfo=ZoneInfo(tz_name)), tz_name
        )
    except (ZoneInfoNotFoundError, ValueError):
        return None


def newest_ids(conn: Any) -> dict[str, int]:
    """The highest snapshot id of each table: what a search started now may read up to."""
    ride_newest, park_newest = (int(v) for v in db.query_one(conn, named_statements(LATE_SQL)["newest_ids"]))
    conn.rollback()
    return {RIDES: ride_newest, PARKS: park_newest}


def find(conn: Any, own: Hour, window: timedelta, newest: dict[str, int] | None = None) -> LateHours:
    """Aggregated hours (within ``window`` of the latest) that snapshots written since the mark change.

    ``own`` is the run's own hour, aggregated by the run itself: never one of them. ``newest`` are
    the ids read before the run's own aggregation started (the `migrate` task): rows written
    after are left to the next search, so a row of the own hour is either read by the run's
    aggregation or found by the next run, never skipped. The hours searched end with the latest
    hour aggregated so far (or the own hour): only an hour with rows can hold stale ones, and a
    run of an old hour, cleared and re-run, still redoes later hours that changed.
    """
    sql = named_statements(LATE_SQL)
    marks = {str(name): int(mark) for name, mark in db.query_all(conn, sql["marks"])}
    latest = db.query_one(conn, sql["latest_aggregated_hour"])[0]
    conn.rollback()
    # The window ends with the own hour, or with the latest hour aggregated when that is later.
    anchor = own.start if latest is None else max(own.start, latest.replace(tzinfo=UTC))
    until = anchor + ONE_HOUR
    if newest is None:
        newest = newest_ids(conn)
    found = LateHours(marks=marks, newest=dict(newest), first_search=not marks)
    if found.first_search:
        return found  # nothing is known to be late yet: start reading from here on
    params = {
        "until": until.strftime("%Y-%m-%d %H:%M:%S"),
        "ride_mark": marks.get(RIDES, 0),
        "ride_newest": newest[RIDES],
        "park_mark": marks.get(PARKS, 0),
        "park_newest": newest[PARKS],
    }
    window_start = anchor - window
    wanted: set[datetime] = set()

    def take(start: datetime, count: int, end: datetime) -> None:
        # The snapshot's own hour when inside the window; the hours depending on it, inside it.
        if start < window_start:
            found.outside_window += count
        elif start != own.start:
            found.snapshots_by_hour[start] = found.snapshots_by_hour.get(start, 0) + count
        h = max(start, window_start)
        while h < min(end, until):
            if h != own.start:
                wanted.add(h)
            h += ONE_HOUR

    for _park_id, tz_name, hour_number, count in db.query_all(conn, sql["late_ride_hours"], params):
        start = _hour_of(hour_number)
        take(start, int(count), _end_of_local_day(start, tz_name) or start + ONE_HOUR)
    for first_number, last_number, count in db.query_all(conn, sql["late_park_hours"], params):
        first, last = _hour_of(first_number), _hour_of(last_number)
        take(first, int(count), last + ONE_HOUR)
    conn.rollback()
    found.hours = [Hour(h) for h in sorted(wanted)]
    return found


def advance_marks(conn: Any, found: LateHours) -> None:
    """Record that every row up to ``found.newest`` has been searched."""
    sql = named_statements(LATE_SQL)["advance_mark"]
    with db.transaction(conn) as cur:
        for table, newest in found.newest.items():
            cur.execute(sql, {"table_name": table, "last_snapshot_id": newest})
