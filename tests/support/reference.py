"""An independent, row-by-row Python reading of docs/DOMAIN.md, used to check the SQL.

Deliberately naive: it loops over every snapshot and shares no code with the package, so a
mistake in the set-based SQL and in this file would have to be the same mistake.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo


@dataclass
class RideSnap:
    snapshot_id: int
    ride_id: int
    recorded_at: datetime
    status: str | None
    computed_is_open: int | None
    wait_time: int | None


@dataclass
class ParkSnap:
    snapshot_id: int
    park_id: int
    recorded_at: datetime
    park_appears_open: int
    rides_open: int
    rides_closed: int
    avg_wait_time: Decimal | None


@dataclass
class Park:
    park_id: int
    timezone: str
    is_disney: int
    is_universal: int


@dataclass
class Ride:
    ride_id: int
    park_id: int
    tier: int | None
    tier_weight: int | None


def rnd(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _dedupe(snaps, key):
    best = {}
    for s in snaps:
        k = key(s)
        if k not in best or s.snapshot_id > best[k].snapshot_id:
            best[k] = s
    return list(best.values())


def load(db) -> tuple[dict, dict, list[RideSnap], list[ParkSnap]]:
    """Read every row of the source tables through a plain UTC connection."""
    parks = {r[0]: Park(*r) for r in db.query("SELECT park_id, timezone, is_disney, is_universal FROM parks")}
    rides = {
        r[0]: Ride(*r)
        for r in db.query(
            "SELECT r.ride_id, r.park_id, r.tier, rc.tier_weight FROM rides r "
            "LEFT JOIN ride_classifications rc ON rc.ride_id = r.ride_id"
        )
    }
    rs = [
        RideSnap(i, r, t.replace(tzinfo=UTC), st, c, w)
        for i, r, t, st, c, w in db.query(
            "SELECT snapshot_id, ride_id, recorded_at, status, computed_is_open, wait_time FROM ride_status_snapshots"
        )
    ]
    ps = [
        ParkSnap(i, p, t.replace(tzinfo=UTC), o, ro, rc, a)
        for i, p, t, o, ro, rc, a in db.query(
            "SELECT snapshot_id, park_id, recorded_at, park_appears_open, rides_open, rides_closed, avg_wait_time "
            "FROM park_activity_snapshots"
        )
    ]
    return parks, rides, rs, ps


def day_start(hour_start: datetime, zone: ZoneInfo) -> datetime:
    """The first UTC instant whose local calendar date is that of ``hour_start``.

    Found by walking whole minutes (every offset change is on one) forward from 30 hours before,
    asking only "which local date is this instant?": it builds no local midnight, so a mistake in
    park_days.py's construction of one (a DST gap, the wrong fold) shows up as a difference.
    """
    local_date = hour_start.astimezone(zone).date()
    instant = hour_start - timedelta(hours=30)
    while instant.astimezone(zone).date() != local_date:
        instant += timedelta(minutes=1)
    return instant


def is_open(s) -> bool:
    return s.status == "OPERATING" or (s.status is None and s.computed_is_open == 1)


def _operated(s, down_reporting: bool, known_to_operate: bool) -> bool:
    # DOWN at Disney/Universal signals operation only for a ride seen open before the hour's end.
    return is_open(s) or (down_reporting and known_to_operate and s.status == "DOWN")


def _is_down(s, down_reporting: bool) -> bool:
    if down_reporting:
        return s.status == "DOWN"
    return s.status in ("DOWN", "CLOSED") or (s.status is None and s.computed_is_open == 0)


def _park_open_at(s, park_polls) -> bool:
    near = [p for p in park_polls if abs((p.recorded_at - s.recorded_at).total_seconds()) <= 90]
    if not near:
        return False
    near.sort(key=lambda p: (abs((p.recorded_at - s.recorded_at).total_seconds()), p.recorded_at, -p.snapshot_id))
    return near[0].park_appears_open == 1


def hourly(parks, rides, ride_snaps, park_snaps, hour_start: datetime, interval_minutes: int = 10):
    """(ride rows, park rows) for the hour, keyed by ride_id / park_id, as DOMAIN.md defines them."""
    hour_end = hour_start + timedelta(hours=1)
    ride_snaps = _dedupe(ride_snaps, lambda s: (s.ride_id, s.recorded_at))
    park_snaps = _dedupe(park_snaps, lambda s: (s.park_id, s.recorded_at))
    by_ride = defaultdict(list)
    for s in ride_snaps:
        by_ride[s.ride_id].append(s)
    by_park = defaultdict(list)
    for s in park_snaps:
        by_park[s.park_id].append(s)

    day_starts: dict[int, datetime] = {}
    ride_rows = {}
    for ride_id, snaps in by_ride.items():
        in_hour = [s for s in snaps if hour_start <= s.recorded_at < hour_end]
        if not in_hour:
            continue
        ride = rides[ride_id]
        park = parks[ride.park_id]
        down_reporting = bool(park.is_disney or park.is_universal)
        if park.park_id not in day_starts:
            day_starts[park.park_id] = day_start(hour_start, ZoneInfo(park.timezone))
        start_of_day = day_starts[park.park_id]

        park_polls = by_park.get(ride.park_id, [])
        known = any(is_open(s) and s.recorded_at < hour_end for s in snaps)
        ops = [
            s.recorded_at
            for s in snaps
            if start_of_day <= s.recorded_at < hour_end and _operated(s, down_reporting, known)
        ]
        first_op = min(ops) if ops else None
        down = sum(
            1
            for s in in_hour
            if _is_down(s, down_reporting)
            and _park_open_at(s, park_polls)
            and first_op is not None
            and s.recorded_at >= first_op
        )
        opening = sum(1 for s in in_hour if is_open(s))
        waits = [s.wait_time for s in in_hour if is_open(s) and s.wait_time is not None and s.wait_time >= 0]
        ride_rows[ride_id] = {
            "park_id": ride.park_id,
            "snapshot_count": len(in_hour),
            "operating_snapshots": opening,
            "down_snapshots": down,
            "downtime_hours": rnd(min(Decimal(down * interval_minutes) / 60, Decimal(1)), 2),
            "uptime_percentage": rnd(Decimal(100 * opening) / len(in_hour), 2),
            "avg_wait_time_minutes": rnd(Decimal(sum(waits)) / len(waits), 2) if waits else None,
            "ride_operated": 1 if first_op is not None else 0,
        }

    park_rows = {}
    for park_id, snaps in by_park.items():
        in_hour = [s for s in snaps if hour_start <= s.recorded_at < hour_end]
        if not in_hour:
            continue
        open_snaps = [s for s in in_hour if s.park_appears_open == 1]
        operated_rides = [
            (rid, row) for rid, row in ride_rows.items() if row["park_id"] == park_id and row["ride_operated"]
        ]

        def weight(rid):
            r = rides[rid]
            if r.tier_weight is not None:
                return r.tier_weight
            return {1: 3, 2: 2, 3: 1}.get(r.tier, 2)

        total = sum((row["downtime_hours"] for _, row in operated_rides), Decimal(0))
        weighted = sum((row["downtime_hours"] * weight(rid) for rid, row in operated_rides), Decimal(0))
        eff = sum(weight(rid) for rid, _ in operated_rides)
        park_rows[park_id] = {
            "snapshot_count": len(in_hour),
            "park_was_open": 1 if open_snaps else 0,
            "avg_wait_time_minutes": (
                rnd(
                    sum(s.avg_wait_time for s in open_snaps if s.avg_wait_time is not None)
                    / len([s for s in open_snaps if s.avg_wait_time is not None]),
                    2,
                )
                if any(s.avg_wait_time is not None for s in open_snaps)
                else None
            ),
            "rides_operating": int(rnd(Decimal(sum(s.rides_open for s in open_snaps)) / len(open_snaps), 0))
            if open_snaps
            else None,
            "rides_down": int(rnd(Decimal(sum(s.rides_closed for s in open_snaps)) / len(open_snaps), 0))
            if open_snaps
            else None,
            "total_downtime_hours": rnd(total, 2),
            "weighted_downtime_hours": rnd(weighted, 2),
            "effective_park_weight": rnd(Decimal(eff), 2),
            "shame_score": rnd(Decimal(10) * weighted / eff, 1) if eff else Decimal("0.0"),
        }
    return ride_rows, park_rows


RIDE_COLUMNS = (
    "park_id",
    "snapshot_count",
    "operating_snapshots",
    "down_snapshots",
    "downtime_hours",
    "uptime_percentage",
    "avg_wait_time_minutes",
    "ride_operated",
)
PARK_COLUMNS = (
    "snapshot_count",
    "park_was_open",
    "avg_wait_time_minutes",
    "rides_operating",
    "rides_down",
    "total_downtime_hours",
    "weighted_downtime_hours",
    "effective_park_weight",
    "shame_score",
)


def stored(db, hour_start: datetime):
    """The rows the package wrote for the hour, in the reference's shape."""
    h = hour_start.strftime("%Y-%m-%d %H:%M:%S")
    rides = {
        r[0]: dict(zip(RIDE_COLUMNS, r[1:], strict=True))
        for r in db.query(
            f"SELECT ride_id, {', '.join(RIDE_COLUMNS)} FROM ride_hourly_stats WHERE hour_start_utc = %s", (h,)
        )
    }
    parks = {
        r[0]: dict(zip(PARK_COLUMNS, r[1:], strict=True))
        for r in db.query(
            f"SELECT park_id, {', '.join(PARK_COLUMNS)} FROM park_hourly_stats WHERE hour_start_utc = %s", (h,)
        )
    }
    return rides, parks
