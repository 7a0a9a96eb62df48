"""A small builder for hand-written tracker data: parks, rides and snapshots, written to a test DB."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


def ts(text: str) -> datetime:
    """'2025-12-08 14:05:00' as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class Tracker:
    parks: list[tuple] = field(default_factory=list)
    rides: list[tuple] = field(default_factory=list)
    classifications: list[tuple] = field(default_factory=list)
    ride_snaps: list[tuple] = field(default_factory=list)
    park_snaps: list[tuple] = field(default_factory=list)

    def park(self, park_id: int, tz: str = "UTC", disney: bool = False, universal: bool = False) -> Tracker:
        self.parks.append((park_id, f"Park {park_id}", tz, int(disney), int(universal)))
        return self

    def ride(self, ride_id: int, park_id: int, tier: int | None = None, tier_weight: int | None = None) -> Tracker:
        self.rides.append((ride_id, park_id, f"Ride {ride_id}", tier))
        if tier_weight is not None:
            self.classifications.append((ride_id, tier, tier_weight))
        return self

    def snap(
        self,
        ride_id: int,
        at: str | datetime,
        status: str | None,
        wait: int | None = None,
        computed_is_open: int | None = None,
    ) -> Tracker:
        when = ts(at) if isinstance(at, str) else at
        if computed_is_open is None:
            computed_is_open = 1 if status == "OPERATING" else 0
        self.ride_snaps.append((ride_id, when.strftime("%Y-%m-%d %H:%M:%S"), wait, computed_is_open, status))
        return self

    def park_snap(
        self,
        park_id: int,
        at: str | datetime,
        open_: bool = True,
        rides_open: int = 0,
        rides_closed: int = 0,
        avg_wait: float | None = None,
    ) -> Tracker:
        when = ts(at) if isinstance(at, str) else at
        self.park_snaps.append(
            (
                park_id,
                when.strftime("%Y-%m-%d %H:%M:%S"),
                rides_open + rides_closed,
                rides_open,
                rides_closed,
                avg_wait,
                int(open_),
            )
        )
        return self

    def park_open_all_hour(
        self, park_id: int, hour: str, every_minutes: int = 10, offset_seconds: int = 5, open_: bool = True
    ) -> Tracker:
        start = ts(hour)
        for k in range(0, 60, every_minutes):
            self.park_snap(park_id, start + timedelta(minutes=k, seconds=offset_seconds), open_)
        return self

    def write(self, db) -> None:
        if self.parks:
            db.executemany(
                "INSERT INTO parks (park_id, name, timezone, is_disney, is_universal) VALUES (%s,%s,%s,%s,%s)",
                self.parks,
            )
        if self.rides:
            db.executemany("INSERT INTO rides (ride_id, park_id, name, tier) VALUES (%s,%s,%s,%s)", self.rides)
        if self.classifications:
            db.executemany(
                "INSERT INTO ride_classifications (ride_id, tier, tier_weight) VALUES (%s,%s,%s)", self.classifications
            )
        if self.ride_snaps:
            db.executemany(
                "INSERT INTO ride_status_snapshots (ride_id, recorded_at, wait_time, computed_is_open, status) VALUES (%s,%s,%s,%s,%s)",
                self.ride_snaps,
            )
        if self.park_snaps:
            db.executemany(
                "INSERT INTO park_activity_snapshots (park_id, recorded_at, total_rides_tracked, rides_open, rides_closed, "
                "avg_wait_time, park_appears_open) VALUES (%s,%s,%s,%s,%s,%s,%s)",
                self.park_snaps,
            )
        self.parks, self.rides, self.classifications, self.ride_snaps, self.park_snaps = [], [], [], [], []
