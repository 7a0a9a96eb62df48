"""The coverage view's data: the state of every hour of a range, read from the tracker database.

One state per hour (docs/COVERAGE.md says what each means and what to do about it). The reads are
a constant number of set-based statements whatever the range (sql/coverage/coverage.sql); the
Airflow runs of the range, when the caller has them, come in as plain values so that this module
needs no Airflow. The web layer is coverage_app.py.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from themepark_hourly import config, db
from themepark_hourly.sql_files import named_statements

COVERAGE_SQL = "coverage/coverage.sql"
DEFAULT_DAYS = 14
MAX_DAYS = 366
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class State:
    key: str
    label: str
    meaning: str
    mark: str  # a glyph, so that a state reads without its colour


# In the order of the legend. "Under way" wins over what the log says of an earlier attempt.
STATES: tuple[State, ...] = (
    State("ok", "Stats written", "stats written and the hour's checks passed", "✓"),
    State("late", "Redone for late snapshots", "stats rewritten after late snapshots arrived; checks passed", "↻"),
    State("failed", "Failed", "the hour's latest run or late-data redo failed; earlier stats, if any, are kept", "✗"),
    State("checks_failed", "Checks failed", "stats written, but the hour's checks failed", "!"),
    State("gap", "Snapshots, no stats", "snapshots were collected but no stats were written: backfill it", "?"),
    State(
        "empty",
        "No snapshots",
        "no snapshot at all: the collector was off or silent (or, for one park, did not poll it while closed)",
        "·",
    ),
    State("running", "Under way", "an Airflow run of the hour is queued or running", "…"),
    State("future", "Not settled yet", "the hour has not ended and settled yet", ""),
)
STATE_KEYS = tuple(s.key for s in STATES)
# What a backfill can mend: the "Select what needs a backfill" button picks these.
NEEDS_BACKFILL = ("gap", "failed", "checks_failed")


class BadParameter(ValueError):
    """A request parameter the view refuses; the message names it and its value."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name


@dataclass(frozen=True)
class Park:
    park_id: int
    name: str
    timezone: str


@dataclass(frozen=True)
class Request:
    """What the caller asked for, checked: days ``start``..``end`` (inclusive), in UTC or a park's time."""

    start: date
    end: date
    park_id: int | None
    park_time: bool  # rows and columns in the park's local days and hours


@dataclass(frozen=True)
class LogRow:
    log_id: int
    hour: datetime
    status: str
    reason: str
    run_id: str | None
    triggered_by_run_id: str | None
    started_at: datetime | None
    completed_at: datetime | None
    attempts: int
    failed_attempts: int
    last_failed_task: str | None
    last_failed_at: datetime | None
    error: str | None
    late_snapshots: int | None
    parks_processed: int
    rides_processed: int

    @property
    def airflow_run_id(self) -> str | None:
        """The Airflow run that wrote the row: a late-data redo's row is named after the run that redid it."""
        return self.triggered_by_run_id if self.reason == "late_data" else self.run_id

    def as_dict(self) -> dict[str, Any]:
        return {
            "log_id": self.log_id,
            "hour": iso(self.hour),
            "status": self.status,
            "reason": self.reason,
            "run_id": self.run_id,
            "airflow_run_id": self.airflow_run_id,
            "started_at": iso(self.started_at),
            "completed_at": iso(self.completed_at),
            "attempts": self.attempts,
            "failed_attempts": self.failed_attempts,
            "last_failed_task": self.last_failed_task,
            "last_failed_at": iso(self.last_failed_at),
            "error": self.error,
            "late_snapshots": self.late_snapshots,
            "parks_processed": self.parks_processed,
            "rides_processed": self.rides_processed,
        }


@dataclass(frozen=True)
class AirflowRun:
    run_id: str
    state: str  # queued, running, success, failed
    run_type: str


@dataclass
class Cell:
    hour: datetime  # UTC start of the hour
    state: str
    summary: str
    run_id: str | None = None  # the Airflow run to link to
    # The reprocess behaviour a backfill needs to redo the hour: "failed" also runs hours without a
    # run; "completed" where the hour's own run succeeded (a late-data redo failed after it).
    reprocess: str = "failed"

    def as_dict(self) -> dict[str, Any]:
        return {
            "hour": iso(self.hour), "state": self.state, "summary": self.summary, "run_id": self.run_id,
            "reprocess": self.reprocess,
        }  # fmt: skip


@dataclass
class Grid:
    request: Request
    park: Park | None
    time_zone: str  # "UTC" or the park's IANA zone
    first_hour: datetime  # UTC
    end_hour: datetime  # UTC, exclusive
    # (day, 24 columns); a column holds the UTC hours shown there: one, none where a DST change
    # skips the local hour, two where it repeats it.
    rows: list[tuple[date, list[list[Cell]]]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.request.start.isoformat(),
            "end": self.request.end.isoformat(),
            "park": None if self.park is None else vars(self.park),
            "time_zone": self.time_zone,
            "first_hour": iso(self.first_hour),
            "end_hour": iso(self.end_hour),
            "counts": self.counts,
            "days": [
                {"day": day.isoformat(), "hours": [[c.as_dict() for c in column] for column in columns]}
                for day, columns in self.rows
            ],
        }


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


# ---------------------------------------------------------------------------- parameters

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


# The days a range may hold: the tracker's TIMESTAMP columns start in 1970, and a bound keeps the
# date arithmetic of the range far from date's limits.
FIRST_DAY, LAST_DAY = date(1970, 1, 2), date(2099, 12, 31)


def _parse_date(name: str, value: str) -> date:
    if not _DATE.fullmatch(value):
        raise BadParameter(name, f"{value!r} is not a date (YYYY-MM-DD)")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise BadParameter(name, f"{value!r} is not a date (YYYY-MM-DD)") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise BadParameter(name, f"{value} is outside {FIRST_DAY}..{LAST_DAY}")
    return day


def parse_request(start: str | None, end: str | None, park: str | None, tz: str | None, today: date) -> Request:
    """Check the view's query parameters; empty means the default (the last 14 days, all parks, UTC)."""
    end_day = _parse_date("end", end) if end else today
    start_day = _parse_date("start", start) if start else end_day - timedelta(days=DEFAULT_DAYS - 1)
    if start_day < FIRST_DAY:
        raise BadParameter("start", f"{start_day} is before {FIRST_DAY}")
    if start_day > end_day:
        raise BadParameter("start", f"{start_day} is after end {end_day}")
    days = (end_day - start_day).days + 1
    if days > MAX_DAYS:
        raise BadParameter("end", f"the range {start_day}..{end_day} has {days} days; at most {MAX_DAYS}")
    park_id = None
    if park:
        if not re.fullmatch(r"[0-9]{1,10}", park) or not 0 < int(park) < 2**31:
            raise BadParameter("park", f"{park!r} is not a park id")
        park_id = int(park)
    tz = tz or "utc"
    if tz not in ("utc", "park"):
        raise BadParameter("tz", f"{tz!r} is neither 'utc' nor 'park'")
    if tz == "park" and park_id is None:
        raise BadParameter("tz", "'park' needs a park")
    return Request(start_day, end_day, park_id, tz == "park")


def parse_hour(value: str | None) -> datetime:
    """A cell's hour as the view sends it: ISO 8601 in UTC on the hour, e.g. 2025-07-04T14:00:00Z."""
    if not value:
        raise BadParameter("hour", "missing (e.g. 2025-07-04T14:00:00Z)")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadParameter("hour", f"{value!r} is not an ISO 8601 time (e.g. 2025-07-04T14:00:00Z)") from None
    if parsed.tzinfo is None or parsed.utcoffset() != timedelta(0):
        raise BadParameter("hour", f"{value!r} is not in UTC (end it with Z)")
    if parsed.minute or parsed.second or parsed.microsecond:
        raise BadParameter("hour", f"{value!r} is not on the hour")
    if not FIRST_DAY <= parsed.date() <= LAST_DAY:
        raise BadParameter("hour", f"{value!r} is outside {FIRST_DAY}..{LAST_DAY}")
    return parsed.replace(tzinfo=None)


# ---------------------------------------------------------------------------- reading


def _sql() -> dict[str, str]:
    return named_statements(COVERAGE_SQL)


def parks(conn: Any) -> list[Park]:
    return [Park(int(r[0]), r[1], r[2]) for r in db.query_all(conn, _sql()["parks"])]


def park(conn: Any, park_id: int) -> Park:
    row = db.query_one(conn, _sql()["park"], {"park_id": park_id})
    if row is None:
        raise BadParameter("park", f"no park with id {park_id} in table parks")
    return Park(int(row[0]), row[1], row[2])


def newest_snapshot_day(conn: Any) -> date | None:
    """The UTC day of the newest ride snapshot (one dive into idx_rss_recorded_at), None if there is none."""
    row = db.query_one(conn, _sql()["newest_snapshot"])
    return None if row is None or row[0] is None else row[0].date()


def _naive_utc(value: datetime) -> datetime:
    """A plain naive UTC datetime, as the database returns them (pendulum's lose in arithmetic)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return datetime(value.year, value.month, value.day, value.hour, value.minute, value.second, value.microsecond)


def hour_bounds(request: Request, zone: str) -> tuple[datetime, datetime]:
    """The UTC hours [first, end) of the request's days, midnight to midnight in ``zone``."""
    import pendulum

    tz = pendulum.timezone(zone)
    first = pendulum.datetime(request.start.year, request.start.month, request.start.day, tz=tz)
    after = request.end + timedelta(days=1)
    end = pendulum.datetime(after.year, after.month, after.day, tz=tz)
    # A UTC hour belongs to the local day and hour its middle falls in: in a zone off the UTC hour
    # (+05:30, +05:45, -03:30) each local day still has 24 of them (23 or 25 on a DST change).
    first_utc = _naive_utc(first).replace(minute=0, second=0, microsecond=0)
    end_utc = _naive_utc(end).replace(minute=0, second=0, microsecond=0)
    return first_utc, end_utc


def _log_row(r: Sequence[Any]) -> LogRow:
    return LogRow(
        log_id=int(r[0]), hour=r[1], status=r[2], reason=r[3], run_id=r[4], triggered_by_run_id=r[5],
        started_at=r[6], completed_at=r[7], attempts=int(r[8]), failed_attempts=int(r[9]),
        last_failed_task=r[10], last_failed_at=r[11], error=r[12], late_snapshots=r[13],
        parks_processed=int(r[14]), rides_processed=int(r[15]),
    )  # fmt: skip


@dataclass(frozen=True)
class HourData:
    has_snapshots: bool  # not probed where park stats exist: they were made from snapshots
    has_park_stats: bool
    has_ride_stats: bool


def read_hours(conn: Any, first_hour: datetime, end_hour: datetime, park_id: int | None) -> dict[datetime, HourData]:
    """What the tables hold of each hour of [first_hour, end_hour): at most six statements whatever the range."""
    sql = _sql()
    scope = "all" if park_id is None else "park"
    params = {"first_hour": first_hour, "end_hour": end_hour, "park_id": park_id}
    park_stats = {r[0] for r in db.query_all(conn, sql[f"park_stats_hours_{scope}"], params)}
    ride_stats = {r[0] for r in db.query_all(conn, sql[f"ride_stats_hours_{scope}"], params)}
    hours = [first_hour + i * HOUR for i in range(int((end_hour - first_hour) / HOUR))]
    first_snapshot, last_snapshot = db.query_one(conn, sql["snapshot_span"], params)
    unknown = []
    if first_snapshot is not None:
        unknown = [h for h in hours if h not in park_stats and h <= last_snapshot and h + HOUR > first_snapshot]
    rides: tuple[int, ...] | None = None
    if park_id is not None:
        rides = tuple(int(r[0]) for r in db.query_all(conn, sql["park_rides"], params))
        if not rides:  # a park without rides has no snapshots
            unknown = []
    with_snapshots: set[datetime] = set()
    if unknown:
        probe = sql[f"snapshot_probe_{scope}"]
        args: list[Any] = []
        for hour in unknown:
            args += [hour, hour, hour + HOUR] if rides is None else [hour, rides, hour, hour + HOUR]
        statement = "\nUNION ALL\n".join([probe] * len(unknown))
        with_snapshots = {r[0] for r in db.query_all(conn, statement, args) if r[1]}
    return {h: HourData(h in park_stats or h in with_snapshots, h in park_stats, h in ride_stats) for h in hours}


def read_log(conn: Any, first_hour: datetime, end_hour: datetime) -> dict[datetime, list[LogRow]]:
    params = {"dag_id": config.DAG_ID, "first_hour": first_hour, "end_hour": end_hour}
    by_hour: dict[datetime, list[LogRow]] = {}
    for r in db.query_all(conn, _sql()["log_rows"], params):
        row = _log_row(r)
        by_hour.setdefault(row.hour, []).append(row)
    return by_hour


# ---------------------------------------------------------------------------- states


def _latest(rows: Iterable[LogRow]) -> LogRow | None:
    return max(rows, key=lambda r: (r.completed_at or r.started_at or datetime.min, r.log_id), default=None)


def _when(value: datetime | None) -> str:
    return "?" if value is None else f"{value:%Y-%m-%d %H:%M} UTC"


def classify(
    hour: datetime,
    data: HourData,
    log_rows: Sequence[LogRow],
    runs: Sequence[AirflowRun],
    now: datetime,
    settle: timedelta,
) -> Cell:
    """The state of one hour from what the database and Airflow say of it (docs/COVERAGE.md)."""
    # Only finished rows say anything: the log writes 'success' or 'failed' (a 'running' row left by
    # another writer would pin the hour as under way for ever).
    log_rows = [r for r in log_rows if r.status in ("success", "failed")]
    latest = _latest(log_rows)
    run_link = latest.airflow_run_id if latest else (runs[0].run_id if runs else None)
    active = [r for r in runs if r.state in ("queued", "running")]
    if active:
        return Cell(hour, "running", f"Airflow run {active[0].run_id} is {active[0].state}", active[0].run_id)
    if latest is not None and latest.status == "failed":
        tries = f"{latest.failed_attempts} failed of {latest.attempts} attempt{'s' if latest.attempts != 1 else ''}"
        error = (latest.error or "").strip().splitlines()[0:1]
        detail = f": {error[0][:200]}" if error else ""
        state = "checks_failed" if latest.last_failed_task == "check" else "failed"
        what = "checks" if state == "checks_failed" else (latest.last_failed_task or "?")
        if latest.reason == "late_data":
            # The hour's own run succeeded: Airflow reprocesses it only with "completed".
            return Cell(
                hour, state,
                f"redo for {latest.late_snapshots} late snapshots: {what} failed {_when(latest.completed_at)} "
                f"({tries}){detail}; the hour's own run succeeded, so a backfill must reprocess completed runs",
                run_link, reprocess="completed",
            )  # fmt: skip
        return Cell(hour, state, f"{what} failed {_when(latest.completed_at)} ({tries}){detail}", run_link)
    if latest is None and not data.has_park_stats and hour + HOUR + settle > now:
        return Cell(hour, "future", f"settles at {_when(hour + HOUR + settle)}", run_link)
    if data.has_park_stats:
        late = [r for r in log_rows if r.reason == "late_data" and r.status == "success"]
        if latest is not None and latest.reason == "late_data":
            n = latest.late_snapshots
            return Cell(
                hour,
                "late",
                f"redone {_when(latest.completed_at)} for {n if n is not None else '?'} late snapshots",
                run_link,
            )
        suffix = f"; redone {len(late)}x for late snapshots before" if late else ""
        who = f" by {latest.run_id}" if latest is not None else " (no aggregation_log row)"
        return Cell(hour, "ok", f"stats written{who}{suffix}", run_link)
    if data.has_snapshots:
        if data.has_ride_stats:
            why = "ride stats without park stats"
        elif latest is not None:
            why = f"run {latest.run_id} wrote none"
        else:
            why = "no run wrote this hour"
        return Cell(hour, "gap", f"snapshots but no stats: {why}", run_link)
    ran = f"; run {latest.run_id} found nothing to aggregate" if latest is not None else ""
    return Cell(hour, "empty", f"no snapshots{ran}", run_link)


def build_grid(
    conn: Any,
    request: Request,
    runs_between: Callable[[datetime, datetime], Mapping[datetime, Sequence[AirflowRun]]] | None = None,
    now: datetime | None = None,
) -> Grid:
    """The grid of ``request``: three set-based reads (and the Airflow runs of its hours, from
    ``runs_between(first_hour, end_hour)``), then one state per hour."""
    import pendulum

    chosen = park(conn, request.park_id) if request.park_id is not None else None
    zone = chosen.timezone if (chosen is not None and request.park_time) else "UTC"
    try:
        tz = pendulum.timezone(zone)
    except ValueError:
        raise BadParameter("park", f"park {chosen.park_id} has time zone {zone!r}, which is not an IANA zone") from None
    first_hour, end_hour = hour_bounds(request, zone)
    hours = read_hours(conn, first_hour, end_hour, request.park_id)
    log = read_log(conn, first_hour, end_hour)
    now = _naive_utc(now or datetime.now(UTC))
    settle = config.settle()
    runs_by_hour = runs_between(first_hour, end_hour) if runs_between else {}
    grid = Grid(request, chosen, zone, first_hour, end_hour)
    days: dict[date, list[list[Cell]]] = {}
    day = request.start
    while day <= request.end:
        days[day] = [[] for _ in range(24)]
        day += timedelta(days=1)
    counts: Counter[str] = Counter()
    empty = HourData(False, False, False)
    hour = first_hour
    while hour < end_hour:
        cell = classify(hour, hours.get(hour, empty), log.get(hour, ()), runs_by_hour.get(hour, ()), now, settle)
        local = pendulum.instance((hour + HOUR / 2).replace(tzinfo=UTC)).in_timezone(tz)
        if local.date() in days:
            days[local.date()][local.hour].append(cell)
            counts[cell.state] += 1
        hour += HOUR
    grid.rows = list(days.items())
    grid.counts = {key: counts.get(key, 0) for key in STATE_KEYS}
    return grid


def cell_details(conn: Any, hour: datetime, park_id: int | None) -> dict[str, Any]:
    """What the view shows for one clicked hour: its log rows and what the tables hold of it."""
    sql = _sql()
    if park_id is not None:
        park(conn, park_id)
        rides = tuple(int(r[0]) for r in db.query_all(conn, sql["park_rides"], {"park_id": park_id}))
        params = {"hour": hour, "park_id": park_id, "ride_ids": rides or (0,)}  # ride 0: no ride
        counts = db.query_one(conn, sql["cell_counts_park"], params)
    else:
        counts = db.query_one(conn, sql["cell_counts_all"], {"hour": hour})
    rows = [_log_row(r) for r in db.query_all(conn, sql["cell_log_rows"], {"dag_id": config.DAG_ID, "hour": hour})]
    snapshots, ride_rows, park_rows = (int(v) for v in counts)
    return {
        "hour": iso(hour),
        "park_id": park_id,
        "ride_snapshots": snapshots,
        "ride_hourly_stats_rows": ride_rows,
        "park_hourly_stats_rows": park_rows,
        "log": [r.as_dict() for r in rows],
    }
