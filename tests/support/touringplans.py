"""Loads the TouringPlans.com Animal Kingdom fixture (tests/fixtures/touringplans-animal-kingdom,
data credit TouringPlans.com, licence terms in LICENSE.md there) into tracker tables, mapped as
its README says."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "touringplans-animal-kingdom"
PARK_ID = 1
PARK_TZ = "America/New_York"
# ride_id, file, name, tier
RIDES = [
    (85, "AK85.csv", "Na'Vi River Journey", 2),
    (86, "AK86.csv", "Avatar: Flight of Passage", 1),
    (17, "AK17.csv", "The Boneyard", 3),
    (25, "AK25.csv", "Expedition Everest single rider", 1),
]


def readings() -> dict[int, list[tuple[datetime, int]]]:
    """ride_id -> [(recorded_at UTC, SPOSTMIN)], from the CSVs' US Eastern local times."""
    zone = ZoneInfo(PARK_TZ)
    out: dict[int, list[tuple[datetime, int]]] = {}
    for ride_id, name, _, _ in RIDES:
        with open(FIXTURE / name, newline="") as f:
            out[ride_id] = [
                (datetime.fromisoformat(row["datetime"]).replace(tzinfo=zone).astimezone(UTC), int(row["SPOSTMIN"]))
                for row in csv.DictReader(f)
            ]
    return out


def load(database) -> dict[int, list[tuple[datetime, int]]]:
    data = readings()
    database.execute(
        "INSERT INTO parks (park_id, name, timezone, is_disney, is_universal) VALUES (%s, %s, %s, 1, 0)",
        (PARK_ID, "Disney's Animal Kingdom", PARK_TZ),
    )
    database.executemany(
        "INSERT INTO rides (ride_id, park_id, name, tier) VALUES (%s, %s, %s, %s)",
        [(rid, PARK_ID, name, tier) for rid, _, name, tier in RIDES],
    )
    snaps = []
    by_time: dict[datetime, list[int]] = defaultdict(list)
    for ride_id, rows in data.items():
        for at, minutes in rows:
            down = minutes == -999
            snaps.append(
                (
                    ride_id,
                    at.strftime("%Y-%m-%d %H:%M:%S"),
                    None if down else minutes,
                    0 if down else 1,
                    "DOWN" if down else "OPERATING",
                )
            )
            by_time[at].append(minutes)
    database.executemany(
        "INSERT INTO ride_status_snapshots (ride_id, recorded_at, wait_time, computed_is_open, status) "
        "VALUES (%s, %s, %s, %s, %s)",
        snaps,
    )
    # One park snapshot per reading time, written a few seconds after the ride rows, open while
    # any attraction reports.
    parks = []
    for at, values in sorted(by_time.items()):
        waits = [v for v in values if v != -999]
        parks.append(
            (
                PARK_ID,
                (at + timedelta(seconds=4)).strftime("%Y-%m-%d %H:%M:%S"),
                len(values),
                len(waits),
                len(values) - len(waits),
                round(sum(waits) / len(waits), 2) if waits else None,
                1,
            )
        )
    database.executemany(
        "INSERT INTO park_activity_snapshots (park_id, recorded_at, total_rides_tracked, rides_open, rides_closed, "
        "avg_wait_time, park_appears_open) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        parks,
    )
    return data
