"""Set-based aggregation of one UTC hour into ride_hourly_stats and park_hourly_stats.

Each function runs a fixed list of statements from sql/aggregation/, whatever the number of
parks and rides, inside one transaction that replaces the hour's rows: a re-run gives the same
rows, and a failure rolls back to the previous ones. A per-hour named lock serialises two runs
of the same hour (a scheduled run and a backfill); runs of different hours never wait on each
other, and READ COMMITTED keeps the collector's inserts and other hours free of gap locks.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from themepark_hourly import config, db, db_errors, park_days
from themepark_hourly.hours import Hour
from themepark_hourly.sql_files import named_statements

log = logging.getLogger(__name__)

RIDE_SQL = "aggregation/ride_hourly_stats.sql"
PARK_SQL = "aggregation/park_hourly_stats.sql"
PARK_SNAPSHOTS_SQL = "aggregation/park_snapshots.sql"
# The kinds of a ride snapshot in RIDE_SQL's staging table, bound by these names: a small integer
# is the cheapest thing to compare once per snapshot.
SNAPSHOT_KINDS = {"kind_neither": 0, "kind_open": 1, "kind_down": 2, "kind_closed": 3}
# The two ways of finding each ride's latest OPERATING snapshot before the hour (same answer):
# per-ride dives when little data lies after the hour, else one loose index scan of all rides.
LAST_OPEN_RECENT = ("last_open_recent",)
LAST_OPEN_ANY_HOUR = ("create_last_open", "fill_last_open", "last_open_from_scan")
# "Little": the newest snapshot is less than this after the hour's end. The scheduler's run of
# an hour starts minutes after it ends, so it always takes the per-ride dives.
RECENT_DATA_AFTER = timedelta(hours=1)
# The statements of each file in the order the task runs them, which is also their order in the
# file (tests/unit/test_sql_files.py holds the files to it). Both tasks first cap their staging
# tables and stage the park snapshots around the hour, one per park and second. Rides: the park
# days, staging the hour, its check, the look-ups into the day before H (one of the two ways,
# picked by newest_snapshot), the down counts, the weight check, the writes. Each task ends by
# dropping its staging tables.
STAGE_PARK_SNAPSHOTS = ("heap_limit", "drop_park_snap", "create_park_snap", "fill_park_snap")
RIDE_STATEMENTS = (
    "park_timezones",
    "drop_staging",
    "create_park_day",
    "fill_park_day",
    "create_park_cell",
    "fill_park_cell",
    "create_snap",
    "fill_snap",
    "create_ride_hour",
    "stage",
    "bad_rows",
    "newest_snapshot",
    *LAST_OPEN_RECENT,
    *LAST_OPEN_ANY_HOUR,
    "settle_last_open",
    "create_last_legacy_open",
    "fill_last_legacy_open",
    "last_legacy_open",
    "settle_last_legacy_open",
    "open_or_known",
    "last_down",
    "first_operation",
    "create_ride_down",
    "count_down",
    "bad_weights",
    "upsert",
    "delete_stale",
    "totals",
)
PARK_STATEMENTS = (
    "drop_staging",
    "create_ride_weight",
    "fill_ride_weight",
    "bad_weights",
    "create_park_hour",
    "stage",
    "upsert",
    "delete_stale",
    "parks_without_snapshots",
    "totals",
)


class AggregationError(RuntimeError):
    """The hour cannot be aggregated; the message names the hour, the table and the value."""


class RefusedHour(AggregationError):
    """The hour's input breaks a rule; running it again cannot help until the data is fixed."""


@dataclass(frozen=True)
class RideResult:
    rides_written: int
    rides_removed: int
    snapshots_read: int
    down_snapshots: int
    rides_operated: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class ParkResult:
    parks_written: int
    parks_removed: int
    snapshots_read: int
    parks_without_snapshots: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def task_statements(task_sql: str, task_order: tuple[str, ...]) -> list[tuple[str, str]]:
    """(name, statement) in the order a task runs them: the park snapshots staged, then its own."""
    staged = named_statements(PARK_SNAPSHOTS_SQL)
    own = named_statements(task_sql)
    if clash := set(staged) & set(own):
        raise ValueError(f"{task_sql} reuses statement names of {PARK_SNAPSHOTS_SQL}: {sorted(clash)}")
    return [(n, staged[n]) for n in STAGE_PARK_SNAPSHOTS] + [(n, own[n]) for n in task_order]


def _drop_staging(cur: Any, statements: list[tuple[str, str]], params: dict[str, Any]) -> None:
    for name, statement in statements:
        if name in ("drop_staging", "drop_park_snap"):
            cur.execute(statement, params)


def hour_lock_name(schema: str, hour: Hour) -> str:
    return db.lock_name("hour", schema, f"{hour.start:%Y%m%d%H}")


@contextlib.contextmanager
def hour_transaction(conn: Any, hour: Hour) -> Iterator[Any]:
    """Hold the hour's lock and one transaction; commit on success, roll back on any error."""
    schema = db.query_one(conn, "SELECT DATABASE()")[0]
    if not schema:
        raise AggregationError("the connection names no database: add one to the connection URI")
    with db.named_lock(conn, hour_lock_name(schema, hour), config.lock_timeout_seconds()), db.transaction(conn) as cur:
        yield cur


def _with_retries(conn: Any, hour: Hour, table: str, work: Callable[[Any], Any]) -> Any:
    """Run ``work(cursor)`` in the hour's transaction, retrying deadlocks and lock wait timeouts."""
    attempts = config.conflict_retries() + 1
    for attempt in range(1, attempts + 1):
        try:
            with hour_transaction(conn, hour) as cur:
                return work(cur)
        except AggregationError:
            raise
        except Exception as exc:
            code = db_errors.error_code(exc)
            if code in db_errors.RETRYABLE and attempt < attempts:
                # Jittered, so that two runs that deadlocked each other do not collide again in step.
                delay = min(30.0, 0.5 * 2 ** (attempt - 1)) * random.uniform(0.8, 1.2)
                log.warning(
                    "%s for hour %s: %s (error %s) on attempt %d of %d; rolled back, retrying in %.1f s",
                    table,
                    hour,
                    db_errors.RETRYABLE[code],
                    code,
                    attempt,
                    attempts,
                    delay,
                )
                time.sleep(delay)
                continue
            error = RefusedHour if code in db_errors.REFUSED_INPUT else AggregationError
            raise error(f"{table} for hour {hour}: {db_errors.describe(exc)}") from exc
    raise AssertionError("unreachable")


def last_open_statements(hour: Hour, newest_snapshot: datetime | None) -> tuple[str, ...]:
    """Which statements find the rides' latest OPERATING snapshot before ``hour``.

    A per-ride dive starts at the ride's newest OPERATING row and steps back to the hour, so it
    is the cheaper way only while little data lies after the hour (see RIDE_SQL).
    """
    if newest_snapshot is not None and newest_snapshot.replace(tzinfo=UTC) >= hour.end + RECENT_DATA_AFTER:
        return LAST_OPEN_ANY_HOUR
    return LAST_OPEN_RECENT


def aggregate_rides(conn: Any, hour: Hour, interval_minutes: int) -> RideResult:
    """Replace ride_hourly_stats for ``hour``; return what was read and written."""
    config.check_snapshot_interval(interval_minutes)
    statements = task_statements(RIDE_SQL, RIDE_STATEMENTS)

    def work(cur: Any) -> RideResult:
        params: dict[str, Any] = {**hour.db_params(), **SNAPSHOT_KINDS, "interval_minutes": interval_minutes}
        bad_zones: list[park_days.BadTimezone] = []
        not_taken: tuple[str, ...] = ()
        for name, statement in statements:
            if name in not_taken:
                continue
            cur.execute(statement, params)
            if name == "park_timezones":
                rows, bad_zones = park_days.compute(hour.start, list(cur.fetchall()))
                params["park_days"] = json.dumps(rows)
            elif name == "bad_rows" and (bad := list(cur.fetchall())):
                raise RefusedHour(_describe_bad_rides(hour, bad, bad_zones))
            elif name == "newest_snapshot":
                taken = last_open_statements(hour, cur.fetchone()[0])
                not_taken = tuple(n for n in (*LAST_OPEN_RECENT, *LAST_OPEN_ANY_HOUR) if n not in taken)
            elif name == "bad_weights" and (bad := list(cur.fetchall())):
                # aggregate_parks weighs the hour's operated rides: refused now, before this task
                # writes, or the hour would be left with new ride rows and old park rows.
                raise RefusedHour(_describe_bad_weights(hour, bad, "ride_hourly_stats and park_hourly_stats"))
            elif name == "delete_stale":
                removed = cur.rowcount
            elif name == "totals":
                written, snapshots, down, operated = cur.fetchone()
        _drop_staging(cur, statements, params)
        return RideResult(int(written), int(removed), int(snapshots), int(down), int(operated))

    return _with_retries(conn, hour, "ride_hourly_stats", work)


def aggregate_parks(conn: Any, hour: Hour) -> ParkResult:
    """Replace park_hourly_stats for ``hour`` from its park snapshots and ride rows."""
    statements = task_statements(PARK_SQL, PARK_STATEMENTS)
    params: dict[str, Any] = hour.db_params()

    def work(cur: Any) -> ParkResult:
        for name, statement in statements:
            cur.execute(statement, params)
            if name == "bad_weights" and (bad := list(cur.fetchall())):
                raise RefusedHour(_describe_bad_weights(hour, bad, "park_hourly_stats"))
            elif name == "delete_stale":
                removed = cur.rowcount
            elif name == "parks_without_snapshots":
                missing = [int(r[0]) for r in cur.fetchall()]
            elif name == "totals":
                written, snapshots = cur.fetchone()
        _drop_staging(cur, statements, params)
        return ParkResult(int(written), int(removed), int(snapshots), missing)

    return _with_retries(conn, hour, "park_hourly_stats", work)


def _describe_bad_rides(hour: Hour, bad: list[tuple], zones: list[park_days.BadTimezone]) -> str:
    zone_of = {z.park_id: z for z in zones}
    problems = []
    for ride_id, park_id, park_known, count in bad:
        if park_id is None:
            problems.append(f"ride_id {ride_id} ({count} snapshots) has no row in rides")
        elif not park_known:
            problems.append(
                f"ride_id {ride_id} ({count} snapshots) belongs to park_id {park_id}, which has no row in parks"
            )
        elif park_id in zone_of:
            z = zone_of[park_id]
            problems.append(f"park_id {park_id} (ride_id {ride_id}) has parks.timezone {z.value!r}: {z.reason}")
        else:
            problems.append(f"ride_id {ride_id} of park_id {park_id} has no local day start")
    more = " (first 20 shown)" if len(bad) >= 20 else ""
    return (
        f"ride_status_snapshots for hour {hour} cannot be classified, so the hour was not written "
        f"(its previous rows are unchanged){more}: " + "; ".join(problems)
    )


def _describe_bad_weights(hour: Hour, bad: list[tuple], tables: str) -> str:
    problems = []
    for ride_id, ride_known, tier, tier_weight in bad:
        if not ride_known:
            problems.append(f"ride_id {ride_id} has a ride_hourly_stats row but no row in rides")
        elif tier_weight is not None:
            problems.append(f"ride_id {ride_id} has ride_classifications.tier_weight {tier_weight} (allowed: 1, 2, 3)")
        else:
            problems.append(f"ride_id {ride_id} has rides.tier {tier} (allowed: 1, 2, 3 or NULL)")
    return f"hour {hour}: a bad ride weight, so {tables} not written (previous rows unchanged): " + "; ".join(problems)
