"""A seeded generator of realistic tracker data: parks, rides and collector snapshots.

Used by `make demo`, the tests and the benchmark, at any size. Same seed and settings, same rows.
What it produces, per park day: 10-minute polls over opening hours (plus an hour either side
with the park closed), wait times following a daily curve by ride tier, breakdowns of varied
length (DOWN at Disney/Universal, CLOSED elsewhere), one ride that never opens, one under
refurbishment, a legacy-collector park whose rows have no status, and park snapshots written a
few seconds after the ride polls.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from themepark_hourly.sql_files import named_statements

SQL_FILE = "sample_data.sql"

# name, IANA zone, disney, universal, opening hour, closing hour (local)
PARK_CATALOG = [
    ("Magic Kingdom", "America/New_York", True, False, 9, 22),
    ("Universal Studios Florida", "America/New_York", False, True, 9, 21),
    ("Disneyland Park Paris", "Europe/Paris", True, False, 9, 22),
    ("Europa-Park", "Europe/Berlin", False, False, 9, 18),
    ("Efteling", "Europe/Amsterdam", False, False, 10, 20),
    ("Cedar Point", "America/New_York", False, False, 10, 22),
    ("Tokyo DisneySea", "Asia/Tokyo", True, False, 9, 21),
    ("Six Flags Magic Mountain", "America/Los_Angeles", False, False, 10, 20),
    ("PortAventura Park", "Europe/Madrid", False, False, 10, 23),
    ("Alton Towers", "Europe/London", False, False, 10, 18),
]
RIDE_WORDS = [
    "Mountain",
    "Coaster",
    "Flight",
    "River",
    "Mansion",
    "Express",
    "Tower",
    "Voyage",
    "Carousel",
    "Safari",
    "Rapids",
    "Galaxy",
    "Pirates",
    "Dragon",
    "Jungle",
    "Spinner",
]
TIER_BASE_WAIT = {1: 55, 2: 30, 3: 12}
SAMPLE_PARK_ID_BASE = 900_000  # sample parks never collide with a real tracker's ids
SAMPLE_RIDE_ID_BASE = 9_000_000


@dataclass(frozen=True)
class SampleSpec:
    parks: int = 8
    rides_per_park: int = 15
    first_day: date = date(2025, 7, 4)
    days: int = 1
    seed: int = 42
    interval_minutes: int = 10
    legacy_status_park: bool = True  # one park's collector writes no status (older tracker)
    # A collector that polls around the clock (closed parks report every ride CLOSED), as the
    # benchmark's tracker does; by default polls cover opening hours plus an hour either side.
    all_day_polls: bool = False


@dataclass(frozen=True)
class Park:
    park_id: int
    name: str
    timezone: str
    is_disney: bool
    is_universal: bool
    opens: int
    closes: int


@dataclass(frozen=True)
class Ride:
    ride_id: int
    park_id: int
    name: str
    tier: int | None
    tier_weight: int | None
    behaviour: str  # 'normal', 'never_opens', 'refurbishment', 'down_at_opening'


class Sample:
    """Parks and rides of a spec; snapshots are produced lazily, day by day."""

    def __init__(self, spec: SampleSpec) -> None:
        self.spec = spec
        rng = random.Random(spec.seed)
        self.parks: list[Park] = []
        self.rides: list[Ride] = []
        for i in range(spec.parks):
            name, tz, disney, universal, opens, closes = PARK_CATALOG[i % len(PARK_CATALOG)]
            if i >= len(PARK_CATALOG):
                name = f"{name} {i // len(PARK_CATALOG) + 1}"
            park = Park(SAMPLE_PARK_ID_BASE + i + 1, name, tz, disney, universal, opens, closes)
            self.parks.append(park)
            for j in range(spec.rides_per_park):
                ride_id = SAMPLE_RIDE_ID_BASE + (i + 1) * 1000 + j + 1
                tier = rng.choices([1, 2, 3, None], weights=[2, 4, 4, 1])[0]
                tier_weight = rng.choice([1, 2, 3]) if rng.random() < 0.1 else None
                behaviour = "normal"
                if j == 0:
                    behaviour = "never_opens"
                elif j == 1:
                    behaviour = "refurbishment"
                elif j == 2 and (disney or universal):
                    behaviour = "down_at_opening"
                words = rng.sample(RIDE_WORDS, 2)
                self.rides.append(
                    Ride(ride_id, park.park_id, f"{words[0]} {words[1]} {j + 1}", tier, tier_weight, behaviour)
                )
        self.legacy_park_id = self.parks[3].park_id if spec.legacy_status_park and len(self.parks) > 3 else None

    # -- rows -------------------------------------------------------------------------------------
    def park_rows(self) -> list[tuple]:
        return [(p.park_id, p.name, p.timezone, int(p.is_disney), int(p.is_universal)) for p in self.parks]

    def ride_rows(self) -> list[tuple]:
        return [(r.ride_id, r.park_id, r.name, r.tier) for r in self.rides]

    def classification_rows(self) -> list[tuple]:
        return [(r.ride_id, r.tier, r.tier_weight) for r in self.rides if r.tier_weight is not None]

    def days(self) -> list[date]:
        return [self.spec.first_day + timedelta(days=k) for k in range(self.spec.days)]

    def snapshots(self, day: date) -> tuple[list[tuple], list[tuple]]:
        """(ride snapshot rows, park snapshot rows) of every park's local ``day``."""
        ride_rows: list[tuple] = []
        park_rows: list[tuple] = []
        rides_by_park: dict[int, list[Ride]] = {}
        for r in self.rides:
            rides_by_park.setdefault(r.park_id, []).append(r)
        for park in self.parks:
            rng = random.Random(f"{self.spec.seed}/{park.park_id}/{day.isoformat()}")
            rs, ps = self._park_day(park, rides_by_park.get(park.park_id, []), day, rng)
            ride_rows.extend(rs)
            park_rows.extend(ps)
        return ride_rows, park_rows

    def _park_day(self, park: Park, rides: list[Ride], day: date, rng: random.Random):
        zone = ZoneInfo(park.timezone)
        step = timedelta(minutes=self.spec.interval_minutes)
        opens = datetime(day.year, day.month, day.day, park.opens, tzinfo=zone).astimezone(UTC)
        closes = datetime(day.year, day.month, day.day, park.closes, tzinfo=zone).astimezone(UTC)
        polls = []
        if self.spec.all_day_polls:
            first = datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
            last = (datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(days=1)).astimezone(UTC)
        else:
            first, last = opens - timedelta(hours=1), closes + timedelta(hours=1)
        # The collector's clock is not on the minute: polls at :MM:SS with a per-day offset.
        t = first + timedelta(seconds=rng.randint(0, 59))
        while t < last:
            polls.append(t)
            t += step
        down_reporting = park.is_disney or park.is_universal
        breakdown_status = "DOWN" if down_reporting else "CLOSED"
        # Breakdowns: per ride, 0-3 a day, 1 to 12 polls long, anywhere in opening hours.
        outages: dict[int, set[int]] = {}
        open_idx = [k for k, p in enumerate(polls) if opens <= p < closes]
        for r in rides:
            hits: set[int] = set()
            for _ in range(rng.choice([0, 0, 1, 1, 1, 2, 2, 3])):
                start = rng.choice(open_idx)
                hits.update(range(start, start + rng.choice([1, 1, 2, 3, 4, 6, 9, 12])))
            if r.behaviour == "down_at_opening":
                hits.update(open_idx[:3])
            outages[r.ride_id] = hits
        ride_rows = []
        park_rows = []
        for k, poll in enumerate(polls):
            park_open = opens <= poll < closes
            hour = (poll.astimezone(zone).hour + poll.astimezone(zone).minute / 60) if park_open else 0
            # Busiest mid-afternoon: a bump centred on 14:30 local.
            crowd = 0.35 + 0.65 * math.exp(-((hour - 14.5) ** 2) / 12) if park_open else 0
            waits, n_open, n_closed = [], 0, 0
            for r in rides:
                at = poll + timedelta(seconds=rng.randint(0, 3))
                if r.behaviour == "refurbishment":
                    status, wait = "REFURBISHMENT", None
                elif not park_open or r.behaviour == "never_opens":
                    status, wait = "CLOSED", None
                elif k in outages[r.ride_id]:
                    status, wait = breakdown_status, None
                else:
                    base = TIER_BASE_WAIT.get(r.tier, 20)
                    status = "OPERATING"
                    wait = max(0, int(round(base * crowd + rng.gauss(0, base * 0.15))) // 5 * 5)
                is_open = status == "OPERATING"
                if park_open:
                    n_open += is_open
                    n_closed += not is_open
                    if is_open:
                        waits.append(wait)
                legacy = park.park_id == self.legacy_park_id
                ride_rows.append(
                    (r.ride_id, at.strftime("%Y-%m-%d %H:%M:%S"), wait, int(is_open), None if legacy else status)
                )
            # The collector writes the park row a few seconds after the ride rows, sometimes
            # across a minute boundary.
            park_at = poll + timedelta(seconds=rng.randint(3, 40))
            avg = round(sum(waits) / len(waits), 2) if waits else None
            park_rows.append(
                (
                    park.park_id,
                    park_at.strftime("%Y-%m-%d %H:%M:%S"),
                    len(rides),
                    n_open,
                    n_closed,
                    avg,
                    max(waits) if waits else None,
                    int(park_open and n_open > 0),
                )
            )
        return ride_rows, park_rows


def _chunks(rows: list[tuple], size: int) -> Iterator[list[tuple]]:
    for k in range(0, len(rows), size):
        yield rows[k : k + size]


def write(conn: Any, sample: Sample, chunk: int = 5000) -> dict[str, int]:
    """Insert the sample's parks, rides and every day's snapshots; commit; return row counts."""
    sql = named_statements(SQL_FILE)
    counts = {"parks": 0, "rides": 0, "ride_snapshots": 0, "park_snapshots": 0}
    cur = conn.cursor()
    try:
        cur.executemany(sql["insert_parks"], sample.park_rows())
        cur.executemany(sql["insert_rides"], sample.ride_rows())
        if sample.classification_rows():
            cur.executemany(sql["insert_classifications"], sample.classification_rows())
        counts["parks"], counts["rides"] = len(sample.parks), len(sample.rides)
        for day in sample.days():
            ride_rows, park_rows = sample.snapshots(day)
            for part in _chunks(ride_rows, chunk):
                cur.executemany(sql["insert_ride_snapshots"], part)
            for part in _chunks(park_rows, chunk):
                cur.executemany(sql["insert_park_snapshots"], part)
            counts["ride_snapshots"] += len(ride_rows)
            counts["park_snapshots"] += len(park_rows)
            conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        cur.close()
    return counts
